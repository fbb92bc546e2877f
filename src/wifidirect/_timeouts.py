"""Timeouts as every wifidirect call takes them."""

from __future__ import annotations

import math
import numbers
import threading
from typing import cast

__all__ = ["check_timeout"]


def check_timeout(timeout: object) -> float | None:
    """``None`` (wait forever) or a finite number of seconds >= 0; ``inf`` means forever."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
    try:
        value = float(timeout)
    except OverflowError:  # an int beyond float range: positive ones mean "no limit"
        value = math.inf if cast(int, timeout) > 0 else -math.inf
    if math.isnan(value) or value < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, not {timeout!r}")
    if value >= threading.TIMEOUT_MAX:
        return None
    return value
