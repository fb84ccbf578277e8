"""The in-memory shape of one event type's clean rows, typed as the contract says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventlog.contract import BIGINT, DOUBLE, MONEY, RATE, TIMESTAMP, event_type_of
from generator.config import YEAR

# How each row prints its timestamps: a real mix of UTC and local offsets, as exports do.
OFFSET_SUFFIXES = ("Z", "+00:00", "+01:00", "+02:00", "-05:00", "+05:30")
OFFSET_MINUTES = np.array([0, 0, 60, 120, -300, 330], dtype=np.int64)
OFFSET_WEIGHTS = np.array([0.50, 0.05, 0.12, 0.20, 0.10, 0.03])

ARROW_TYPES = {
    TIMESTAMP: pa.timestamp("s", tz="UTC"),
    BIGINT: pa.int64(),
    DOUBLE: pa.float64(),
    MONEY: pa.decimal128(18, 2),
    RATE: pa.decimal128(18, 8),
}


# Rows of one chunk: bounds the temporaries of building, rendering and writing rows, so
# that memory does not grow with the size of an event type. A multiple of the Parquet
# row-group size, so that files written chunk by chunk get the row groups of one write.
CHUNK_ROWS = 1 << 18


def month_of(t: np.ndarray) -> np.ndarray:
    """Month index 0..11 of the data year (clipped), as int8."""
    months = np.empty(len(t), dtype=np.int8)
    for a in range(0, len(t), CHUNK_ROWS):
        m = t[a : a + CHUNK_ROWS].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        months[a : a + CHUNK_ROWS] = (m - (YEAR - 1970) * 12).clip(0, 11)
    return months


@dataclass
class Events:
    """Clean, distinct events of one type (the ground truth of what should land)."""

    name: str
    table: pa.Table  # contract fields in contract order, then extra fields (strings)
    time: np.ndarray  # epoch seconds of each row's own moment: decides its month file
    offset: np.ndarray  # index into OFFSET_SUFFIXES, per row

    def __len__(self) -> int:
        return self.table.num_rows

    def months(self) -> np.ndarray:
        return month_of(self.time)

    def take(self, rows: np.ndarray) -> pa.Table:
        return self.table.take(pa.array(rows, pa.int64()))


@dataclass
class LazyEvents:
    """Events too many to hold as a table: each row is a function of a few small arrays,
    and `take` builds the typed rows asked for. Same rows, same order as a table would hold."""

    name: str
    n: int
    month: np.ndarray  # month index of each row's own moment (int8): decides its month file
    offset: np.ndarray
    columns: Callable[[np.ndarray], dict[str, object]]  # row indices -> make_table columns

    def __len__(self) -> int:
        return self.n

    def months(self) -> np.ndarray:
        return self.month

    def take(self, rows: np.ndarray) -> pa.Table:
        return make_table(self.name, self.columns(np.asarray(rows, dtype=np.int64)), len(rows))


def draw_offsets(rng: np.random.Generator, n: int) -> np.ndarray:
    """Each row's printed offset. Drawn chunk by chunk: the same values as one draw of n."""
    offset = np.empty(n, dtype=np.int8)
    for a in range(0, n, CHUNK_ROWS):
        b = min(n, a + CHUNK_ROWS)
        offset[a:b] = rng.choice(len(OFFSET_SUFFIXES), size=b - a, p=OFFSET_WEIGHTS)
    return offset


def make_events(
    name: str,
    columns: dict[str, object],
    time: np.ndarray,
    rng: np.random.Generator,
    extras: dict[str, object] | None = None,
) -> Events:
    """Type the columns per the contract. Timestamps come in as int64 epoch seconds, money as
    int64 cents; absent optional fields become all-null columns."""
    table = make_table(name, columns, len(time), extras)
    return Events(name, table, np.asarray(time, dtype=np.int64), draw_offsets(rng, len(time)))


def make_table(
    name: str, columns: dict[str, object], n: int, extras: dict[str, object] | None = None
) -> pa.Table:
    et = event_type_of(name)
    arrays, names = [], []
    for f in et.fields:
        values = columns.get(f.name)
        target = ARROW_TYPES.get(f.type, pa.string())
        if values is None:
            arr = pa.nulls(n, target)
        elif f.type == TIMESTAMP:
            arr = pa.array(np.asarray(values, dtype=np.int64), pa.int64()).cast(target)
        elif f.type == MONEY:
            arr = _cents_to_decimal(values)
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            arr = values.cast(target)
        else:
            arr = pa.array(values, target)
        if len(arr) != n:
            raise ValueError(f"{name}.{f.name}: {len(arr)} values for {n} rows")
        arrays.append(arr)
        names.append(f.name)
    for key, values in (extras or {}).items():
        arrays.append(values if isinstance(values, pa.Array) else pa.array(values, pa.string()))
        names.append(key)
    return pa.table(arrays, names=names)


def _cents_to_decimal(values: object) -> pa.Array:
    # Through text, so that the decimal is exact (amounts are non-negative cents).
    cents = values if isinstance(values, pa.Array) else pa.array(values, pa.int64())
    whole = pc.divide(cents, 100)  # integer division for ints
    frac = pc.subtract(cents, pc.multiply(whole, 100))
    text = pc.binary_join_element_wise(
        pc.cast(whole, pa.string()), pc.utf8_lpad(pc.cast(frac, pa.string()), 2, "0"), "."
    )
    return text.cast(pa.decimal128(18, 2))
