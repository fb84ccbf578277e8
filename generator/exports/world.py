"""The synthetic company as the exports writers see it: the generator's objects, and each
event type as the vendor exports record it (generator/exports/limits.py), built on demand."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.config import Scale
from generator.content import Contents, Shares
from generator.events import Events, LazyEvents
from generator.people import Company


@dataclass
class World:
    scale: Scale
    seed: int
    company: Company
    contents: Contents
    shares: Shares
    # The builders generate() lays out into DIR/landing: every type has its own random
    # streams, so building one again gives the same events.
    build: Mapping[str, Callable[[], Events | LazyEvents]]
    _exported: dict[str, Events] = field(default_factory=dict)

    def exported(self, name: str) -> Events:
        """Event type ``name`` as the vendor exports record it (every limit applied), as a
        table: audience rows too, since an export lists its members one by one."""
        if name not in self._exported:
            from generator.exports.limits import VENDOR_LIMITS, as_exported

            ev = as_exported(name, self.build[name](), self, VENDOR_LIMITS)
            if isinstance(ev, LazyEvents):
                table = ev.take(np.arange(len(ev)))
                time = pc.cast(table["observed_at"], pa.int64()).to_numpy()
                ev = Events(ev.name, table, time, ev.offset)
            self._exported[name] = ev
        return self._exported[name]

    def share_index(self, share_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The index (in Shares) of each share id."""
        return pc.index_in(share_ids, value_set=self.shares.share_id).to_numpy(zero_copy_only=False)
