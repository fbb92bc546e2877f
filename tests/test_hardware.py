"""Real hardware against the simulator's choices: a probe file recorded by `wifidirect probe`
on Windows with a paired device, compared with what the simulator does (docs/simulator.md).

Deselected by default (the `hardware` marker); run with
``python -m pytest -m hardware --probe-file wifidirect-probe.json``. Without a file it fails:
it never passes for want of hardware.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from wifidirect.cli._probe import FORMAT, compare


@pytest.fixture
def probe_record(request: pytest.FixtureRequest) -> dict[str, Any]:
    name = request.config.getoption("--probe-file") or os.environ.get("WIFIDIRECT_PROBE_FILE")
    if not name:
        pytest.fail(
            "no probe file: record one on Windows with `wifidirect probe MAC --unpaired MAC "
            "--out-of-range MAC --out FILE`, then pass --probe-file FILE",
            pytrace=False,
        )
    record: dict[str, Any] = json.loads(Path(name).read_text(encoding="utf-8"))
    return record


@pytest.mark.hardware
def test_the_real_service_does_what_the_simulator_does(probe_record: dict[str, Any]) -> None:
    assert probe_record.get("format") == FORMAT
    assert not probe_record["simulator"], "this probe file was recorded on a simulator"
    assert probe_record["cases"]["paired"]["outcome"] == "opened", "the paired open failed"
    differences = compare(probe_record)
    assert not differences, "the simulator differs from the real service:\n" + "\n".join(
        differences
    )
