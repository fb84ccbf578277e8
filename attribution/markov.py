"""First-order Markov attribution: exact removal effects from transition counts.

Every journey (a deal's touches before it was created, or a lead's touches that never became
a deal) is a walk ``start → s1 → … → sn → conversion | null``. Counting the transitions of
all journeys gives an absorbing Markov chain: the transient states are ``start`` and the
touch states, the absorbing ones are ``conversion`` and ``null``.

- P(conversion) is the probability of absorption in ``conversion`` from ``start``. With Q the
  transient-to-transient block and r the transient-to-conversion column, the absorption
  probabilities x solve (I − Q) x = r, and P = x[start]. We solve that system exactly (LU
  factorizations), never by simulating walks: the same counts always give the same numbers.
- The removal effect of state s is 1 − P(without s) ÷ P, where "without s" sends every walk
  that reaches s to ``null``. By the strong Markov property at the first visit to s,
      P = P(without s) + h_s · x[s],
  where h_s is the probability that a walk from start ever reaches s. So
      removal_effect(s) = h_s · x[s] ÷ P,   h_s = N[start, s] ÷ N[s, s],
  with N = (I − Q)⁻¹ the fundamental matrix (expected visits). (Equivalently: the removal
  effect of s is the probability that a converting walk visits s.) Row ``start`` of N is one
  transposed solve; N[s, s] only depends on s's strongly connected component C (a walk back
  to s never leaves it): it is the diagonal of (I − Q_C)⁻¹. Nothing cheaper exists in
  general — any removal of s, by Sherman–Morrison or by re-solving, needs N[s, s] — so the
  work is in those diagonals, and the method is picked per component:

  ===============================  ============================================================
  component                        N[s, s] from
  ===============================  ============================================================
  one state (most states at the    1 ÷ (1 − Q[s, s])
  share grain)
  fewer than ``DENSE_MIN`` (128)   the inverse of the small block
  states
  large, and thin: its pattern's   a sparse LU in reverse Cuthill–McKee order, whose fill
  envelope in reverse Cuthill–     stays inside the envelope, and one sparse solve per state:
  McKee order < c² ÷ 128 (a long   O(c · envelope)
  cycle of states)
  large and well mixed (journeys   rounds of exact elimination of independent sets (sparse,
  that mix states freely)          cheap: states with no transition between them), then a
                                   dense LU of what remains (the core, m states; LAPACK, BLAS-3)
                                   and the diagonal of U⁻¹ L⁻¹ from the two triangular
                                   inverses: 4/3 m³ flops, half a dense inverse; the
                                   eliminated states' diagonal from sparse bilinear forms on
                                   the core's inverse (``_MixedBlock``)
  a core above ``DENSE_MAX``       refused with a clear error: a dense core takes 8 m² bytes
  (16,384) states                  (2 GiB there) and O(m³) time; use a coarser grain
  ===============================  ============================================================

  With journeys that mix states freely a sparse LU of a large component fills in completely
  (10,000 states: 91M nonzeros) and then needs one sparse solve per state: that took more
  than 10 minutes; the dense core does the same algebra at BLAS-3 speed, and elimination
  takes about a fifth of the states out of it first (10,000 random-mixing states: 20–26 s on
  2 shared cores; 3,000: 1.3–2 s; python -m bench.attribution, BENCHMARKS.md). The two solves (x, and row
  ``start`` of N) walk the components in topological order, the large ones with their
  factors, the rest with one sparse LU per run of small components: a large component is
  never handed to a sparse factorization.

``removal_effects_by_resolving`` does the same thing the textbook way (rebuild and solve the
chain without s) and exists to check this one.

Self-loops (a state touched twice in a row) need no special treatment: they change how long
a walk stays in a state, not where it is absorbed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.linalg import blas, lapack
from scipy.sparse import csc_matrix, csr_matrix, diags, hstack, identity, vstack
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee
from scipy.sparse.linalg import splu, spsolve

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"
ABSORBING = (CONVERSION, NULL)

# Components of at least DENSE_MIN states get a method of their own (dense, or banded sparse);
# smaller ones are inverted whole. A dense block of c states takes 8·c² bytes: DENSE_MAX
# (2 GiB) is where a well-mixed component is refused rather than left to run for hours.
DENSE_MIN = 128
DENSE_MAX = 16_384
# A large component is "thin" (a sparse LU stays sparse) when the envelope of its pattern in
# reverse Cuthill–McKee order is below c² ÷ THIN_ENVELOPE: then c sparse solves cost less
# than one dense factorization.
THIN_ENVELOPE = 128
# Columns solved per batch by the sparse paths: bounded memory (batch × component size).
_BATCH = 256
# Leaves of the recursive triangular inversion: LAPACK's dtrtri on blocks this small.
_LEAF = 192
# Rounds of independent-set elimination before a component's dense core (_MixedBlock), and
# how much slower a sparse × dense product runs than the dense core per flop (measured: ~3
# against ~50–100 GFLOP/s on this 2-core machine).
MAX_LEVELS = 4
_SPARSE_PENALTY = 25
# Rounds stop once the censored chain is this dense (sparse products stop paying).
_MAX_DENSITY = 0.1
# The fixed cost of a round (the greedy independent set, the sparse Schur complement) in dense
# flops per state: ~20 µs per state against ~50 GFLOP/s. A round that saves less is skipped.
_ROUND_OVERHEAD = 1_000_000


class MarkovChain:
    """The absorbing chain built from (from_state, to_state, transitions) counts."""

    def __init__(self, transitions: pd.DataFrame):
        t = transitions[["from_state", "to_state", "transitions"]]
        if t.empty:
            raise ValueError("no transitions: nothing to attribute")
        counts = t["transitions"].to_numpy()
        if (counts <= 0).any():
            raise ValueError("transition counts must be positive")
        from_code, from_names = pd.factorize(t["from_state"])
        to_code, to_names = pd.factorize(t["to_state"])
        if any(name in ABSORBING for name in from_names):
            raise ValueError(f"{CONVERSION} and {NULL} are absorbing: no transitions may leave them")
        if START in set(to_names):
            raise ValueError(f"no transition may enter {START}")

        # Sorted state names give every state the same index on every run (determinism);
        # the absorbing states follow the transient ones. Counts of repeated (from, to) rows
        # are summed as integers, before any division: the same counts in any row order give
        # the same matrix, bit for bit.
        touch_states = sorted((set(from_names) | set(to_names)) - {START, *ABSORBING})
        self.states: list[str] = [START, *touch_states]
        n = len(self.states)
        self.index = {s: i for i, s in enumerate(self.states)}
        position = {**self.index, CONVERSION: n, NULL: n + 1}
        rows = np.array([position[s] for s in from_names], dtype=np.int64)[from_code]
        cols = np.array([position[s] for s in to_names], dtype=np.int64)[to_code]
        pairs, which = np.unique(rows * (n + 2) + cols, return_inverse=True)
        summed = np.bincount(which.ravel(), weights=counts)
        rows, cols = pairs // (n + 2), pairs % (n + 2)
        p = summed / np.bincount(rows, weights=summed, minlength=n)[rows]
        inner = cols < n
        self.q = csc_matrix((p[inner], (rows[inner], cols[inner])), shape=(n, n))
        converting = cols == n
        self.r = np.bincount(rows[converting], weights=p[converting], minlength=n)

    @property
    def touch_states(self) -> list[str]:
        return self.states[1:]

    def system(self) -> csc_matrix:
        return (identity(len(self.states), format="csc") - self.q).tocsc()


def conversion_probabilities(chain: MarkovChain) -> np.ndarray:
    """x[i] = P(absorbed in conversion | at state i)."""
    return np.atleast_1d(spsolve(chain.system(), chain.r))


def removal_effects(
    transitions: pd.DataFrame,
    *,
    dense_min: int = DENSE_MIN,
    dense_max: int = DENSE_MAX,
    max_levels: int = MAX_LEVELS,
) -> pd.DataFrame:
    """One row per touch state: state, reach_probability (h; left 0 where x = 0, as it does
    not matter there), conversion_probability (x), removal_effect; plus the chain's overall
    P(conversion) as ``p_conversion``.

    Exact and deterministic: x and row ``start`` of N by one pass each over the strongly
    connected components in topological order, N's diagonal per component (see the module
    docstring for the method per component size), then removal_effect = h_s · x[s] ÷ P with
    h_s = N[start, s] ÷ N[s, s]. ``dense_min``, ``dense_max`` and ``max_levels`` move the
    thresholds (tests use them to send small chains down every path)."""
    chain = MarkovChain(transitions)
    n = len(chain.states)
    solver = _ComponentSolver(chain.q, dense_min=dense_min, dense_max=dense_max, max_levels=max_levels)
    x = solver.solve(chain.r)
    p = float(x[0])
    start = np.zeros(n)
    start[chain.index[START]] = 1.0
    from_start = solver.solve_transposed(start)  # row `start` of N: N[start, s] for every s
    # A state from which conversion is unreachable (x = 0) has removal effect 0 whatever h is.
    # In real data that is most states at the share grain.
    reach = np.zeros(n)
    converting = x > 0
    reach[converting] = from_start[converting] / solver.returns_diagonal()[converting]
    effect = reach * x / p if p > 0 else np.zeros(n)
    return pd.DataFrame(
        {
            "state": chain.touch_states,
            "reach_probability": reach[1:],
            "conversion_probability": x[1:],
            "removal_effect": np.clip(effect[1:], 0.0, 1.0),  # clip float noise only
            "p_conversion": p,
        }
    )


class _ComponentSolver:
    """(I − Q) solved, and the diagonal of its inverse found, component by component.

    Components are labelled so that every transition between two of them goes from a higher
    label to a lower one (reverse topological order; scipy's labels already are, and
    ``_reverse_topological`` makes sure). (I − Q) x = b is then solved from label 0 upwards
    (a state's x depends on its successors only), (I − Q)ᵀ y = e from the top label down.
    Each large well-mixed component is one dense block; maximal runs of the other components
    (consecutive labels) are solved together with one sparse LU, whose fill stays within
    their small diagonal blocks."""

    def __init__(self, q: csc_matrix, *, dense_min: int, dense_max: int, max_levels: int):
        self.n = q.shape[0]
        self.q_rows = csr_matrix(q)
        self.q_cols = csr_matrix(q.T)
        count, label = connected_components(q, directed=True, connection="strong")
        label = _reverse_topological(self.q_rows, count, label)
        sizes = np.bincount(label, minlength=count)
        order = np.argsort(label, kind="stable")  # states by component, label 0 first
        bounds = np.concatenate(([0], np.cumsum(sizes)))

        # N[s, s]: states on no cycle from their self-loop alone; the rest per component.
        self.diagonal = 1.0 / (1.0 - q.diagonal())
        dense: dict[int, _MixedBlock] = {}
        self.methods: dict[str, int] = {}  # components by method, for tests and curiosity
        for c in np.flatnonzero(sizes > 1):
            members = order[bounds[c] : bounds[c + 1]]
            block = self.q_rows[members][:, members]
            method = _method(block, dense_min=dense_min)
            self.methods[method] = self.methods.get(method, 0) + 1
            if method == "dense":
                dense[c] = _MixedBlock(block, max_levels=max_levels, dense_max=dense_max)
                self.diagonal[members] = dense[c].diagonal()
            elif method == "small":
                system = np.identity(members.size) - block.toarray()
                self.diagonal[members] = np.diag(np.linalg.inv(system))
            else:
                self.diagonal[members] = _thin_diagonal(block)

        # Chunks in label order: each dense block alone, each run of other labels together.
        self.chunks: list[tuple[np.ndarray, _MixedBlock | None]] = []
        done = 0
        for c in sorted(dense):
            if bounds[c] > done:
                self.chunks.append((order[done : bounds[c]], None))
            self.chunks.append((order[bounds[c] : bounds[c + 1]], dense[c]))
            done = bounds[c + 1]
        if done < self.n:
            self.chunks.append((order[done:], None))
        self._sparse: dict[int, object] = {}

    def returns_diagonal(self) -> np.ndarray:
        """N[s, s], the expected visits to s of a walk that starts in s, for every state."""
        return self.diagonal

    def _sparse_lu(self, i: int, states: np.ndarray):
        if i not in self._sparse:
            block = self.q_rows[states][:, states]
            self._sparse[i] = splu((identity(states.size, format="csc") - block).tocsc())
        return self._sparse[i]

    def solve(self, b: np.ndarray) -> np.ndarray:
        """(I − Q)⁻¹ b: successors (lower labels) first."""
        x = np.zeros(self.n)
        for i, (states, block) in enumerate(self.chunks):
            rhs = b[states] + self.q_rows[states] @ x  # x of this chunk is still 0
            x[states] = block.solve(rhs) if block else self._sparse_lu(i, states).solve(rhs)
        return x

    def solve_transposed(self, e: np.ndarray) -> np.ndarray:
        """(I − Q)⁻ᵀ e: predecessors (higher labels) first."""
        y = np.zeros(self.n)
        for i in range(len(self.chunks) - 1, -1, -1):
            states, block = self.chunks[i]
            rhs = e[states] + self.q_cols[states] @ y
            if block:
                y[states] = block.solve_transposed(rhs)
            else:
                y[states] = self._sparse_lu(i, states).solve(rhs, trans="T")
        return y


def _reverse_topological(q: csr_matrix, count: int, label: np.ndarray) -> np.ndarray:
    """Component labels such that every transition between two components goes from the
    higher label to the lower. scipy's strong components (Pearce's algorithm) come out in
    that order; should they not, they are relabelled here, sinks first, level by level."""
    rows, cols = q.nonzero()
    a, b = label[rows], label[cols]
    across = a != b
    if not np.any(a[across] < b[across]):
        return label
    edges = np.unique(np.stack([a[across], b[across]], axis=1), axis=0)
    waiting = np.bincount(edges[:, 0], minlength=count)  # successors not yet labelled
    predecessors = csr_matrix(
        (np.ones(len(edges), dtype=np.int64), (edges[:, 1], edges[:, 0])), shape=(count, count)
    )
    new = np.full(count, -1, dtype=np.int64)
    done, level = 0, np.flatnonzero(waiting == 0)
    while level.size:
        new[level] = np.arange(done, done + level.size)
        done += level.size
        waiting[level] = -1
        waiting -= np.asarray(predecessors[level].sum(axis=0)).ravel()
        level = np.flatnonzero(waiting == 0)
    if done != count:  # cannot happen: the condensation of a graph is acyclic
        raise RuntimeError("the components of the chain do not form a DAG")
    return new[label]


def _method(block: csr_matrix, *, dense_min: int) -> str:
    """small, thin or dense (see the module docstring). A dense one too large to hold is
    refused by _MixedBlock, once elimination has taken out what it can."""
    c = block.shape[0]
    if c < dense_min:
        return "small"
    if _envelope(block) * THIN_ENVELOPE < c * c:
        return "thin"
    return "dense"


def _too_large(component: int, core: int, dense_max: int) -> ValueError:
    return ValueError(
        f"a strongly connected component of {component:,} Markov states mixes too freely for exact "
        f"removal effects: after eliminating what is cheap, {core:,} states remain, whose diagonal needs "
        f"a dense {core:,} × {core:,} factorization ({8 * core * core / 2**30:.1f} GiB, about "
        f"{4 / 3 * core**3:.1e} flops), above the limit of {dense_max:,} states. Use a coarser "
        "markov_state_grain (content rather than share or employee)."
    )


def _envelope(block: csr_matrix) -> int:
    """The envelope (profile) of the block's symmetrized pattern in reverse Cuthill–McKee
    order: an LU without pivoting in that order fills in nothing outside it."""
    pattern = (abs(block) + abs(block.T)).tocsr()
    perm = reverse_cuthill_mckee(pattern, symmetric_mode=True)
    permuted = pattern[perm][:, perm].tocsr()
    rows = np.repeat(np.arange(permuted.shape[0]), np.diff(permuted.indptr))
    first = np.full(permuted.shape[0], permuted.shape[0])
    np.minimum.at(first, rows, permuted.indices)
    return int(np.sum(np.maximum(np.arange(permuted.shape[0]) - first, 0)))


def _thin_diagonal(block: csr_matrix) -> np.ndarray:
    """diag((I − Q_C)⁻¹) of a thin component: a sparse LU in reverse Cuthill–McKee order
    (natural column order, diagonal pivots: the fill stays in the envelope), unit solves in
    batches."""
    c = block.shape[0]
    pattern = (abs(block) + abs(block.T)).tocsr()
    perm = reverse_cuthill_mckee(pattern, symmetric_mode=True)
    system = (identity(c, format="csr") - block)[perm][:, perm].tocsc()
    lu = splu(system, permc_spec="NATURAL", diag_pivot_thresh=0.0)
    out = np.empty(c)
    for lo in range(0, c, _BATCH):
        cols = np.arange(lo, min(lo + _BATCH, c))
        unit = np.zeros((c, cols.size))
        unit[cols, np.arange(cols.size)] = 1.0
        out[cols] = lu.solve(unit)[cols, np.arange(cols.size)]
    diagonal = np.empty(c)
    diagonal[perm] = out
    return diagonal


class _MixedBlock:
    """M = I − Q_C of one large, well-mixed component: a few rounds of exact elimination of
    independent sets, then a dense core.

    Elimination. A set I of states with no transition between any two of them (an
    independent set of the pattern; self-loops allowed) has a diagonal block D = diag(1 − Q_ii)
    in M: eliminating it costs only sparse products and leaves the censored chain on the
    rest J, Q' = Q_JJ + Q_JI D⁻¹ Q_IJ, with S = I − Q' the Schur complement. Its inverse is the
    J block of M⁻¹, so N[j, j] of the states kept is S⁻¹'s diagonal; for an eliminated state

        N[i, i] = 1/d_i + (1/d_i²) · u_iᵀ S⁻¹ v_i,   u_i = Q_{i,J}, v_i = Q_{J,i},

    a bilinear form ("probe") on S⁻¹, which a later round rewrites on its own complement:

        uᵀ S⁻¹ v = u_Iᵀ D⁻¹ v_I + (u_J + Q'_IJᵀ D⁻¹ u_I)ᵀ S'⁻¹ (v_J + Q'_JI D⁻¹ v_I).

    The probes are evaluated at the end against the core's triangular inverses, as sparse ×
    dense products. Each round shrinks the dense core (4/3 m³ flops) and grows the probes
    (sparse, ~25 times slower per flop): rounds go on while they save more than they add,
    at most ``max_levels`` of them, and while the censored chain stays sparse (≤ 10%).
    With journeys that mix states freely about a fifth of the states go this way.

    Solves go through the same rounds: M z = b is z_J = S⁻¹(b_J + Q_JI D⁻¹ b_I),
    z_I = D⁻¹(b_I + Q_IJ z_J), and Mᵀ y = e likewise with the transposes."""

    def __init__(self, block: csr_matrix, *, max_levels: int = 0, dense_max: int = DENSE_MAX):
        c = block.shape[0]
        q = csr_matrix(block)
        states = np.arange(c)  # component index of each state still in q
        self.levels: list[_Level] = []
        u = v = None  # probes: u (probes × states, rows), v (states × probes, columns)
        owners: list[np.ndarray] = []
        inverse_d: list[np.ndarray] = []
        done = np.zeros(0)  # the part of each probe's form already summed
        while len(self.levels) < max_levels and q.nnz < _MAX_DENSITY * q.shape[0] ** 2:
            m = q.shape[0]
            gone = _independent_set(q)
            k = gone.size
            if k * 50 < m:
                break
            keep = np.setdiff1d(np.arange(m), gone)
            inv_d = 1.0 / (1.0 - q.diagonal()[gone])
            scale = diags(inv_d)
            q_ij, q_ji = q[gone][:, keep].tocsr(), q[keep][:, gone].tocsr()
            if u is None:
                new_u, new_v, new_done = q_ij, q_ji.tocsc(), np.zeros(k)
            else:
                u_i, v_i = u[:, gone], v[gone]
                partial = np.asarray(u_i.multiply(v_i.T.tocsr()) @ inv_d).ravel()
                new_u = vstack([u[:, keep] + u_i @ scale @ q_ij, q_ij]).tocsr()
                new_v = hstack([v[keep] + q_ji @ scale @ v_i, q_ji]).tocsc()
                new_done = np.concatenate([done + partial, np.zeros(k)])
            saving = 4 / 3 * (m**3 - (m - k) ** 3)
            cost = _SPARSE_PENALTY * 2 * (new_u.nnz + new_v.nnz) * (m - k) / 2
            cost -= _SPARSE_PENALTY * 2 * ((u.nnz + v.nnz) * m / 2 if u is not None else 0)
            cost += _ROUND_OVERHEAD * m
            if saving <= cost:
                break
            u, v, done = new_u, new_v, new_done
            owners.append(states[gone])
            inverse_d.append(inv_d)
            self.levels.append(_Level(gone, keep, inv_d, q_ij, q_ji))
            q = (q[keep][:, keep] + q_ji @ scale @ q_ij).tocsr()
            states = states[keep]
        if q.shape[0] > dense_max:
            raise _too_large(c, q.shape[0], dense_max)
        self.core = _DenseCore(q)
        self.diagonal_ = np.empty(c)
        self.diagonal_[states] = self.core.diagonal()
        if u is not None:
            forms = done + self.core.bilinear(u, v)
            inv_d = np.concatenate(inverse_d)
            self.diagonal_[np.concatenate(owners)] = inv_d + inv_d**2 * forms
        self.size = c

    def diagonal(self) -> np.ndarray:
        return self.diagonal_

    def solve(self, b: np.ndarray) -> np.ndarray:
        stack = []
        for level in self.levels:
            stack.append(b[level.gone])
            b = b[level.keep] + level.q_ji @ (level.inv_d * b[level.gone])
        z = self.core.solve(b)
        for level, b_i in zip(reversed(self.levels), reversed(stack), strict=True):
            full = np.empty(level.gone.size + level.keep.size)
            full[level.keep] = z
            full[level.gone] = level.inv_d * (b_i + level.q_ij @ z)
            z = full
        return z

    def solve_transposed(self, e: np.ndarray) -> np.ndarray:
        stack = []
        for level in self.levels:
            stack.append(e[level.gone])
            e = e[level.keep] + level.q_ij.T @ (level.inv_d * e[level.gone])
        y = self.core.solve_transposed(e)
        for level, e_i in zip(reversed(self.levels), reversed(stack), strict=True):
            full = np.empty(level.gone.size + level.keep.size)
            full[level.keep] = y
            full[level.gone] = level.inv_d * (e_i + level.q_ji.T @ y)
            y = full
        return y


class _Level(NamedTuple):
    """One round of elimination: the states eliminated and kept (indices into the round's
    states), 1 ÷ (1 − Q_ii) of the eliminated, and Q_IJ, Q_JI."""

    gone: np.ndarray
    keep: np.ndarray
    inv_d: np.ndarray
    q_ij: csr_matrix
    q_ji: csr_matrix


def _independent_set(q: csr_matrix) -> np.ndarray:
    """A maximal set of states no two of which have a transition between them (self-loops
    aside), chosen greedily from the fewest neighbours up (ties by index: deterministic)."""
    both = (abs(q) + abs(q.T)).tocoo()
    off = both.row != both.col
    pattern = csr_matrix((both.data[off], (both.row[off], both.col[off])), shape=q.shape)
    degree = np.diff(pattern.indptr)
    blocked = np.zeros(q.shape[0], dtype=bool)
    chosen = []
    indices, indptr = pattern.indices, pattern.indptr
    for s in np.lexsort((np.arange(degree.size), degree)):
        if not blocked[s]:
            chosen.append(s)
            blocked[indices[indptr[s] : indptr[s + 1]]] = True
    return np.sort(np.array(chosen, dtype=np.intp))


class _DenseCore:
    """M = I − Q held densely: B = Mᵀ = Πᵀ L U (LAPACK dgetrf; Mᵀ is column diagonally
    dominant, as Q's rows sum to at most 1, so no row is interchanged in exact arithmetic,
    but any interchange is honoured), then U and L inverted in place in the same array (upper
    triangle with the diagonal: U⁻¹; strictly lower: L⁻¹ with its unit diagonal implied).
    With those, B⁻¹ = U⁻¹ L⁻¹ Π, and:

    - diag(M⁻¹) = diag(B⁻¹): Σ_k U⁻¹[i, k] · L⁻¹[k, π⁻¹(i)], O(m²);
    - M⁻¹ b = Πᵀ L⁻ᵀ U⁻ᵀ b and M⁻ᵀ e = U⁻¹ L⁻¹ Π e: two triangular matrix-vector products;
    - uᵀ M⁻¹ v = (L⁻¹ Π u) · (U⁻ᵀ v), for many sparse u, v at once.

    4/3 m³ flops (the LU 2/3, each triangular inverse 1/3), against 8/3 for an explicit inverse
    (numpy.linalg.inv); the triangular inverses are recursive, on BLAS-3 dtrmm (LAPACK's
    dtrtri runs at a fraction of that speed here)."""

    def __init__(self, q: csr_matrix):
        m = q.shape[0]
        a = -q.toarray()  # C order: its transpose is Fortran-ordered, as LAPACK wants
        a[np.diag_indices(m)] += 1.0
        w, piv, info = lapack.dgetrf(a.T, overwrite_a=1)
        del a
        if info != 0:
            raise ArithmeticError(f"dgetrf failed ({info}): I − Q of a component is singular")
        _invert_triangles(w, 0, m)
        self.w = w
        self.perm = np.arange(m)
        if np.any(piv != np.arange(m)):
            for i, p in enumerate(piv):  # LAPACK's sequential row swaps as one permutation
                self.perm[i], self.perm[p] = self.perm[p], self.perm[i]
        self.pivoted = bool(np.any(self.perm != np.arange(m)))

    def diagonal(self) -> np.ndarray:
        w, m = self.w, self.w.shape[0]
        out = np.empty(m)
        step = 512
        if not self.pivoted:  # Σ_k U⁻¹[i, k] L⁻¹[k, i] = W[i, i] + Σ_{k>i} W[i, k] W[k, i]
            for lo in range(0, m, step):
                hi = min(m, lo + step)
                square = w[lo:hi, lo:hi]
                out[lo:hi] = (
                    np.diag(square)
                    + np.einsum("ij,ji->i", np.triu(square, 1), np.tril(square, -1))
                    + np.einsum("ij,ji->i", w[lo:hi, hi:], w[hi:, lo:hi])
                )
            return out
        inverse_perm = np.empty(m, dtype=np.intp)
        inverse_perm[self.perm] = np.arange(m)
        k = np.arange(m)[:, None]
        for lo in range(0, m, step):
            rows = np.arange(lo, min(m, lo + step))
            cols = inverse_perm[rows]
            upper = np.where(k >= rows, w[rows].T, 0.0)  # U⁻¹[i, k] as [k, i]
            lower = np.where(k > cols, w[:, cols], 0.0) + (k == cols)  # L⁻¹[k, π⁻¹(i)]
            out[rows] = np.einsum("ki,ki->i", upper, lower)
        return out

    def solve(self, b: np.ndarray) -> np.ndarray:
        z = blas.dtrmv(self.w, np.array(b, dtype=float), lower=0, trans=1)
        z = blas.dtrmv(self.w, z, lower=1, trans=1, diag=1)
        x = np.empty_like(z)
        x[self.perm] = z
        return x

    def solve_transposed(self, e: np.ndarray) -> np.ndarray:
        z = blas.dtrmv(self.w, np.array(e, dtype=float)[self.perm], lower=1, diag=1)
        return blas.dtrmv(self.w, z, lower=0)

    def bilinear(self, u: csr_matrix, v: csc_matrix) -> np.ndarray:
        """u_pᵀ M⁻¹ v_p for every row u_p of u and column v_p of v: (L⁻¹ Π u_p) · (U⁻ᵀ v_p), as
        sparse × dense products with one triangle materialized at a time."""
        lower_t = np.triu(self.w.T, 1)  # (L⁻¹)ᵀ, C order
        lower_t[np.diag_indices(lower_t.shape[0])] = 1.0
        left = csr_matrix(u)[:, self.perm] @ lower_t  # rows: (L⁻¹ Π u_p)ᵀ
        del lower_t
        upper = np.triu(self.w)  # U⁻¹, C order
        right = csr_matrix(v.T) @ upper  # rows: (U⁻ᵀ v_p)ᵀ
        return np.einsum("pj,pj->p", left, right)


def _invert_triangles(w: np.ndarray, lo: int, hi: int) -> None:
    """In place on w[lo:hi, lo:hi] (Fortran order) holding an LU: the upper triangle with the
    diagonal becomes U⁻¹, the strictly lower one the strictly lower part of L⁻¹.
    [[T11, T12], [0, T22]]⁻¹ = [[T11⁻¹, −T11⁻¹ T12 T22⁻¹], [0, T22⁻¹]], likewise for L:
    c³/3 flops per triangle, nearly all in dtrmm on large blocks."""
    n = hi - lo
    if n <= _LEAF:
        square = np.array(w[lo:hi, lo:hi], order="F")
        upper, info_u = lapack.dtrtri(square, lower=0, unitdiag=0)
        lower, info_l = lapack.dtrtri(square, lower=1, unitdiag=1)
        if info_u or info_l:
            raise ArithmeticError("a triangular factor is singular")
        w[lo:hi, lo:hi] = np.triu(upper) + np.tril(lower, -1)
        return
    mid = lo + n // 2
    _invert_triangles(w, lo, mid)
    _invert_triangles(w, mid, hi)
    def copy(rows: slice, cols: slice) -> np.ndarray:
        return np.array(w[rows, cols], order="F")

    top, bottom = slice(lo, mid), slice(mid, hi)
    first = copy(top, top)
    u12 = blas.dtrmm(-1.0, first, copy(top, bottom), side=0, lower=0, overwrite_b=1)
    l21 = blas.dtrmm(1.0, first, copy(bottom, top), side=1, lower=1, diag=1, overwrite_b=1)
    del first
    second = copy(bottom, bottom)
    w[top, bottom] = blas.dtrmm(1.0, second, u12, side=1, lower=0, overwrite_b=1)
    w[bottom, top] = blas.dtrmm(-1.0, second, l21, side=0, lower=1, diag=1, overwrite_b=1)


def removal_effects_by_resolving(transitions: pd.DataFrame, states: Iterable[str] | None = None) -> dict:
    """The textbook definition, for tests: for each state, send every transition into it to
    ``null``, solve the whole chain again, and compare P(conversion)."""
    chain = MarkovChain(transitions)
    p = float(conversion_probabilities(chain)[0])
    effects = {}
    for s in states if states is not None else chain.touch_states:
        t = transitions.copy()
        t.loc[t["to_state"] == s, "to_state"] = NULL
        t = t[t["from_state"] != s]
        if t.empty or not (t["to_state"] == CONVERSION).any():
            effects[s] = 1.0 if p > 0 else 0.0
            continue
        without = MarkovChain(t)
        p_without = float(conversion_probabilities(without)[0]) if START in set(t["from_state"]) else 0.0
        effects[s] = 1.0 - p_without / p if p > 0 else 0.0
    return effects


def journeys_to_transitions(journeys: Iterable[tuple[list[str], bool]]) -> pd.DataFrame:
    """Transition counts from explicit journeys (states in order, converted?) — the same
    counting the dbt model does set-based in SQL; used by tests and examples."""
    counts: dict[tuple[str, str], int] = {}
    for states, converted in journeys:
        path = [START, *states, CONVERSION if converted else NULL]
        for a, b in zip(path, path[1:], strict=False):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    return pd.DataFrame(
        [(a, b, n) for (a, b), n in sorted(counts.items())], columns=["from_state", "to_state", "transitions"]
    )
