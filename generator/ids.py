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
    index = np.asarray(index, dtype=np.uint64)
    shifts = np.arange(60, 60 - 4 * width, -4, dtype=np.uint64)
    chars = _with_prefix(prefix, len(index), width)
    for a in range(0, len(index), _CHUNK):
        with np.errstate(over="ignore"):
            z = _mix(index[a : a + _CHUNK] + (s << np.uint64(32)) + s)
        chars[a : a + _CHUNK, -width:] = _HEX[((z[:, None] >> shifts) & np.uint64(0xF)).astype(np.intp)]
    return _strings(chars)


def seq_ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """Readable sequential ids such as emp_00042 (for small, human-facing entities)."""
    index = np.asarray(index, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1)
    chars = _with_prefix(prefix, len(index), width)
    for a in range(0, len(index), _CHUNK):
        digits = (index[a : a + _CHUNK, None] // powers) % 10
        chars[a : a + _CHUNK, -width:] = digits + 48
    return _strings(chars)


# Ids are made a slice at a time: one digit per uint64 for a whole column of tens of millions
# of ids would be gigabytes of temporaries.
_CHUNK = 1 << 16


def _with_prefix(prefix: str, n: int, width: int) -> np.ndarray:
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.empty((n, len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    return chars


def _strings(chars: np.ndarray) -> pa.Array:
    """Rows of fixed-width ASCII as an Arrow string array, over the same bytes (no copy)."""
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64 if (n + 1) * w >= 2**31 else np.int32)
    kind = pa.large_string() if offsets.dtype == np.int64 else pa.string()
    arr = pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])
    return arr.cast(pa.string()) if kind != pa.string() else arr
