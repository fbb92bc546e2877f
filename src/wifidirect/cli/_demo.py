"""``wifidirect demo``: open sessions to every simulated peer concurrently (with ``--backend``,
to every paired device of that backend), with progress and a summary (count, failures by
error, latency percentiles)."""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import __version__, sim
from .._native import is_simulator
from ..address import MacAddress
from ..client import Client
from ..devices import Device
from ..errors import WFDError, error_name
from ..session import Session
from ._output import Output, Progress, error_info, percentile, table

__all__ = ["UsageError", "add_demo_peers", "run_demo"]

#: Peers listed one per line up to this many (more with --verbose); the summary always shows.
LIST_LIMIT = 20


class UsageError(Exception):
    """The command line asks for something impossible here (exit code 2)."""


@dataclass(frozen=True)
class Target:
    """A device the demo opens a session to: a simulated peer, or a paired device."""

    address: MacAddress
    name: str
    legacy: bool
    paired: bool

    @classmethod
    def of_peer(cls, peer: sim.Peer) -> Target:
        return cls(peer.address, peer.name, peer.legacy, peer.paired)

    @classmethod
    def of_device(cls, device: Device) -> Target:
        return cls(device.address, device.name, device.legacy, True)


@dataclass
class Outcome:
    """One open: the target, how long it took, the session or the exception."""

    peer: Target
    seconds: float
    result: Session | BaseException

    @property
    def ok(self) -> bool:
        return isinstance(self.result, Session)

    def failure_key(self) -> str:
        exc = self.result
        if isinstance(exc, WFDError):
            return f"{error_name(exc.winerror)} ({exc.winerror})"
        return type(exc).__name__

    def text(self) -> str:
        r = self.result
        if isinstance(r, Session):
            what = f"open    {r.interface_guid}"
        elif isinstance(r, WFDError):
            code = f"{error_name(r.winerror)} ({r.winerror})"
            reason = getattr(r, "reason_code", None)
            what = f"failed  {code}" + (
                f", reason {reason}" if reason is not None else f" from {r.function}"
            )
        else:
            what = f"failed  {type(r).__name__}: {r}"
        return (
            f"  {self.peer.address}  {self.peer.name:<24.24} {what}  ({self.seconds * 1e3:.1f} ms)"
        )

    def json(self) -> dict[str, Any]:
        r = self.result
        return {
            "address": str(self.peer.address),
            "name": self.peer.name,
            "ok": isinstance(r, Session),
            "interface_guid": str(r.interface_guid) if isinstance(r, Session) else None,
            "error": None if isinstance(r, Session) else error_info(r),
            "latency_ms": round(self.seconds * 1e3, 3),
        }


def add_demo_peers(count: int, seed: int = 20261124) -> list[sim.Peer]:
    """Add ``count`` simulated peers after the default ones, the same for a given seed: latency
    5-250 ms (one in fifty up to a second); one in ten out of range (ERROR_TIMEOUT), one in ten
    not paired (ERROR_NOT_AUTHENTICATED), one in twenty-five failing with RPC_S_CALL_FAILED."""
    rng = random.Random(seed)
    added = []
    for i in range(1, count + 1):
        latency = rng.uniform(0.5, 1.0) if rng.random() < 0.02 else rng.uniform(0.005, 0.25)
        added.append(
            sim.add_peer(
                f"02:77:00:{(i >> 16) & 0xFF:02x}:{(i >> 8) & 0xFF:02x}:{i & 0xFF:02x}",
                name=f"Demo peer {i}",
                latency=round(latency, 4),
                visible=i % 10 != 0,
                paired=i % 10 != 5,
                error=1726 if i % 25 == 7 else 0,
            )
        )
    return added


async def _open_all(
    client: Client, peers: tuple[Target, ...], timeout: float, progress: Progress
) -> list[Outcome]:
    async def one(peer: Target) -> Outcome:
        started = time.perf_counter()
        try:
            result: Session | BaseException = await client.open_session(
                peer.address, timeout=timeout
            )
        except (WFDError, TimeoutError) as exc:
            result = exc
        outcome = Outcome(peer, time.perf_counter() - started, result)
        progress.update(outcome.ok)
        return outcome

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.1)
            progress.tick()

    tick = asyncio.create_task(ticker()) if progress.live else None
    try:
        return await asyncio.gather(*(one(p) for p in peers))
    finally:
        if tick is not None:
            tick.cancel()
        progress.finish()


async def _legacy(client: Client, peers: tuple[Target, ...]) -> list[Outcome]:
    outcomes = []
    for peer in peers:
        if peer.legacy and peer.paired:
            started = time.perf_counter()
            try:
                result: Session | BaseException = await client.open_legacy_session(peer.address)
            except WFDError as exc:
                result = exc
            outcomes.append(Outcome(peer, time.perf_counter() - started, result))
    return outcomes


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1e3:.1f} ms"  # NaN: no samples


def validate(args: argparse.Namespace) -> None:
    """Check the options before any native call (UsageError: exit code 2)."""
    if args.peers is not None and args.backend not in (None, "sim"):
        raise UsageError("--peers adds simulated peers: it needs the sim backend")


async def run_demo(args: argparse.Namespace, out: Output) -> int:
    """The demo; returns the exit code. It runs on the simulator unless ``--backend`` names
    another backend; then it opens sessions to that backend's paired devices."""
    backend = args.backend or "sim"
    # Progress: with the text on stdout; beside a JSON document only on a terminal (stderr).
    stream = (sys.stderr if sys.stderr.isatty() else None) if out.json else out.stream
    async with Client(backend) as client:
        simulated = is_simulator(client.backend)
        if simulated:
            if args.peers is not None:
                add_demo_peers(args.peers)
            peers = tuple(Target.of_peer(p) for p in sim.peers())
        else:
            peers = tuple(Target.of_device(d) for d in await client.adevices())
        out.line(
            f"wifidirect {__version__} demo: backend {client.backend!r}, "
            f"negotiated API version {client.negotiated_version}"
        )
        if not simulated:
            out.line(f"{len(peers)} paired devices")
        out.line(f"opening {len(peers)} sessions concurrently (timeout {args.timeout:g} s) ...")
        progress = Progress(len(peers), stream)
        outcomes = await _open_all(client, peers, args.timeout, progress)
        if args.verbose or len(peers) <= LIST_LIMIT:
            for outcome in outcomes:
                out.line(outcome.text())
        legacy = await _legacy(client, peers)
        for outcome in legacy:
            line = (
                outcome.text().replace(" open    ", " legacy  ").replace(" failed  ", " legacy  ")
            )
            out.line(line)
        closed = len(client.sessions)
    stats = sim.stats() if simulated else None

    latencies = [o.seconds for o in outcomes]
    failures = Counter(o.failure_key() for o in outcomes if not o.ok)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    rows = [
        ("sessions attempted", str(len(outcomes))),
        ("opened", str(len(outcomes) - sum(failures.values()))),
        ("failed", str(sum(failures.values()))),
    ]
    rows += [(f"  {key}", str(n)) for key, n in sorted(failures.items())]
    rows += [("latency p50", _ms(p50)), ("latency p99", _ms(p99))]
    if legacy:
        rows.append(("legacy opened", f"{sum(o.ok for o in legacy)} of {len(legacy)}"))
    for text in table(rows, "summary"):
        out.line(text)
    note = (
        " (the simulator's default peers include an unpaired one and a failing one)"
        if args.peers is None and simulated
        else ""
    )
    out.line(
        f"closed {closed} sessions and the client; "
        f"{sum(failures.values())} of {len(outcomes)} opens failed{note}"
    )
    if stats is not None:
        out.line(
            f"simulator: {stats.callbacks_delivered} callbacks delivered, "
            f"{stats.violations} contract violations"
        )
    out.document(
        {
            "command": "demo",
            "ok": True,
            "version": __version__,
            "backend": client.backend,
            "negotiated_version": client.negotiated_version,
            "timeout": args.timeout,
            "opens": [o.json() for o in outcomes],
            "legacy": [o.json() for o in legacy],
            "summary": {
                "attempted": len(outcomes),
                "opened": len(outcomes) - sum(failures.values()),
                "failed": sum(failures.values()),
                "failures_by_error": {key.split(" ")[0]: n for key, n in sorted(failures.items())},
                "latency_ms": {
                    "p50": None if math.isnan(p50) else round(p50 * 1e3, 3),
                    "p99": None if math.isnan(p99) else round(p99 * 1e3, 3),
                },
            },
            "closed_sessions": closed,
            "simulator": None
            if stats is None
            else {
                "callbacks_delivered": stats.callbacks_delivered,
                "violations": stats.violations,
                "violations_by_kind": stats.violations_by_kind,
            },
        }
    )
    return 0 if stats is None or stats.violations == 0 else 1
