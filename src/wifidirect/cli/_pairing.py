"""``wifidirect discover``, ``pair`` and ``unpair``: what Windows does in its Settings, for the
wpa_supplicant backend (Linux)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import wpas
from ..address import MacAddress
from ._demo import UsageError
from ._output import Output, Status

__all__ = ["run_discover", "run_pair", "run_unpair", "validate"]


def validate(args: argparse.Namespace) -> None:
    """Pairing is the wpas backend's: refuse another before any native call."""
    if args.backend not in (None, "wpas"):
        raise UsageError(
            f"{args.command} is for the wpas backend (Linux); on Windows, pair in Settings"
        )


def _peer_json(peer: wpas.Peer) -> dict[str, Any]:
    return {"address": str(peer.address), "name": peer.name, "paired": peer.paired}


def run_discover(args: argparse.Namespace, out: Output) -> int:
    """Search for P2P devices, showing them as they are found."""
    status = Status(sys.stderr if out.json else out.stream)
    seen: set[MacAddress] = set()

    def found(peers: tuple[wpas.Peer, ...]) -> None:
        for peer in peers:
            if peer.address not in seen:
                seen.add(peer.address)
                status.clear()
                out.line(f"  found {peer.address}  {peer.name or '(unnamed)'}")
        status.update(f"searching: {len(peers)} device(s) found")

    out.line(f"searching for Wi-Fi Direct devices for {args.timeout:g} s ...")
    peers = wpas.discover(args.timeout, found)
    status.clear()
    width = max([4, *(len(p.name) for p in peers)])
    if peers:
        out.line(f"{'ADDRESS':<17}  {'NAME':<{width}}  PAIRED")
        for p in peers:
            out.line(f"{p.address!s:<17}  {p.name:<{width}}  {'yes' if p.paired else 'no'}")
    else:
        out.line("no Wi-Fi Direct devices found (is the other device searchable/listening?)")
    out.document({"command": "discover", "ok": True, "peers": [_peer_json(p) for p in peers]})
    return 0


def run_pair(args: argparse.Namespace, out: Output) -> int:
    """Pair with a device: push button, or the PIN it shows."""
    how = "push button: accept on the device" if args.pin is None else "the PIN the device shows"
    out.line(f"pairing with {args.address} ({how}; up to {args.timeout:g} s) ...")
    wpas.pair(args.address, args.pin, args.timeout)
    kept = wpas.saves_pairings()
    note = "" if kept else " (until wpa_supplicant restarts: set update_config=1 to keep it)"
    out.line(f"paired with {args.address}{note}")
    out.document({"command": "pair", "ok": True, "address": str(args.address), "saved": kept})
    return 0


def run_unpair(args: argparse.Namespace, out: Output) -> int:
    """Forget a pairing."""
    try:
        wpas.unpair(args.address)
    except KeyError:
        message = f"{args.address} is not paired (`wifidirect devices` lists the paired ones)"
        error = {"type": "KeyError", "message": message}
        out.document({"command": "unpair", "ok": False, "error": error})
        print(f"wifidirect: error: {message}", file=sys.stderr)
        return 1
    out.line(f"forgot the pairing with {args.address}")
    out.document({"command": "unpair", "ok": True, "address": str(args.address)})
    return 0
