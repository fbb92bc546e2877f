"""Soak: N asyncio open->close cycles (default 1,000,000) against a zero-latency simulator peer,
printing RSS as it goes; fails if RSS grew by more than --max-growth KiB between the warm-up
checkpoint (20% of N) and the end.

    python tools/soak.py [--cycles N] [--inflight K] [--max-growth KIB]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time

import wifidirect
from wifidirect import sim

PEER = "02:00:00:00:50:01"


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def soak(cycles: int, inflight: int) -> tuple[int, int]:
    checkpoint = cycles // 5
    warm = end = 0
    async with wifidirect.Client("sim") as client:
        done = 0
        started = time.monotonic()
        while done < cycles:
            batch = min(inflight, cycles - done)
            for session in await asyncio.gather(*(client.open_session(PEER) for _ in range(batch))):
                session.close()
            done += batch
            if done % 100_000 < batch or done == cycles:
                rate = done / (time.monotonic() - started)
                print(
                    f"{done:>9,} cycles  RSS {rss_kib():>7,} KiB  {rate:,.0f} cycles/s", flush=True
                )
            if warm == 0 and done >= checkpoint:
                gc.collect()
                warm = rss_kib()
    gc.collect()
    end = rss_kib()
    return warm, end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1_000_000)
    parser.add_argument("--inflight", type=int, default=100)
    parser.add_argument("--max-growth", type=int, default=256, help="KiB allowed after warm-up")
    args = parser.parse_args()
    sim.reset()
    sim.add_peer(PEER, latency=0.0)
    warm, end = asyncio.run(soak(args.cycles, args.inflight))
    stats = sim.stats()
    print(
        f"RSS after warm-up ({args.cycles // 5:,} cycles): {warm:,} KiB; at the end: {end:,} KiB;"
        f" growth {end - warm:+,} KiB; simulator: {stats.callbacks_delivered:,} callbacks, "
        f"{stats.violations} violations, {stats.sessions} sessions, {stats.clients} clients"
    )
    ok = end - warm <= args.max_growth and stats.violations == 0 and stats.sessions == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
