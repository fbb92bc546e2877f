"""Shared fixtures. The suite uses its own pytest plugin (wifidirect.testing): every test runs
against a freshly reset simulator and fails if the simulator counted a contract violation (a
call undefined or deadlocking on real Windows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from wifidirect.testing import SimController

pytest_plugins = ["wifidirect.testing"]

# Hypothesis: bounded by default; `--hypothesis-profile=ci` (tools/campaign --ci) or `=long`
# (tools/campaign) for campaigns.
_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=60, stateful_step_count=40, **_COMMON)
settings.register_profile("ci", max_examples=300, stateful_step_count=60, **_COMMON)
settings.register_profile("long", max_examples=2000, stateful_step_count=80, **_COMMON)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _simulator_contract(wfd_sim: SimController) -> Iterator[SimController]:
    yield wfd_sim


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--probe-file",
        metavar="FILE",
        help="a probe file recorded by `wifidirect probe` on real hardware (-m hardware)",
    )
