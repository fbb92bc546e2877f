"""The ``wifidirect`` command (also ``python -m wifidirect``).

``demo`` is the main job: open sessions to the simulator's default peers concurrently, print
each outcome, close everything. ``info`` shows the backend and the simulator's state.
Exit codes: 0 success, 1 an operation failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence

from . import __version__, sim
from ._native import default_backend_name
from .address import MacAddress
from .client import Client
from .errors import OpenSessionError, WFDError, error_name
from .session import Session

__all__ = ["main"]


def _outcome_text(result: Session | BaseException) -> str:
    if isinstance(result, Session):
        return f"open    {result.interface_guid}"
    if isinstance(result, OpenSessionError):
        code = f"{error_name(result.winerror)} ({result.winerror})"
        return f"failed  {code}, reason {result.reason_code}"
    if isinstance(result, WFDError):
        return f"failed  {error_name(result.winerror)} ({result.winerror}) from {result.function}"
    return f"failed  {type(result).__name__}: {result}"


async def _demo(backend: str | None, timeout: float, out: Printer) -> int:
    peers = sim.peers()
    names = {p.address: p.name for p in peers}
    async with Client(backend) as client:
        out(
            f"wifidirect {__version__} demo: backend {client.backend!r}, "
            f"negotiated API version {client.negotiated_version}"
        )
        out(f"opening {len(peers)} sessions concurrently (timeout {timeout:g} s) ...")

        async def one(address: MacAddress) -> tuple[float, Session | BaseException]:
            started = time.perf_counter()
            try:
                result: Session | BaseException = await client.open_session(
                    address, timeout=timeout
                )
            except (WFDError, TimeoutError) as exc:
                result = exc
            return time.perf_counter() - started, result

        outcomes = await asyncio.gather(*(one(p.address) for p in peers))
        for p, (elapsed, result) in zip(peers, outcomes, strict=True):
            out(
                f"  {p.address}  {names[p.address]:<24.24} {_outcome_text(result)}"
                f"  ({elapsed * 1000:.1f} ms)"
            )
        for p in peers:
            if p.legacy:
                try:
                    legacy: Session | BaseException = client.open_legacy_session(p.address)
                except WFDError as exc:
                    legacy = exc
                out(f"  {p.address}  {p.name:<24.24} legacy  {_outcome_text(legacy)[8:]}")
        opened = len(client.sessions)
        failed = sum(1 for _, r in outcomes if not isinstance(r, Session))
    stats = sim.stats() if client.backend == "sim" else None
    out(
        f"closed {opened} sessions and the client; {failed} of {len(peers)} opens failed "
        "(the simulator's default peers include an unpaired one and a failing one)"
    )
    if stats is not None:
        out(
            f"simulator: {stats.callbacks_delivered} callbacks delivered, "
            f"{stats.violations} contract violations"
        )
    return 0


class Printer:
    """Writes lines to stdout, flushing each (progress must show while work runs)."""

    def __call__(self, line: str) -> None:
        print(line, flush=True)


def _info(backend: str | None, out: Printer) -> int:
    with Client(backend) as client:
        out(f"wifidirect {__version__}")
        out(f"backend: {client.backend} (default here: {default_backend_name()})")
        out(f"negotiated API version: {client.negotiated_version}")
    stats = sim.stats()
    out(
        f"simulator: {len(sim.peers())} peers, {stats.clients} clients, {stats.sessions} sessions, "
        f"{stats.violations} violations"
    )
    for p in sim.peers():
        flags = ", ".join(
            f
            for f, on in (("paired", p.paired), ("legacy", p.legacy), ("visible", p.visible))
            if on
        )
        outcome = "success" if not p.error else f"{error_name(p.error)}"
        out(
            f"  {p.address}  {p.name:<24.24} {flags:<24} latency {p.latency * 1000:.0f} ms, "
            f"{outcome}"
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wifidirect", description="Open and close Wi-Fi Direct sessions."
    )
    parser.add_argument("--version", action="version", version=f"wifidirect {__version__}")
    parser.add_argument(
        "--backend",
        choices=("wlanapi", "sim"),
        default=None,
        help="backend (default: $WIFIDIRECT_BACKEND, else wlanapi on Windows, sim elsewhere)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="open sessions to the simulator's default peers")
    demo.add_argument("--timeout", type=float, default=5.0, help="seconds per open (default 5)")
    commands.add_parser("info", help="show the backend and the simulator's state")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    out = Printer()
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(threadName)s %(name)s: %(message)s")
    try:
        if args.command == "demo":
            return asyncio.run(_demo(args.backend, args.timeout, out))
        return _info(args.backend, out)
    except (WFDError, ImportError, ValueError) as exc:
        if args.debug:
            raise
        print(f"wifidirect: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
