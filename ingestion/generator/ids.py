"""Deterministic, collision-free identifiers and random streams.

Ids are a bijective 64-bit mix of (index, salt), printed as hex: unique by construction
(no birthday collisions even at SF100) yet opaque, and different for every seed.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stream(seed: int, name: str) -> np.random.Generator:
    """One independent random stream per concern, so editing one module leaves the
    others' data unchanged."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _mix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finalizer: a bijection on uint64.
    z = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def hex_ids(prefix: str, index: np.ndarray, seed: int, salt: str, width: int = 16) -> pa.Array:
    """`prefix` + `width` hex digits of mix(index + salt). width 16 is collision-free."""
    s = np.uint64(zlib.crc32(salt.encode()) * 1_000_003 + seed * 7_919)
    with np.errstate(over="ignore"):
        z = _mix(np.asarray(index, dtype=np.uint64) + (s << np.uint64(32)) + s)
    shifts = np.arange(60, 60 - 4 * width, -4, dtype=np.uint64)
    digits = _HEX[((z[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)]
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.concatenate([np.broadcast_to(head, (len(z), len(head))), digits], axis=1)
    raw = np.ascontiguousarray(chars).view(f"S{len(head) + width}").ravel()
    return pa.array(raw, type=pa.binary()).cast(pa.string())


def seq_ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """Readable sequential ids such as emp_00042 (for small, human-facing entities)."""
    index = np.asarray(index, dtype=np.int64)
    digits = (index[:, None] // (10 ** np.arange(width - 1, -1, -1))) % 10
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.concatenate(
        [np.broadcast_to(head, (len(index), len(head))), (digits + 48).astype(np.uint8)], axis=1
    )
    raw = np.ascontiguousarray(chars).view(f"S{len(head) + width}").ravel()
    return pa.array(raw, type=pa.binary()).cast(pa.string())
