"""Stress: many threads and an event loop open, cancel and close sessions concurrently against
peers with random latency. Every open resolves exactly once and the simulator's statistics
return to zero. Bounded by default; WIFIDIRECT_STRESS_SCALE=N multiplies the work (the README's
reliability section shows the long run)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import threading
from collections import Counter
from typing import Any

from helpers import settle

import wifidirect
from wifidirect import _opens, sim

SCALE = int(os.environ.get("WIFIDIRECT_STRESS_SCALE", "1"))
PEERS = [f"02:00:00:00:cc:{i:02x}" for i in range(8)]


def configure_peers(rng: random.Random) -> None:
    for i, address in enumerate(PEERS):
        sim.add_peer(
            address,
            latency=rng.choice([0.0, 0.0005, 0.001, 0.003]),
            error=1460 if i == 7 else 0,
            paired=i != 6,
        )


def test_threads_and_a_loop_hammer_one_client() -> None:
    rng = random.Random(1234)
    configure_peers(rng)
    client = wifidirect.Client()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    per_thread = 60 * SCALE

    def record(kind: str) -> None:
        with lock:
            outcomes[kind] += 1

    def classify(result: Any) -> str:
        if isinstance(result, wifidirect.Session):
            result.close()
            return "open"
        if isinstance(result, TimeoutError):
            return "timeout"
        if isinstance(result, asyncio.CancelledError):
            return "cancelled"
        if isinstance(result, wifidirect.OpenSessionError):
            return "failed"
        raise result

    def thread_worker(seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(per_thread):
                address = local.choice(PEERS)
                timeout = local.choice([None, None, 0.0, 0.0005, 0.002])
                try:
                    result: Any = client.open_session_sync(address, timeout=timeout)
                except (TimeoutError, wifidirect.OpenSessionError) as exc:
                    result = exc
                record(classify(result))
        except BaseException as exc:
            errors.append(exc)

    async def loop_worker() -> None:
        local = random.Random(99)

        async def one() -> None:
            address = local.choice(PEERS)
            task = asyncio.ensure_future(
                client.open_session(address, timeout=local.choice([None, 0.001, 0.0]))
            )
            if local.random() < 0.3:
                await asyncio.sleep(0)
                task.cancel()
            try:
                result: Any = await task
            except (asyncio.CancelledError, TimeoutError, wifidirect.OpenSessionError) as exc:
                result = exc
            record(classify(result))

        for _ in range(per_thread // 10):
            await asyncio.gather(*(one() for _ in range(10)))

    threads = [threading.Thread(target=thread_worker, args=(seed,)) for seed in range(6)]
    for t in threads:
        t.start()
    asyncio.run(loop_worker())
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    expected = 6 * per_thread + (per_thread // 10) * 10
    assert sum(outcomes.values()) == expected  # each open produced exactly one outcome
    assert outcomes["open"] > 0 and outcomes["failed"] > 0
    client.close()
    stats = settle()
    assert (stats.clients, stats.sessions, stats.pending_opens) == (0, 0, 0)
    assert _opens.pending_count() == 0
    # Every open that reached the simulator got exactly one callback (synchronous refusals get
    # none, and there are none here: the service and policy stay on). Every blocking open
    # reached it; an awaited one cancelled or timed out before its start (on a worker) did not.
    assert 6 * per_thread <= stats.callbacks_delivered <= expected


def test_many_clients_opened_and_closed_from_many_threads() -> None:
    rng = random.Random(5)
    configure_peers(rng)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(15 * SCALE):
                with wifidirect.Client() as client:
                    sessions = []
                    for _ in range(local.randint(0, 4)):
                        with contextlib.suppress(wifidirect.WFDError):
                            sessions.append(client.open_session_sync(local.choice(PEERS[:4])))
                    if sessions and local.random() < 0.5:
                        sessions[0].close()
                    # leaving the block closes the rest, then the handle
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    stats = settle()
    assert (stats.clients, stats.sessions, stats.pending_opens) == (0, 0, 0)
