"""A plain stderr progress bar (no dependency)."""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = round(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\rgenerate [{bar}] {self.done}/{self.total} {label:<28}")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()
