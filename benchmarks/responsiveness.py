"""What users feel besides speed: the event loop's lag while native calls are slow, the cost of
an idle process, and how fast a forked child that inherited a client exits.

    python benchmarks/responsiveness.py            # the full run (about 40 s)
    python benchmarks/responsiveness.py --quick    # shorter waits, for CI (no assertions)

Every scenario runs in a fresh interpreter against the simulator the package built:

1. lag: a 1 ms ticker on an event loop that opens sessions on a client, while in another thread
   a legacy open on the same client takes 1 s (``sim.set_call_delay``), and then while an open
   on another client times out and its cancel takes 1 s: the largest lateness of a tick.
2. idle: one asyncio open and close, then after wifidirect's threads' idle time, the context
   switches of every thread of the process but the main one over 10 s (from /proc, Linux):
   wake-ups per second, split into wifidirect's own threads and the simulator's workers.
3. fork: a process that used the async API and holds an open session forks; the child exits
   (sys.exit, so atexit runs): the time from fork() to the child's end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

PRELUDE = """
import asyncio, json, os, sys, threading, time
import wifidirect
from wifidirect import _native, sim
TV, PRINTER, SLOW = "02:00:5e:10:00:01", "02:00:5e:10:00:02", "02:00:00:00:be:02"
sim.add_peer(SLOW, latency=60.0)
ffi, lib = _native.simulator_lib()
FUNCTIONS = ("WFDOpenHandle", "WFDCloseHandle", "WFDStartOpenSession", "WFDCancelOpenSession",
             "WFDOpenLegacySession", "WFDCloseSession", "WFDUpdateDeviceVisibility")

def delay(function, seconds):
    assert lib.wfdsim_set_call_delay(FUNCTIONS.index(function), seconds) == 0

async def ticker(worst):
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.001)
        worst[0] = max(worst[0], loop.time() - before - 0.001)
"""

LAG = """
def legacy_sync(client, address):
    call = getattr(client, "open_legacy_session_sync", None) or client.open_legacy_session
    return call(address)

async def during(slow_call, client):
    worst = [0.0]
    tick = asyncio.ensure_future(ticker(worst))
    await asyncio.sleep(0.05)
    worst[0] = 0.0
    thread = threading.Thread(target=slow_call)
    thread.start()
    opened = 0
    while thread.is_alive():
        (await client.open_session(TV)).close()
        opened += 1
        await asyncio.sleep(0.01)
    tick.cancel()
    return worst[0], opened

mine, other = wifidirect.Client("sim"), wifidirect.Client("sim")
delay("WFDOpenLegacySession", 1.0)
legacy_lag, legacy_opens = asyncio.run(during(lambda: legacy_sync(mine, PRINTER).close(), mine))
delay("WFDOpenLegacySession", 0.0)
delay("WFDCancelOpenSession", 1.0)

def time_out():
    try:
        other.open_session_sync(SLOW, timeout=0.01)
    except TimeoutError:
        pass

cancel_lag, cancel_opens = asyncio.run(during(time_out, mine))
delay("WFDCancelOpenSession", 0.0)
mine.close()
other.close()
print(json.dumps({"legacy_other_thread_same_client_ms": legacy_lag * 1e3,
                  "opens_meanwhile_legacy": legacy_opens,
                  "cancel_other_client_ms": cancel_lag * 1e3,
                  "opens_meanwhile_cancel": cancel_opens}))
"""

IDLE = """
def threads():
    main = threading.get_native_id()
    found = {}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) == main:
            continue
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except FileNotFoundError:
            continue
        found[tid] = (name, int(fields["voluntary_ctxt_switches"])
                      + int(fields["nonvoluntary_ctxt_switches"]))
    return found

async def once():
    async with wifidirect.Client("sim") as client:
        (await client.open_session(TV)).close()

asyncio.run(once())
time.sleep(SETTLE)  # wifidirect's threads end after their idle time
before = threads()
time.sleep(WINDOW)
after = threads()
ours = sum(after[t][1] - before.get(t, ("", after[t][1]))[1]
           for t in after if not after[t][0].startswith("wfdsim"))
service = sum(after[t][1] - before.get(t, ("", after[t][1]))[1]
              for t in after if after[t][0].startswith("wfdsim"))
print(json.dumps({
    "window_s": WINDOW,
    "threads": sorted({name for name, _ in after.values()}),
    "thread_count": len(after),
    "wifidirect_wakeups_per_s": ours / WINDOW,
    "simulator_worker_wakeups_per_s": service / WINDOW,
}))
"""

FORK = """
client = wifidirect.Client("sim")
async def used():  # the program used the async API before it forks
    (await client.open_session(TV)).close()
asyncio.run(used())
session = client.open_session_sync(TV)
started = time.monotonic()
pid = os.fork()
if pid == 0:
    sys.exit(0)
os.waitpid(pid, 0)
elapsed = time.monotonic() - started
session.close()
client.close()
print(json.dumps({"fork_child_exit_s": elapsed}))
"""


def run(body: str, **constants: float) -> dict[str, object]:
    code = PRELUDE + "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    code += textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter waits (CI smoke)")
    args = parser.parse_args()
    results: dict[str, object] = {}
    results.update(run(LAG))
    if sys.platform == "linux":
        results.update(run(IDLE, SETTLE=2.5, WINDOW=2.0 if args.quick else 10.0))
    results.update(run(FORK))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
