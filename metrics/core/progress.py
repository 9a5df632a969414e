"""A small progress bar on stderr for long runs; on in a terminal and in a notebook (a Jupyter
kernel shows stderr's carriage returns as one updating line), off otherwise, when
`progress=False` is passed, or when METRICS_PROGRESS=0 is set."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def progress_enabled(requested: bool | None, stream: TextIO | None = None) -> bool:
    if requested is not None:
        return requested
    if os.environ.get("METRICS_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    stream = stream or sys.stderr
    if stream is sys.stderr and "ipykernel" in sys.modules:
        return True  # a notebook
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """`with Progress(total, "Computing", enabled=True) as bar: bar.advance(note="age")`."""

    WIDTH = 28

    def __init__(
        self, total: int, label: str, *, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = 0
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, steps: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + steps)
        if not self.enabled:
            return
        now = time.monotonic()
        if self._interactive:
            if self.done < self.total and now - self._last_draw < 0.1:
                return
        else:  # a log, not a terminal: one line per tenth of the way
            decile = 10 * self.done // self.total
            if decile == self._last_decile:
                return
            self._last_decile = decile
        self._last_draw = now
        self._draw(note)

    def _draw(self, note: str) -> None:
        filled = int(self.WIDTH * self.done / self.total)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        elapsed = time.monotonic() - self.started
        line = f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:.1f}s {note[:30]}"
        if self._interactive:
            self.stream.write("\r" + line.ljust(80))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._interactive:
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False
