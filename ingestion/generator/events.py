"""The in-memory shape of one event type's clean rows, typed as the contract says."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import BIGINT, MONEY, TIMESTAMP, event_type_of

# How each row prints its timestamps: a real mix of UTC and local offsets, as exports do.
OFFSET_SUFFIXES = ("Z", "+00:00", "+01:00", "+02:00", "-05:00", "+05:30")
OFFSET_MINUTES = np.array([0, 0, 60, 120, -300, 330], dtype=np.int64)
OFFSET_WEIGHTS = np.array([0.50, 0.05, 0.12, 0.20, 0.10, 0.03])

ARROW_TYPES = {
    TIMESTAMP: pa.timestamp("s", tz="UTC"),
    BIGINT: pa.int64(),
    MONEY: pa.decimal128(18, 2),
}


@dataclass
class Events:
    """Clean, distinct events of one type (the ground truth of what should land)."""

    name: str
    table: pa.Table  # contract fields in contract order, then extra fields (strings)
    time: np.ndarray  # epoch seconds of each row's own moment: decides its month file
    offset: np.ndarray  # index into OFFSET_SUFFIXES, per row

    def __len__(self) -> int:
        return self.table.num_rows


def make_events(
    name: str,
    columns: dict[str, object],
    time: np.ndarray,
    rng: np.random.Generator,
    extras: dict[str, object] | None = None,
) -> Events:
    """Type the columns per the contract. Timestamps come in as int64 epoch seconds, money as
    int64 cents; absent optional fields become all-null columns."""
    et = event_type_of(name)
    n = len(time)
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
    offset = rng.choice(len(OFFSET_SUFFIXES), size=n, p=OFFSET_WEIGHTS).astype(np.int8)
    return Events(name, pa.table(arrays, names=names), np.asarray(time, dtype=np.int64), offset)


def _cents_to_decimal(values: object) -> pa.Array:
    # Through text, so that the decimal is exact (amounts are non-negative cents).
    cents = values if isinstance(values, pa.Array) else pa.array(values, pa.int64())
    whole = pc.divide(cents, 100)  # integer division for ints
    frac = pc.subtract(cents, pc.multiply(whole, 100))
    text = pc.binary_join_element_wise(
        pc.cast(whole, pa.string()), pc.utf8_lpad(pc.cast(frac, pa.string()), 2, "0"), "."
    )
    return text.cast(pa.decimal128(18, 2))
