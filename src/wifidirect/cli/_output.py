"""Output of the command line: text or one JSON document, progress, tables, percentiles."""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Output", "Progress", "Status", "error_info", "percentile", "table"]


class Output:
    """Where a command's result goes: lines of text, or (``--json``) one JSON document."""

    def __init__(self, json_mode: bool, stream: TextIO | None = None) -> None:
        self.json = json_mode
        self.stream = sys.stdout if stream is None else stream

    def line(self, text: str = "") -> None:
        """A line of text output (nothing in JSON mode)."""
        if not self.json:
            print(text, file=self.stream, flush=True)

    def document(self, doc: dict[str, Any]) -> None:
        """The JSON document (nothing in text mode)."""
        if self.json:
            json.dump(doc, self.stream, indent=2, sort_keys=False)
            self.stream.write("\n")
            self.stream.flush()


class Progress:
    """Progress of concurrent opens.

    On a terminal: one line redrawn in place (carriage return) as opens complete and as time
    passes. Elsewhere: a plain line each time another tenth of the opens has completed (each
    completion when there are ten or fewer), so logs stay short and the same from run to run.
    ``stream=None`` shows nothing.
    """

    def __init__(self, total: int, stream: TextIO | None, live: bool | None = None) -> None:
        self.total = total
        self.stream = stream
        self.live = bool(stream is not None and stream.isatty()) if live is None else live
        self.opened = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._shown_tenths = 0
        self._last_draw = 0.0
        self._drawn = 0  # length of the live line drawn last

    @property
    def done(self) -> int:
        return self.opened + self.failed

    def _text(self) -> str:
        elapsed = time.perf_counter() - self.started
        return (
            f"  progress {self.done:>{len(str(self.total))}}/{self.total} done: "
            f"{self.opened} opened, {self.failed} failed, {self.total - self.done} pending "
            f"({elapsed:.1f} s)"
        )

    def _draw(self) -> None:
        assert self.stream is not None
        # The line must fit the terminal: a longer one wraps, and "\r" then redraws only its
        # last part, leaving a trail of stale lines. Narrow terminals lose the bar, then text.
        columns = shutil.get_terminal_size().columns - 1
        text = self._text()
        width = min(20, columns - len(text) - 2)  # the bar takes what room is left
        if width >= 5:
            filled = width * self.done // self.total if self.total else width
            text = f"[{'#' * filled}{'.' * (width - filled)}]{text}"
        else:
            text = text.lstrip()[: max(columns, 1)]
        # Spaces, not an ANSI erase: a Windows console without VT processing shows escapes.
        self.stream.write("\r" + text.ljust(min(self._drawn, columns)))
        self.stream.flush()
        self._drawn = len(text)
        self._last_draw = time.perf_counter()

    def update(self, ok: bool) -> None:
        """One open completed (``ok``: it opened)."""
        if ok:
            self.opened += 1
        else:
            self.failed += 1
        if self.stream is None:
            return
        if self.live:
            if self.done == self.total or time.perf_counter() - self._last_draw >= 0.05:
                self._draw()
            return
        tenths = 10 * self.done // self.total if self.total > 10 else self.done
        if tenths > self._shown_tenths:
            self._shown_tenths = tenths
            print(self._text().rstrip(), file=self.stream, flush=True)

    def tick(self) -> None:
        """Time passed: redraw the live line (its elapsed time)."""
        if self.stream is not None and self.live and self.done < self.total:
            self._draw()

    def finish(self) -> None:
        """All opens completed: end the live line."""
        if self.stream is not None and self.live:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


class Status:
    """One status line redrawn in place on a terminal ("searching: 3 devices found (2.1 s)"),
    never wider than it; nothing elsewhere (``stream=None`` or not a terminal)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None and stream.isatty() else None
        self.started = time.perf_counter()
        self._drawn = 0

    def update(self, text: str) -> None:
        """Show ``text`` with the time elapsed."""
        if self.stream is None:
            return
        columns = shutil.get_terminal_size().columns - 1
        line = f"  {text} ({time.perf_counter() - self.started:.1f} s)"[: max(columns, 1)]
        self.stream.write("\r" + line.ljust(min(self._drawn, columns)))
        self.stream.flush()
        self._drawn = len(line)

    def clear(self) -> None:
        """Erase the line (before other output)."""
        if self.stream is not None and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in (0, 1]) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def table(rows: Sequence[tuple[str, str]], title: str) -> list[str]:
    """A two-column table, labels left and values right-aligned, ASCII only."""
    left = max(len(label) for label, _ in rows)
    right = max(len(value) for _, value in rows)
    rule = "  " + "-" * (left + 3 + right)
    lines = [title, rule]
    lines += [f"  {label:<{left}}   {value:>{right}}" for label, value in rows]
    lines.append(rule)
    return lines


def error_info(exc: BaseException) -> dict[str, Any]:
    """An exception as JSON: its type and message, and the Win32 details when it has them."""
    # Imported here: this module must not depend on the facade (tests import it alone).
    from ..errors import OpenSessionError, WFDError, error_name  # noqa: PLC0415

    info: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, WFDError):
        info.update(winerror=exc.winerror, name=error_name(exc.winerror), function=exc.function)
    if isinstance(exc, OpenSessionError):
        info.update(reason_code=exc.reason_code, address=exc.address)
    return info
