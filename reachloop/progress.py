"""Progress through a command's steps, on stderr: a bar redrawn in place on a terminal, one
line per step where output goes to a log or a pipe (Airflow, CI, `| tee`), which a bar's
carriage returns would garble."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24


class Progress:
    def __init__(self, what: str, total: int, stream: TextIO | None = None) -> None:
        self.what, self.total, self.done = what, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.label = ""
        self.started = time.perf_counter()

    def step(self, label: str) -> None:
        """A step starts (the previous one, if any, is done)."""
        if self.label:
            self.done += 1
        self.label = label
        if self.tty:
            self._draw()
        else:
            print(f"{self.what}: [{self.done + 1}/{self.total}] {label}", file=self.stream, flush=True)

    def advance(self, label: str) -> None:
        """One more of the total is done (counted work, such as files): redraw, no log line."""
        self.done = min(self.done + 1, self.total)
        self.label = label
        if self.tty:
            self._draw()

    def print(self, line: str) -> None:
        """A line of the command's own output (stdout), printed above the bar."""
        if self.tty:
            self._clear()
        print(line, flush=True)
        if self.tty and self.label:
            self._draw()

    def close(self) -> None:
        if self.tty:
            self._clear()

    def _draw(self) -> None:
        filled = round(WIDTH * self.done / self.total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        seconds = time.perf_counter() - self.started
        label = self.label if len(self.label) <= 48 else "…" + self.label[-47:]
        self.stream.write(f"\r\033[K{self.what} [{bar}] {self.done}/{self.total} {label} ({seconds:.0f}s)")
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()
