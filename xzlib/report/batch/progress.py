"""What a build shows while it runs: a live table on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["Progress"]


class Progress:
    """Per-report status: queued, running, then ok or the failure.

    Parameters
    ----------
    names : dict
        ``{report name: label}`` (a street's name, the district overview's title).
    mode : {"auto", "live", "plain", "none"}
        ``auto``: live (rich) on a terminal, plain lines otherwise.  ``plain`` prints one
        line per finished report: ``[ 3/10] ok      440402002 梅华街道  1.9 s``.
    total : int
        Reports to build.
    """

    def __init__(self, names: dict[str, str], mode: str, total: int) -> None:
        self.names = names
        self.state = dict.fromkeys(names, "queued")
        self.seconds: dict[str, float] = {}
        self.total = total
        self.done = 0
        self.t0 = time.monotonic()
        if mode == "auto":
            mode = "live" if sys.stdout.isatty() else "plain"
        if mode == "live":
            try:
                import rich.live  # noqa: F401
            except ImportError:  # rich is optional: fall back to plain lines
                mode = "plain"
        self.mode = mode
        self._live = None
        self._lock = threading.Lock()

    def __rich__(self):
        from rich.table import Table

        styles = {"ok": "green", "queued": "dim", "running": "cyan"}
        table = Table(
            title=f"xz build  {self.done}/{self.total}  {time.monotonic() - self.t0:.1f} s",
            title_justify="left",
            expand=False,
        )
        for column in ("report", "", "status"):
            table.add_column(column)
        table.add_column("s", justify="right")
        for name, state in self.state.items():
            secs = self.seconds.get(name)
            table.add_row(name, self.names[name], f"[{styles.get(state, 'bold red')}]{state}",
                          "" if secs is None else f"{secs:.1f}")
        return table

    def start(self) -> None:
        """Start the live display, if any."""
        if self.mode == "live":
            from rich.live import Live

            self._live = Live(self, refresh_per_second=4, transient=False)
            self._live.start()

    def running(self, name: str) -> None:
        """Mark a queued report as running."""
        if self.state.get(name) == "queued":
            self.state[name] = "running"

    def finished(self, name: str, status: str, seconds: float | None) -> None:
        """Record a finished report (and print its line in plain mode)."""
        with self._lock:
            self.state[name] = status
            if seconds is not None:
                self.seconds[name] = seconds
            self.done += 1
            if self.mode == "plain":
                width = len(str(self.total))
                sys.stdout.write(
                    f"[{self.done:>{width}}/{self.total}] {status:<7} {name} "
                    f"{self.names.get(name, '')}"
                    f"{'' if seconds is None else f'  {seconds:.1f} s'}\n"
                )
                sys.stdout.flush()

    def stop(self) -> None:
        """Stop the live display, if any."""
        if self._live is not None:
            self._live.stop()
            self._live = None
