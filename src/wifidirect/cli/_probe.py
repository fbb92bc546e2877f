"""``wifidirect probe``: record what the real Wi-Fi Direct service does, for comparison with the
simulator's documented choices (docs/simulator.md).

For people with Windows and a paired device: it opens a session to a paired device, to an
unpaired one and to one out of range (those given), cancels an open, closes a client while an
open is pending, reads the device properties and the session's interface, and writes it all to
a JSON file. ``pytest -m hardware --probe-file FILE`` (tests/test_hardware.py) compares such a
file with the simulator's choices; :func:`compare` is that comparison.

The completion codes of cancelled opens are not part of the API's results (the facade raises
``TimeoutError`` / ``ClosedError`` after its cleanup): the probe reads them from the library's
DEBUG log of each completion, its documented logging interface.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from .. import __version__, _native
from ..address import MacAddress
from ..client import Client
from ..errors import OpenSessionError, WFDError, error_name
from ..session import Session
from ._output import Output

__all__ = ["FORMAT", "compare", "run_probe"]

#: The probe file's format version.
FORMAT = 1

#: Seconds after its start that the probe cancels an open (by a timeout).
CANCEL_AFTER = 0.05

#: What the simulator does in each case (docs/simulator.md): the Win32 code of the outcome.
SIMULATOR_CHOICES: dict[str, int] = {
    "paired": 0,  # opens
    "unpaired": 1244,  # ERROR_NOT_AUTHENTICATED
    "out_of_range": 1460,  # ERROR_TIMEOUT
    "cancel": 1223,  # the cancelled open's completion: ERROR_CANCELLED
    "close_while_pending": 1223,  # the completion of an open cancelled by closing its client
}


class _Completions(logging.Handler):
    """The completions the library logs (``completion token=... error=... reason=...``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[float, int, int]] = []  # (time, error, reason)
        self.arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "completion token=%d session=%#x error=%d reason=%d":
            args = cast("tuple[int, int, int, int]", record.args)
            with self.arrived:
                self.seen.append((time.monotonic(), args[2], args[3]))
                self.arrived.notify_all()

    def after(self, started: float, wait: float = 5.0) -> dict[str, Any] | None:
        """The first completion logged since ``started``. Its record may come a moment after
        the call that waited for it returned (the hook logs after the guard recorded it)."""

        def first() -> tuple[float, int, int] | None:
            return next((s for s in self.seen if s[0] >= started), None)

        with self.arrived:
            found = self.arrived.wait_for(first, wait)
        if found is None:
            return None
        when, error, reason = found
        return {
            "winerror": error,
            "name": error_name(error),
            "reason_code": reason,
            "seconds": round(when - started, 4),
        }


def _failure(exc: BaseException) -> dict[str, Any]:
    doc: dict[str, Any] = {"exception": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, WFDError):
        doc.update(winerror=exc.winerror, name=error_name(exc.winerror))
    if isinstance(exc, OpenSessionError):
        doc["reason_code"] = exc.reason_code
    return doc


def _interface(session: Session) -> dict[str, Any] | None:
    iface = session.interface
    if iface is None:
        return None
    return {
        "name": iface.name,
        "index": iface.index,
        "up": iface.up,
        "addresses": [str(a) for a in iface.addresses],
        "peer_addresses": [str(a) for a in iface.peer_addresses],
    }


def _open_case(client: Client, address: MacAddress, timeout: float, hold: float) -> dict[str, Any]:
    started = time.monotonic()
    doc: dict[str, Any] = {"address": str(address)}
    try:
        session = client.open_session_sync(address, timeout)
    except (WFDError, TimeoutError) as exc:
        doc.update(outcome="failed", seconds=round(time.monotonic() - started, 4))
        doc.update(_failure(exc))
        return doc
    with session:
        doc.update(outcome="opened", winerror=0, seconds=round(time.monotonic() - started, 4))
        doc["interface_guid"] = str(session.interface_guid)
        doc["interface"] = _interface(session)
        doc["connected"] = session.connected
        if hold > 0:
            time.sleep(hold)  # the interface's addresses, once DHCP and neighbours settled
            doc["interface_after_hold"] = _interface(session)
            doc["connected_after_hold"] = session.connected
        closing = time.monotonic()
    doc["close_seconds"] = round(time.monotonic() - closing, 4)
    return doc


def _cancel_case(client: Client, address: MacAddress, log: _Completions) -> dict[str, Any]:
    started = time.monotonic()
    doc: dict[str, Any] = {"address": str(address)}
    try:
        # Cancelled once started: a real open takes seconds, so it is pending by then.
        client.open_session_sync(address, timeout=CANCEL_AFTER).close()
        doc["outcome"] = "opened before the cancel"
    except (WFDError, TimeoutError) as exc:
        doc["outcome"] = "cancelled"
        doc.update(_failure(exc))
    doc["seconds"] = round(time.monotonic() - started, 4)
    doc["completion"] = log.after(started)
    return doc


def _close_pending_case(backend: str, address: MacAddress, log: _Completions) -> dict[str, Any]:
    doc: dict[str, Any] = {"address": str(address)}
    client = Client(backend)
    outcome: list[BaseException | Session] = []

    def open_it() -> None:
        try:
            outcome.append(client.open_session_sync(address, timeout=60))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=open_it)
    started = time.monotonic()
    thread.start()
    time.sleep(0.1)  # the open is pending (a real open takes seconds)
    closing = time.monotonic()
    client.close()
    thread.join(60)
    doc["close_seconds"] = round(time.monotonic() - closing, 4)
    result = outcome[0] if outcome else None
    if isinstance(result, Session):
        doc["outcome"] = "opened before the close"
        result.close()
    elif result is not None:
        doc["outcome"] = "ended by the close"
        doc.update(_failure(result))
    doc["completion"] = log.after(started)
    return doc


def _device_json(client: Client) -> list[dict[str, Any]]:
    found = []
    for d in client.devices():
        doc = asdict(d)
        doc["address"] = str(d.address)
        doc["interface_address"] = None if d.interface_address is None else str(d.interface_address)
        found.append(doc)
    return found


def probe(
    *,
    backend: str | None,
    paired: MacAddress,
    unpaired: MacAddress | None,
    out_of_range: MacAddress | None,
    hold: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run the cases; returns the record (what the probe file holds)."""
    log = _Completions()
    logger = logging.getLogger("wifidirect")
    level = logger.level
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    try:
        with Client(backend) as client:
            name = client.backend
            impl = _native.get_backend(name)
            record: dict[str, Any] = {
                "format": FORMAT,
                "wifidirect": __version__,
                "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "backend": name,
                "simulator": _native.is_simulator(name),
                "platform": {
                    "system": platform.system(),
                    "release": platform.release(),
                    "version": platform.version(),
                    "machine": platform.machine(),
                    "python": sys.version.split()[0],
                },
                "module_path": impl.module_path(),
                "service_running": impl.service_running(),
                "negotiated_version": client.negotiated_version,
            }
            progress("reading the paired devices")
            record["devices"] = _device_json(client)
            cases: dict[str, Any] = {}
            progress(f"opening a session to the paired device {paired}")
            cases["paired"] = _open_case(client, paired, 60.0, hold)
            if unpaired is not None:
                progress(f"opening a session to the unpaired device {unpaired}")
                cases["unpaired"] = _open_case(client, unpaired, 60.0, 0.0)
            if out_of_range is not None:
                progress(f"opening a session to {out_of_range}, out of range (up to 120 s)")
                cases["out_of_range"] = _open_case(client, out_of_range, 120.0, 0.0)
            progress(f"cancelling an open to {paired}")
            cases["cancel"] = _cancel_case(client, paired, log)
        progress(f"closing a client while its open to {paired} is pending")
        cases["close_while_pending"] = _close_pending_case(name, paired, log)
        record["cases"] = cases
        return record
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)


def _outcome_code(case: dict[str, Any]) -> int | None:
    """The Win32 code a case ended with: the open's, or the cancelled open's completion's."""
    completion = case.get("completion")
    if isinstance(completion, dict):
        return int(completion["winerror"])
    if "winerror" in case:
        return int(case["winerror"])
    return None


def compare(record: dict[str, Any]) -> list[str]:
    """Where a probe record differs from the simulator's documented choices: one line each.
    Cases the record does not have are not compared; races the real service may win (an open
    that completed before its cancel) are reported, since the simulator loses them."""
    if record.get("format") != FORMAT:
        return [f"probe format {record.get('format')!r}, this wifidirect reads {FORMAT}"]
    differences = []
    cases = record.get("cases", {})
    for name, expected in SIMULATOR_CHOICES.items():
        case = cases.get(name)
        if case is None:
            continue
        seen = _outcome_code(case)
        if seen != expected:
            differences.append(
                f"{name}: the simulator gives {error_name(expected)} ({expected}); the real "
                f"service gave {'nothing' if seen is None else f'{error_name(seen)} ({seen})'}"
                f" [{case.get('outcome')}]"
            )
    paired = cases.get("paired", {})
    if paired.get("outcome") == "opened" and paired.get("interface") is None:
        differences.append(
            "paired: the simulator gives each session an interface; no interface was found "
            "for the real session's GUID"
        )
    for device in record.get("devices", []):
        if device.get("address") == "00:00:00:00:00:00":
            differences.append(f"devices: {device.get('id')} has no device address property")
    return differences


def run_probe(args: argparse.Namespace, out: Output) -> int:
    """Record the cases to ``--out``; print the comparison with the simulator."""
    path = Path(args.out)
    say = out.line
    record = probe(
        backend=args.backend,
        paired=args.paired,
        unpaired=args.unpaired,
        out_of_range=args.out_of_range,
        hold=args.hold,
        progress=say,
    )
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    differences = compare(record)
    say(f"wrote {path}")
    if differences:
        say("where the service differs from the simulator's choices:")
        for line in differences:
            say(f"  {line}")
    else:
        say("every case agrees with the simulator's documented choices")
    out.document({"command": "probe", "ok": True, "file": str(path), "differences": differences})
    return 0
