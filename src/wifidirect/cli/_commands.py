"""``wifidirect info``, ``devices``, ``open``, ``legacy`` and ``visibility``."""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from .. import __version__, sim
from .._native import default_backend_name, is_simulator
from ..address import MacAddress
from ..client import Client
from ..devices import Device
from ..errors import error_name
from ..session import Session
from ._output import Output

__all__ = ["run_devices", "run_info", "run_legacy", "run_open", "run_visibility"]


def _peer_json(p: sim.Peer) -> dict[str, Any]:
    doc = dataclasses.asdict(p)
    doc["address"] = str(p.address)
    doc["error_name"] = error_name(p.error) if p.error else None
    return doc


def _default_backend() -> str | None:
    try:
        return default_backend_name()
    except (ImportError, ValueError):
        return None


def run_info(args: argparse.Namespace, out: Output) -> int:
    """Backend, version, negotiated API version; the simulator's state on the simulator."""
    with Client(args.backend) as client:
        backend, version = client.backend, client.negotiated_version
    default = _default_backend()
    out.line(f"wifidirect {__version__}")
    out.line(f"backend: {backend} (default here: {default or 'none, see `wifidirect doctor`'})")
    out.line(f"negotiated API version: {version}")
    doc: dict[str, Any] = {
        "command": "info",
        "ok": True,
        "version": __version__,
        "backend": backend,
        "default_backend": default,
        "negotiated_version": version,
        "simulator": None,
    }
    if is_simulator(backend):
        stats = sim.stats()
        peers = sim.peers()
        out.line(
            f"simulator: {len(peers)} peers, {stats.clients} clients, {stats.sessions} "
            f"sessions, {stats.violations} violations, handle limit {sim.get_handle_limit()}"
        )
        for p in peers:
            flags = ", ".join(
                f
                for f, on in (("paired", p.paired), ("legacy", p.legacy), ("visible", p.visible))
                if on
            )
            outcome = "success" if not p.error else f"{error_name(p.error)} ({p.error})"
            out.line(
                f"  {p.address}  {p.name:<24.24} {flags:<24} latency {p.latency * 1000:.0f} ms, "
                f"{outcome}"
            )
        doc["simulator"] = {
            "handle_limit": sim.get_handle_limit(),
            "stats": dataclasses.asdict(stats),
            "peers": [_peer_json(p) for p in peers],
        }
    out.document(doc)
    return 0


def _device_json(d: Device) -> dict[str, Any]:
    return {
        "address": str(d.address),
        "name": d.name,
        "connected": d.connected,
        "visible": d.visible,
        "legacy": d.legacy,
        "interface_address": None if d.interface_address is None else str(d.interface_address),
        "id": d.id,
    }


def run_devices(args: argparse.Namespace, out: Output) -> int:
    """The paired Wi-Fi Direct devices, as a table."""
    with Client(args.backend) as client:
        backend = client.backend
        devices = client.devices()
    if not devices:
        out.line(
            "no paired Wi-Fi Direct devices: pair one in the system's settings first "
            "(Windows: Settings > Devices > Add a device)"
        )
    else:
        width = max(4, *(len(d.name) for d in devices))
        out.line(f"{'ADDRESS':<17}  {'NAME':<{width}}  {'STATE':<27}  INTERFACE ADDRESS")
        for d in devices:
            state = ", ".join(
                word
                for word, on in (
                    ("connected", d.connected),
                    ("visible" if d.visible else "not visible", True),
                    ("legacy", d.legacy),
                )
                if on
            )
            iface = "-" if d.interface_address is None else str(d.interface_address)
            out.line(f"{d.address!s:<17}  {d.name:<{width}}  {state:<27}  {iface}")
    out.document(
        {
            "command": "devices",
            "ok": True,
            "backend": backend,
            "devices": [_device_json(d) for d in devices],
        }
    )
    return 0


def _hold(session: Session, seconds: float, out: Output) -> None:
    if seconds > 0:
        out.line(f"holding the session for {seconds:g} s ...")
        time.sleep(seconds)
    session.close()
    out.line("closed the session")


def _session_doc(
    command: str, client: Client, session: Session, ms: float, hold: float
) -> dict[str, Any]:
    return {
        "command": command,
        "ok": True,
        "backend": client.backend,
        "address": str(session.address),
        "interface_guid": str(session.interface_guid),
        "legacy": session.legacy,
        "latency_ms": round(ms, 3),
        "held_s": hold,
    }


def _open_hold_close(
    command: str, args: argparse.Namespace, out: Output, open_on: Callable[[Client], Session]
) -> int:
    """Open a session with ``open_on(client)``, report it, hold it, close it."""
    mac: MacAddress = args.address
    with Client(args.backend) as client:
        started = time.perf_counter()
        session = open_on(client)
        ms = (time.perf_counter() - started) * 1e3
        with session:
            kind = "a legacy session" if session.legacy else "a session"
            out.line(f"opened {kind} to {mac} in {ms:.1f} ms: interface {session.interface_guid}")
            _hold(session, args.hold, out)
        out.document(_session_doc(command, client, session, ms, args.hold))
    return 0


def run_open(args: argparse.Namespace, out: Output) -> int:
    """Open a session (``WFDStartOpenSession``), hold it, close it."""
    return _open_hold_close(
        "open", args, out, lambda client: client.open_session_sync(args.address, args.timeout)
    )


def run_legacy(args: argparse.Namespace, out: Output) -> int:
    """Open a legacy session (``WFDOpenLegacySession``), hold it, close it."""
    return _open_hold_close(
        "legacy", args, out, lambda client: client.open_legacy_session_sync(args.address)
    )


def run_visibility(args: argparse.Namespace, out: Output) -> int:
    """Update the device node's visibility (``WFDUpdateDeviceVisibility``)."""
    mac: MacAddress = args.address
    with Client(args.backend) as client:
        backend = client.backend
        client.update_device_visibility_sync(mac)
    node_visible = sim.peer(mac).node_visible if backend == "sim" else None
    detail = (
        ""
        if node_visible is None
        else f" (simulator: device node {'visible' if node_visible else 'hidden'})"
    )
    out.line(f"updated the visibility of {mac}{detail}")
    out.document(
        {
            "command": "visibility",
            "ok": True,
            "backend": backend,
            "address": str(mac),
            "node_visible": node_visible,
        }
    )
    return 0
