"""The command line: the demo (the main job) and info."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wifidirect.__main__ import main


def test_demo_opens_every_default_peer_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "backend 'sim'" in out
    assert out.count(" open    ") == 3  # TV, printer, phone
    assert "ERROR_TIMEOUT (1460), reason 9" in out  # the projector's configured failure
    assert "ERROR_NOT_AUTHENTICATED (1244)" in out  # the unpaired speaker
    assert "legacy" in out
    assert "0 contract violations" in out


def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backend: sim" in out and "Living Room TV" in out


def test_usage_errors_exit_two() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_python_dash_m_runs_the_demo() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wifidirect", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "contract violations" in proc.stdout and proc.stderr == ""
