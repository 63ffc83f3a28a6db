"""A minimal progress bar for long fits (no dependency)."""

import sys
import time


class Progress:
    """Prints ``[#####-----] it/total  objective ...`` on one refreshed line of stderr."""

    def __init__(self, total, desc="fit", stream=None, width=24, min_interval=0.1):
        self.total, self.desc, self.width = total, desc, width
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, it, **info):
        now = time.perf_counter()
        if now - self._last < self.min_interval and it < self.total:
            return
        self._last = now
        frac = min(1.0, it / self.total) if self.total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        extra = "  ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())
        self.stream.write(f"\r{self.desc} [{bar}] {it}/{self.total}  {extra}  {now - self.start:.1f}s")
        self.stream.flush()

    def close(self, message=""):
        self.stream.write(f"  {message}\n" if message else "\n")
        self.stream.flush()
