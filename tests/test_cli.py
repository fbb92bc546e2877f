"""The command line: demo (progress, summary, --peers), info, open, legacy, visibility; --json;
exit codes 0 / 1 / 2; one-line errors without a traceback unless --debug."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PHONE, PRINTER, PROJECTOR, SPEAKER, TV, UNKNOWN, settle, under_wine

from wifidirect import cli, sim
from wifidirect.__main__ import main
from wifidirect.cli._demo import add_demo_peers
from wifidirect.cli._output import Progress, percentile, table

Capture = pytest.CaptureFixture[str]


@pytest.fixture(autouse=True)
def _simulator_is_the_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The outputs checked here are the simulator backend's: make it the default also on Windows,
    where the default is wlanapi (under tools/wine-test, the simulator standing in for
    Wlanapi.dll, which conftest.py checks), and hold it to the same contract. Subprocesses
    inherit the setting."""
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "sim")
    sim.reset()
    yield
    assert settle().violations == 0, f"violations: {sim.stats().violations_by_kind}"


def run_json(capsys: Capture, *argv: str, code: int = 0) -> dict[str, Any]:
    assert main([*argv, "--json"]) == code
    captured = capsys.readouterr()
    doc: dict[str, Any] = json.loads(captured.out)  # stdout is exactly one JSON document
    return doc


# --- demo ----------------------------------------------------------------------------------


def test_demo_opens_every_default_peer_and_exits_zero(capsys: Capture) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "backend 'sim'" in out
    assert out.count(" open    ") == 3  # TV, printer, phone
    assert "ERROR_TIMEOUT (1460), reason 9" in out  # the projector's configured failure
    assert "ERROR_NOT_AUTHENTICATED (1244)" in out  # the unpaired speaker
    assert "legacy" in out
    assert "0 contract violations" in out
    # Progress (not a terminal: one plain line per completion for five peers), then the table.
    progress = [line for line in out.splitlines() if line.lstrip().startswith("progress")]
    assert len(progress) == 5 and "5/5 done: 3 opened, 2 failed, 0 pending" in progress[-1]
    assert "\r" not in out
    rows = summary_rows(out)
    assert rows["sessions attempted"] == "5"
    assert rows["opened"] == "3" and rows["failed"] == "2"
    assert rows["ERROR_TIMEOUT (1460)"] == "1"
    assert rows["ERROR_NOT_AUTHENTICATED (1244)"] == "1"
    assert rows["latency p50"].endswith(" ms") and rows["latency p99"].endswith(" ms")
    assert rows["legacy opened"] == "1 of 1"


def summary_rows(out: str) -> dict[str, str]:
    """The summary table's rows: label -> value."""
    lines = out.splitlines()
    start = lines.index("summary") + 2
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("---"))
    rows = {}
    for line in lines[start:end]:
        label, value = line.strip().split("   ", 1)
        rows[label.strip()] = value.strip()
    return rows


def test_demo_with_more_peers_shows_progress_by_tenths_and_summarises(capsys: Capture) -> None:
    assert main(["demo", "--peers", "30"]) == 0
    out = capsys.readouterr().out
    progress = [line for line in out.splitlines() if line.lstrip().startswith("progress")]
    assert len(progress) == 10  # one line per tenth of the 35 opens
    assert "35/35 done" in progress[-1]
    assert " open    " not in out  # more than 20 peers: no per-peer listing without -v
    rows = summary_rows(out)
    # The generated peers are fixed: 10, 20, 30 out of range; 5, 15, 25 not paired; 7 fails
    # with RPC_S_CALL_FAILED. Plus the default projector and speaker.
    assert rows["sessions attempted"] == "35"
    assert rows["ERROR_TIMEOUT (1460)"] == "4"
    assert rows["ERROR_NOT_AUTHENTICATED (1244)"] == "4"
    assert rows["RPC_S_CALL_FAILED (1726)"] == "1"
    assert rows["failed"] == "9" and rows["opened"] == "26"
    assert "0 contract violations" in out


def test_demo_verbose_lists_every_peer(capsys: Capture) -> None:
    assert main(["demo", "--peers", "20", "-v"]) == 0
    out = capsys.readouterr().out
    assert out.count("Demo peer ") == 20


def test_demo_json(capsys: Capture) -> None:
    doc = run_json(capsys, "demo")
    assert doc["ok"] is True and doc["backend"] == "sim" and doc["negotiated_version"] == 1
    summary = doc["summary"]
    assert (summary["attempted"], summary["opened"], summary["failed"]) == (5, 3, 2)
    assert summary["failures_by_error"] == {"ERROR_NOT_AUTHENTICATED": 1, "ERROR_TIMEOUT": 1}
    p50, p99 = summary["latency_ms"]["p50"], summary["latency_ms"]["p99"]
    assert 0 < p50 <= p99
    by_address = {o["address"]: o for o in doc["opens"]}
    assert by_address[TV]["ok"] and by_address[TV]["interface_guid"]
    assert by_address[PROJECTOR]["error"]["winerror"] == 1460
    assert by_address[PROJECTOR]["error"]["reason_code"] == 9
    assert [o["address"] for o in doc["legacy"]] == [PRINTER]
    assert doc["simulator"]["violations"] == 0
    assert doc["closed_sessions"] == 4  # three opens and the legacy session


def test_demo_peers_need_the_simulator(capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checked before any native call: the backend is never loaded.
    monkeypatch.setattr(sys.modules["wifidirect.cli._demo"], "Client", None)  # fails if reached
    assert main(["--backend", "wlanapi", "demo", "--peers", "3"]) == 2
    assert "--peers adds simulated peers" in capsys.readouterr().err


def test_demo_runs_on_the_simulator_unless_told_otherwise(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "wlanapi")  # the default is never the demo's
    doc = run_json(capsys, "demo")
    assert doc["backend"] == "sim" and doc["summary"]["attempted"] == 5


def test_generated_peers_are_the_same_every_time() -> None:
    first = add_demo_peers(40)
    sim.reset()
    assert add_demo_peers(40) == first
    assert len({p.latency for p in first}) > 10  # varied


# --- progress, table, percentile -------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_redraws_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    stream = FakeTerminal()
    progress = Progress(4, stream)
    assert progress.live
    for ok in (True, False, True, True):
        progress.update(ok)
    progress.finish()
    text = stream.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and text.count("\n") == 1
    assert "4/4 done: 3 opened, 1 failed, 0 pending" in text.rsplit("\r", 1)[-1]


@pytest.mark.parametrize("columns", [100, 80, 60, 40, 20])
def test_the_progress_line_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A line as wide as the terminal wraps, and each redraw then leaves a stale line behind.
    monkeypatch.setenv("COLUMNS", str(columns))
    stream = FakeTerminal()
    progress = Progress(1000, stream)
    for i in range(1000):
        progress.update(i % 3 != 0)
    progress.finish()
    drawn = stream.getvalue().replace("\n", "").split("\r")[1:]
    assert drawn and all(len(line) < columns for line in drawn)
    assert ("[" in drawn[-1]) == (columns >= 80)  # the bar goes first on narrow terminals
    if columns >= 60:
        assert "1000/1000 done: 666 opened, 334 failed, 0 pending" in drawn[-1]


def test_progress_elsewhere_prints_plain_lines_by_tenths() -> None:
    stream = io.StringIO()
    progress = Progress(100, stream)
    assert not progress.live
    for i in range(100):
        progress.update(i % 4 != 0)
        progress.tick()  # time passing changes nothing here
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10
    assert "100/100 done: 75 opened, 25 failed, 0 pending" in lines[-1]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_table_aligns() -> None:
    lines = table([("a", "1"), ("longer", "100")], "title")
    assert lines[0] == "title"
    assert lines[2] == "  a          1" and lines[3] == "  longer   100"


# --- info, open, legacy, visibility ---------------------------------------------------------


def test_info(capsys: Capture) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backend: sim" in out and "Living Room TV" in out
    assert "negotiated API version: 1" in out and "handle limit 64" in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_info_json_with_options_before_or_after_the_command(capsys: Capture, where: str) -> None:
    argv = ["--json", "info"] if where == "before" else ["info", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "info" and doc["backend"] == "sim"
    assert doc["negotiated_version"] == 1
    assert [p["address"] for p in doc["simulator"]["peers"]] == [
        TV,
        PRINTER,
        PHONE,
        PROJECTOR,
        SPEAKER,
    ]
    assert doc["simulator"]["stats"]["violations"] == 0


def test_open_holds_and_closes(capsys: Capture) -> None:
    assert main(["open", TV, "--hold", "0.01", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert f"opened a session to {TV}" in out and "interface " in out
    assert "holding the session for 0.01 s" in out and "closed the session" in out
    assert sim.stats().sessions == 0 or sim.wait_idle()


def test_open_json(capsys: Capture) -> None:
    doc = run_json(capsys, "open", "02-00-5E-10-00-03")
    assert doc["ok"] and doc["address"] == PHONE and not doc["legacy"]
    assert len(doc["interface_guid"]) == 36


def test_a_failed_open_exits_one_with_one_line(capsys: Capture) -> None:
    assert main(["open", PROJECTOR]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("wifidirect: error: ")
    assert "ERROR_TIMEOUT (1460)" in captured.err and "reason code 9" in captured.err
    assert "Traceback" not in captured.err


def test_a_failed_open_with_json_is_a_document_too(capsys: Capture) -> None:
    assert main(["open", SPEAKER, "--json"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["command"] == "open"
    assert doc["error"]["name"] == "ERROR_NOT_AUTHENTICATED" and doc["error"]["reason_code"] == 2
    assert captured.err.startswith("wifidirect: error: ")


def test_an_open_that_times_out_exits_one(capsys: Capture) -> None:
    sim.add_peer(UNKNOWN, latency=60)
    assert main(["open", UNKNOWN, "--timeout", "0.01"]) == 1
    assert "timed out" in capsys.readouterr().err


def test_legacy(capsys: Capture) -> None:
    assert main(["legacy", PRINTER]) == 0
    assert f"opened a legacy session to {PRINTER}" in capsys.readouterr().out
    assert main(["legacy", TV]) == 1  # no stored profile
    assert "ERROR_NOT_FOUND (1168)" in capsys.readouterr().err


def test_visibility(capsys: Capture) -> None:
    sim.add_peer(UNKNOWN, visible=False)
    doc = run_json(capsys, "visibility", UNKNOWN)
    assert doc == {
        "command": "visibility",
        "ok": True,
        "backend": "sim",
        "address": UNKNOWN,
        "node_visible": False,
    }
    assert main(["visibility", TV]) == 0
    assert "device node visible" in capsys.readouterr().out
    assert main(["visibility", "02:00:00:00:00:fe"]) == 1
    assert "ERROR_NOT_FOUND" in capsys.readouterr().err


# --- usage errors, failures, --debug ----------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        [],
        ["open"],
        ["open", "not-a-mac"],
        ["open", TV, "--timeout", "-1"],
        ["open", TV, "--hold", "inf"],
        ["demo", "--peers", "many"],
        ["demo", "--peers", "100000"],
        ["--backend", "radio", "info"],
    ],
)
def test_usage_errors_exit_two(argv: list[str], capsys: Capture) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "error:" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("argv", "command", "needle"),
    [
        (["open", "not-a-mac", "--json"], "open", "invalid MAC address"),
        (["--json", "demo", "--peers", "many"], "demo", "not a whole number"),
        (["--json", "frobnicate"], None, "invalid choice"),
        (["--json", "--backend", "wlanapi", "demo", "--peers", "3"], "demo", "sim backend"),
    ],
)
def test_usage_errors_with_json_give_a_document(
    argv: list[str], command: str | None, needle: str, capsys: Capture
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["command"] == command and doc["ok"] is False
    assert doc["error"]["type"] == "UsageError" and needle in doc["error"]["message"]
    assert "usage:" in captured.err  # the usage stays on stderr for people


def test_a_bad_configuration_is_not_called_a_bug(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "radio")
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    assert "unknown $WIFIDIRECT_BACKEND 'radio'" in err and "bug" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="wlanapi exists on Windows")
def test_an_unavailable_backend_is_one_line_and_exit_one(capsys: Capture) -> None:
    assert main(["--backend", "wlanapi", "info"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wlanapi" in err and "unavailable" in err


def test_debug_shows_the_traceback_and_the_native_calls(capsys: Capture) -> None:
    assert main(["--debug", "open", PROJECTOR]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "OpenSessionError" in err
    assert "WFDOpenHandle(" in err and "WFDStartOpenSession(" in err  # the debug log
    assert err.rstrip().splitlines()[-1].startswith("wifidirect: error: ")


def test_an_unexpected_exception_is_reported_as_a_bug_in_one_line(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(cli.COMMANDS, "info", broken)
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "wifidirect: error: RuntimeError: boom (a bug in wifidirect? run with --debug for "
        "details)\n"
    )


def test_version(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("wifidirect 0.")


# --- the installed commands -------------------------------------------------------------------


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
    assert "summary" in proc.stdout


def test_the_console_script() -> None:
    if under_wine():
        pytest.skip("Wine 8's console-script .exe launchers exit 1 with no output (pip.exe too)")
    script = shutil.which("wifidirect", path=sysconfig.get_path("scripts"))
    if script is None:
        pytest.skip("the wifidirect console script is not in this Python's scripts directory")
    proc = subprocess.run(
        [script, "open", TV], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert f"opened a session to {TV}" in proc.stdout
    proc = subprocess.run(
        [script, "open", SPEAKER], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("wifidirect: error: ") and proc.stderr.count("\n") == 1


# --- devices, doctor, the demo on a real backend's devices -----------------------------------


def test_devices_table_and_json(capsys: Capture) -> None:
    assert main(["devices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ADDRESS", "NAME", "STATE", "INTERFACE", "ADDRESS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {TV, PRINTER, PHONE, PROJECTOR}  # the paired ones
    assert "visible, legacy" in rows[PRINTER] and rows[TV].rstrip().endswith("02:00:5e:10:80:01")
    doc = run_json(capsys, "devices")
    assert doc["ok"] and doc["backend"] == "sim"
    tv = next(d for d in doc["devices"] if d["address"] == TV)
    assert tv == {
        "address": TV,
        "name": "Living Room TV",
        "connected": False,
        "visible": True,
        "legacy": False,
        "interface_address": "02:00:5e:10:80:01",
        "id": "WFDSIM\\02005E100001",
    }
    sim.reset()
    for p in sim.peers():
        sim.remove_peer(p.address)
    assert main(["devices"]) == 0
    assert "no paired Wi-Fi Direct devices" in capsys.readouterr().out


def test_doctor_when_the_default_works(capsys: Capture) -> None:
    doc = run_json(capsys, "doctor")
    assert doc["ok"] is True and doc["default_backend"] == "sim"
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["default backend"]["status"] == "ok"
    assert checks["backend sim"]["status"] == "ok"
    assert checks["client handle"]["status"] == "ok"
    assert checks["paired devices"]["detail"].startswith("4: Living Room TV 02:00:5e:10:00:01")
    assert main(["doctor"]) == 0
    assert "Client() works here, on the sim backend" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux backend")
def test_doctor_says_why_the_real_backend_is_unavailable(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WIFIDIRECT_BACKEND")
    monkeypatch.setenv("WIFIDIRECT_WPAS_CTRL", str(tmp_path))  # no wpa_supplicant here
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert (
        f"default backend  fail  wpas: no wpa_supplicant control socket with P2P in {tmp_path}"
        in out
    )
    assert "backend wlanapi  info  unavailable: Wlanapi.dll exists only on Windows" in out
    assert "backend sim      ok    the bundled simulator" in out
    assert "does not work here" in out
    assert main(["info"]) == 1  # and every command says how to choose the simulator
    err = capsys.readouterr().err
    assert "WIFIDIRECT_BACKEND=sim" in err and "hint: `--backend sim`" in err


def test_the_demo_on_a_real_backend_opens_its_paired_devices(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on Windows' wlanapi: no simulator to script, so the targets are the paired devices.
    monkeypatch.setattr(sys.modules["wifidirect.cli._demo"], "is_simulator", lambda name: False)
    assert main(["--backend", "sim", "demo"]) == 0
    out = capsys.readouterr().out
    assert "4 paired devices" in out and "Neighbour's Speaker" not in out
    assert "contract violations" not in out  # no simulator counters on a real backend
