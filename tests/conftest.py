"""Shared fixtures. Every test runs against a freshly reset simulator, and fails if the
simulator counted any contract violation (a call undefined or deadlocking on real Windows)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from helpers import CHANNELS, settle
from hypothesis import HealthCheck, settings

from wifidirect import _dispatch, sim

# Hypothesis: bounded by default; `--hypothesis-profile=ci` (tools/campaign --ci) or `=long`
# (tools/campaign) for campaigns.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=60, stateful_step_count=40, **_COMMON)
settings.register_profile("ci", max_examples=300, stateful_step_count=60, **_COMMON)
settings.register_profile("long", max_examples=2000, stateful_step_count=80, **_COMMON)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _simulator_contract() -> Iterator[None]:
    sim.reset()
    yield
    gc.collect()  # finalizers of dropped objects run now, inside the test's accounting
    stats = settle()
    assert stats.violations == 0, f"simulator counted violations: {stats.violations_by_kind}"


@pytest.fixture(params=["queued", "direct"] if CHANNELS else ["direct"])
def completion_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once per way an asyncio completion can travel: queued in the loop's C
    channel (where the build has channels) and direct through the extern "Python" callback
    (the Windows path, and the fallback for loops that cannot watch a descriptor)."""
    if request.param == "direct":
        monkeypatch.setattr(_dispatch._Inbox, "_attach_channel", lambda self, loop: None)
    return str(request.param)
