"""Shared fixtures. Every test runs against a freshly reset simulator, and fails if the
simulator counted any contract violation (a call undefined or deadlocking on real Windows)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from helpers import settle

from wifidirect import sim


@pytest.fixture(autouse=True)
def _simulator_contract() -> Iterator[None]:
    sim.reset()
    yield
    gc.collect()  # finalizers of dropped objects run now, inside the test's accounting
    stats = settle()
    assert stats.violations == 0, f"simulator counted violations: {stats.violations_by_kind}"
