"""`wifidirect probe` recorded on the simulator, and the comparison the `hardware` test makes
with such a record (tests/test_hardware.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SPEAKER, TV, simulated_system

from wifidirect import sim
from wifidirect.cli import main
from wifidirect.cli._probe import compare
from wifidirect.testing import SimController

HIDDEN = "02:00:00:00:00:09"


@pytest.fixture
def record(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wfd_sim: SimController,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    simulated_system(monkeypatch)  # the probe runs on --backend sim: script that simulator
    sim.add_peer(TV, name="Living Room TV", latency=0.5)  # pending when cancelled or closed
    sim.add_peer(HIDDEN, visible=False, latency=0.05)
    out = tmp_path / "probe.json"
    argv = ["--backend", "sim", "probe", TV, "--unpaired", SPEAKER, "--out-of-range", HIDDEN]
    assert main([*argv, "--hold", "0", "--out", str(out)]) == 0
    assert "every case agrees with the simulator's documented choices" in capsys.readouterr().out
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return doc


def test_the_probe_records_every_case(record: dict[str, Any]) -> None:
    assert record["format"] == 1 and record["backend"] == "sim" and record["simulator"]
    assert {d["address"] for d in record["devices"]} >= {TV}
    cases = record["cases"]
    assert cases["paired"]["outcome"] == "opened" and cases["paired"]["interface"]["up"]
    assert cases["unpaired"]["name"] == "ERROR_NOT_AUTHENTICATED"
    assert cases["out_of_range"]["name"] == "ERROR_TIMEOUT"
    assert cases["cancel"]["exception"] == "TimeoutError"
    assert cases["cancel"]["completion"]["name"] == "ERROR_CANCELLED"
    assert cases["close_while_pending"]["exception"] == "ClosedError"
    assert cases["close_while_pending"]["completion"]["name"] == "ERROR_CANCELLED"
    assert compare(record) == []


def test_the_comparison_names_each_difference(record: dict[str, Any]) -> None:
    real = copy.deepcopy(record)
    real["cases"]["unpaired"]["winerror"] = 1168
    real["cases"]["cancel"]["completion"] = None
    real["cases"]["paired"]["interface"] = None
    differences = compare(real)
    assert len(differences) == 3
    assert differences[0].startswith(
        "unpaired: the simulator gives ERROR_NOT_AUTHENTICATED (1244); the real service gave "
        "ERROR_NOT_FOUND (1168)"
    )
    assert "cancel: " in differences[1] and "gave nothing" in differences[1]
    assert "no interface was found" in differences[2]
    assert compare({"format": 99}) == ["probe format 99, this wifidirect reads 1"]
