"""Shared fixtures. The suite uses its own pytest plugin (wifidirect.testing): every test runs
against a freshly reset simulator and fails if the simulator counted a contract violation (a
call undefined or deadlocking on real Windows)."""

from __future__ import annotations

import os
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
def _simulator_contract(request: pytest.FixtureRequest) -> Iterator[SimController | None]:
    if os.environ.get("WIFIDIRECT_REAL_STACK"):
        # tools/hwsim-test: the tests run on real wpa_supplicant, not on the simulator.
        yield None
        return
    wfd_sim: SimController = request.getfixturevalue("wfd_sim")
    yield wfd_sim


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--probe-file",
        metavar="FILE",
        help="a probe file recorded by `wifidirect probe` on real hardware (-m hardware)",
    )
