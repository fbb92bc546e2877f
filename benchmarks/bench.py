"""Side-by-side measurements of wifidirect, a plain ctypes binding and the C floor.

    python benchmarks/bench.py            # full run: pinned (CPU 0) and unpinned, one table
    python benchmarks/bench.py --quick    # small N, for CI (no assertions on time)

Every row uses the simulator the package built (``wifidirect._wfdsim``): the ctypes baseline
loads the same shared library and the C floor (floor.c) receives the same function addresses.
Rows: native call overhead; async open->close latency and throughput with 1/100/1,000/10,000
in flight; blocking latency; memory per pending open and RSS drift over many cycles.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PEER = "02:00:00:00:be:01"  # zero latency: measures the binding, not a sleep
SLOW = "02:00:00:00:be:02"  # a pending open that stays pending


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build_floor() -> ctypes.CDLL:
    out = HERE / ".build" / "floor.so"
    src = HERE / "floor.c"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        out.parent.mkdir(exist_ok=True)
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [
                cc,
                "-std=c11",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-shared",
                "-fPIC",
                "-pthread",
                str(src),
                "-o",
                str(out),
            ],
            check=True,
        )
    floor = ctypes.CDLL(str(out))
    floor.floor_visibility_ns.restype = ctypes.c_double
    floor.floor_visibility_ns.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_long]
    floor.floor_cycles.restype = ctypes.c_double
    floor.floor_cycles.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_long,
        ctypes.c_long,
        ctypes.POINTER(ctypes.c_double),
    ]
    return floor


class Bench:
    """The measurements of one process: ``impl`` is the implementation it measures ("facade",
    "ctypes" or "floor": the C floor and the event loop's own), so that no binding's state (a
    thread state its callbacks created on the simulator's threads, say) flatters another."""

    def __init__(self, quick: bool, impl: str = "facade") -> None:
        self.impl = impl
        import wifidirect
        from wifidirect import _native, sim

        self.quick = quick
        self.wifidirect = wifidirect
        self.sim = sim
        sim.reset()
        sim.add_peer(PEER, name="bench", latency=0.0)
        sim.add_peer(SLOW, name="bench-slow", latency=3600.0)
        self.ffi, self.lib = _native.simulator_lib()
        module = sys.modules["wifidirect._wfdsim"]
        from ctypes_binding import MAC, CtypesWFD

        self.ctypes_wfd = CtypesWFD(str(module.__file__))
        self.ctypes_mac = MAC(*wifidirect.MacAddress(PEER).packed)
        self.floor = build_floor()
        self.results: dict[str, Any] = {}

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def addr(self, name: str) -> int:
        return int(self.ffi.cast("uintptr_t", self.ffi.addressof(self.lib, name)))

    # -- row 1 ------------------------------------------------------------------------------

    def native_call_overhead(self) -> None:
        n = self.n(1_000_000, 20_000)
        mac = self.wifidirect.MacAddress(PEER)
        raw = bytes(mac)
        out = self.results["call_ns"] = {}
        if self.impl == "floor":
            out["c_loop"] = self.floor.floor_visibility_ns(
                self.addr("WFDUpdateDeviceVisibility"), raw, n
            )
            func = self.lib.WFDUpdateDeviceVisibility
            ptr = self.ffi.new("DOT11_MAC_ADDRESS *", list(raw))
            t0 = time.perf_counter()
            for _ in range(n):
                func(ptr)
            out["cffi_raw"] = (time.perf_counter() - t0) / n * 1e9
            return
        if self.impl == "ctypes":
            wfd_dll = self.ctypes_wfd.dll
            cfunc, cmac = wfd_dll.WFDUpdateDeviceVisibility, ctypes.byref(self.ctypes_mac)
            t0 = time.perf_counter()
            for _ in range(n):
                cfunc(cmac)
            out["ctypes"] = (time.perf_counter() - t0) / n * 1e9
            return
        with self.wifidirect.Client("sim") as client:
            update = client.update_device_visibility_sync
            t0 = time.perf_counter()
            for _ in range(n):
                update(mac)
            out["facade"] = (time.perf_counter() - t0) / n * 1e9
            t0 = time.perf_counter()
            for _ in range(n):
                update(PEER)
            out["facade_str"] = (time.perf_counter() - t0) / n * 1e9

    # -- row 2 ------------------------------------------------------------------------------

    def loop_floor(self, n: int) -> list[float]:
        """A bare call_soon_threadsafe round trip: the loop asks a thread, the thread answers
        through call_soon_threadsafe. No native code: the event loop's own floor."""

        async def run() -> list[float]:
            loop = asyncio.get_running_loop()
            request = threading.Lock()
            request.acquire()
            box: list[Any] = [None]
            stop = False

            def responder() -> None:
                while True:
                    request.acquire()
                    if stop:
                        return
                    loop.call_soon_threadsafe(box[0].set_result, None)

            thread = threading.Thread(target=responder, daemon=True)
            thread.start()
            lat = []
            for _ in range(n):
                box[0] = loop.create_future()
                t0 = time.perf_counter()
                request.release()
                await box[0]
                lat.append(time.perf_counter() - t0)
            stop = True
            request.release()
            thread.join()
            return lat

        return asyncio.run(run())

    def async_latency(self, n: int) -> dict[str, list[float]]:
        wfd = self.wifidirect
        mac = wfd.MacAddress(PEER)
        ct, cmac = self.ctypes_wfd, self.ctypes_mac

        async def facade() -> list[float]:
            lat = []
            async with wfd.Client("sim") as client:
                for _ in range(n):
                    t0 = time.perf_counter()
                    session = await client.open_session(mac)
                    lat.append(time.perf_counter() - t0)
                    session.close()
            return lat

        async def baseline() -> list[float]:
            lat = []
            for _ in range(n):
                t0 = time.perf_counter()
                session = await ct.open_session(cmac)
                lat.append(time.perf_counter() - t0)
                ct.close_session(session)
            return lat

        if self.impl == "facade":
            return {"facade": asyncio.run(facade())}
        if self.impl == "ctypes":
            return {"ctypes": asyncio.run(baseline())}
        return {"loop_floor": self.loop_floor(n), "c_floor": self.c_floor_latency(n)}

    def c_floor(self, n: int, inflight: int, lat: Any = None) -> float:
        """floor.c's open->close cycles on a fresh client handle; wall time in ns."""
        handle = self.ffi.new("HANDLE *")
        version = self.ffi.new("DWORD *")
        assert self.lib.WFDOpenHandle(1, version, handle) == 0
        client = int(self.ffi.cast("uintptr_t", handle[0]))
        mac = bytes(self.wifidirect.MacAddress(PEER))
        start, close = self.addr("WFDStartOpenSession"), self.addr("WFDCloseSession")
        total = self.floor.floor_cycles(start, close, client, mac, n, inflight, lat)
        assert total > 0, total
        assert self.lib.WFDCloseHandle(handle[0]) == 0
        return float(total)

    def c_floor_latency(self, n: int) -> list[float]:
        lat = (ctypes.c_double * n)()
        self.c_floor(n, 1, lat)
        return [v / 1e9 for v in lat]

    def c_floor_throughput(self, n: int, inflight: int) -> float:
        return n / (self.c_floor(n, inflight) / 1e9)

    def throughput(self, inflight: int, n: int) -> dict[str, float]:
        wfd = self.wifidirect
        mac = wfd.MacAddress(PEER)
        ct, cmac = self.ctypes_wfd, self.ctypes_mac

        async def drive(cycle: Any) -> float:
            remaining = [n]

            async def worker() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    await cycle()

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(inflight)))
            return n / (time.perf_counter() - t0)

        async def facade() -> float:
            async with wfd.Client("sim") as client:

                async def cycle() -> None:
                    (await client.open_session(mac)).close()

                return await drive(cycle)

        async def baseline() -> float:
            async def cycle() -> None:
                ct.close_session(await ct.open_session(cmac))

            return await drive(cycle)

        if self.impl == "facade":
            return {"facade": asyncio.run(facade())}
        if self.impl == "ctypes":
            return {"ctypes": asyncio.run(baseline())}
        return {"c_floor": self.c_floor_throughput(n, inflight)}

    # -- row 3 ------------------------------------------------------------------------------

    def blocking_latency(self, n: int) -> dict[str, list[float]]:
        wfd = self.wifidirect
        mac = wfd.MacAddress(PEER)
        lat: list[float] = []
        if self.impl == "facade":
            with wfd.Client("sim") as client:
                for _ in range(n):
                    t0 = time.perf_counter()
                    session = client.open_session_sync(mac)
                    lat.append(time.perf_counter() - t0)
                    session.close()
            return {"facade": lat}
        if self.impl == "ctypes":
            ct, cmac = self.ctypes_wfd, self.ctypes_mac
            for _ in range(n):
                t0 = time.perf_counter()
                session_handle = ct.open_session_sync(cmac)
                lat.append(time.perf_counter() - t0)
                ct.close_session(session_handle)
            return {"ctypes": lat}
        return {"c_floor": self.c_floor_latency(n)}

    # -- row 4 ------------------------------------------------------------------------------

    def memory_per_pending(self, count: int) -> dict[str, float]:
        """Memory held per pending open, in a process that has done nothing else (rows 1-3 run
        in another process: memory they freed would be reused here and hide the cost)."""
        wfd, sim = self.wifidirect, self.sim
        slow = wfd.MacAddress(SLOW)

        async def pending(client: Any, size: int) -> list[Any]:
            tasks = [asyncio.ensure_future(client.open_session(slow)) for _ in range(size)]
            while sim.stats().pending_opens < size:
                await asyncio.sleep(0.001)
            return tasks

        async def run() -> dict[str, float]:
            client = wfd.Client("sim")
            warm = await pending(client, 100)  # code paths, pools and tables touched once
            for task in warm:
                task.cancel()
            await asyncio.gather(*warm, return_exceptions=True)
            gc.collect()
            tracemalloc.start()
            rss0 = rss_bytes()
            snap0 = tracemalloc.take_snapshot()
            tasks = await pending(client, count)
            rss1 = rss_bytes()
            snap1 = tracemalloc.take_snapshot()
            tracemalloc.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            client.close()
            stats = snap1.compare_to(snap0, "filename")
            ours = sum(s.size_diff for s in stats if "wifidirect" in str(s.traceback))
            python_total = sum(s.size_diff for s in stats)
            return {
                "rss_per_open": (rss1 - rss0) / count,
                "python_per_open": python_total / count,
                "wifidirect_py_per_open": ours / count,
            }

        return asyncio.run(run())

    def rss_drift(self, total: int, checkpoint: int) -> dict[str, float]:
        wfd = self.wifidirect
        mac = wfd.MacAddress(PEER)
        samples: dict[str, float] = {}

        async def run() -> None:
            async with wfd.Client("sim") as client:
                done = 0
                inflight = 100
                while done < total:
                    batch = min(inflight, total - done)
                    for session in await asyncio.gather(
                        *(client.open_session(mac) for _ in range(batch))
                    ):
                        session.close()
                    done += batch
                    if done % 100_000 == 0 or done == checkpoint:
                        if done == checkpoint:
                            gc.collect()
                            samples["at_checkpoint"] = rss_bytes()
                        log(f"  rss drift: {done:,} cycles, RSS {rss_bytes() / 2**20:.1f} MiB")
                gc.collect()
                samples["at_end"] = rss_bytes()

        asyncio.run(run())
        return {
            "checkpoint_cycles": checkpoint,
            "total_cycles": total,
            "drift_kib": (samples["at_end"] - samples["at_checkpoint"]) / 1024,
        }

    # -- all --------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        log("row 1: native call overhead")
        self.native_call_overhead()
        n = self.n(20_000, 1_000)
        log(f"row 2: async latency ({n:,} cycles)")
        lat = self.async_latency(n)
        self.results["async_latency_us"] = {
            k: {"p50": percentile(v, 0.5) * 1e6, "p99": percentile(v, 0.99) * 1e6}
            for k, v in lat.items()
        }
        self.results["async_throughput"] = {}
        for inflight in (1, 100, 1000, 10_000):
            cycles = self.n(max(50_000, 5 * inflight), max(2_000, 2 * inflight))
            log(f"row 2: async throughput, {inflight:,} in flight ({cycles:,} cycles)")
            self.results["async_throughput"][str(inflight)] = self.throughput(inflight, cycles)
        log(f"row 3: blocking latency ({n:,} cycles)")
        blk = self.blocking_latency(n)
        self.results["blocking_latency_us"] = {
            k: {"p50": percentile(v, 0.5) * 1e6, "p99": percentile(v, 0.99) * 1e6}
            for k, v in blk.items()
        }
        self.ctypes_wfd.close()
        return self.results

    def run_memory(self) -> dict[str, Any]:
        # The drift first: the 10,000-pending row frees ~30 MB, which the allocator would hand
        # back to the system during a later drift measurement and show as shrinking RSS.
        total = self.n(1_000_000, 20_000)
        checkpoint = self.n(200_000, 5_000)
        log(f"row 4: RSS drift from cycle {checkpoint:,} to {total:,}")
        self.results["memory"] = self.rss_drift(total, checkpoint)
        log("row 4: memory per pending open (10,000 in flight)")
        self.results["memory"].update(self.memory_per_pending(10_000 if not self.quick else 1_000))
        self.ctypes_wfd.close()
        return self.results


IMPLS = ("facade", "ctypes", "floor")


def merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    """Merge one process's results into ``into``, nested dictionaries key by key."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def table(runs: dict[str, dict[str, Any]]) -> str:
    modes = list(runs)
    head = "| row | " + " | ".join(modes) + " |"
    lines = [head, "|---|" + "---|" * len(modes)]

    def row(label: str, fmt: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(fmt(runs[m]) for m in modes) + " |")

    for key, label in (
        ("c_loop", "C loop"),
        ("cffi_raw", "raw cffi lib call"),
        ("ctypes", "ctypes call"),
        ("facade", "facade (MacAddress)"),
        ("facade_str", "facade (str address)"),
    ):
        row(f"1. call overhead, ns/call: {label}", lambda r, k=key: f"{r['call_ns'][k]:.0f}")
    for key, label in (
        ("facade", "facade"),
        ("ctypes", "ctypes + call_soon_threadsafe"),
        ("c_floor", "C floor"),
        ("loop_floor", "bare call_soon_threadsafe"),
    ):
        row(
            f"2. async latency p50 / p99 µs: {label}",
            lambda r, k=key: (
                f"{r['async_latency_us'][k]['p50']:.1f} / {r['async_latency_us'][k]['p99']:.1f}"
            ),
        )
    for inflight in ("1", "100", "1000", "10000"):
        for key, label in (
            ("facade", "facade"),
            ("ctypes", "ctypes"),
            ("c_floor", "C floor"),
        ):
            row(
                f"2. async cycles/s, {int(inflight):,} in flight: {label}",
                lambda r, i=inflight, k=key: f"{r['async_throughput'][i][k]:,.0f}",
            )
    for key, label in (
        ("facade", "facade open_session_sync"),
        ("ctypes", "ctypes + threading.Event"),
        ("c_floor", "C floor"),
    ):
        row(
            f"3. blocking latency p50 / p99 µs: {label}",
            lambda r, k=key: (
                f"{r['blocking_latency_us'][k]['p50']:.1f} / "
                f"{r['blocking_latency_us'][k]['p99']:.1f}"
            ),
        )
    row(
        "4. bytes per pending open: RSS (all, incl. the awaiting task)",
        lambda r: f"{r['memory']['rss_per_open']:.0f}",
    )
    row(
        "4. bytes per pending open: Python heap (all)",
        lambda r: f"{r['memory']['python_per_open']:.0f}",
    )
    row(
        "4. bytes per pending open: allocated in wifidirect",
        lambda r: f"{r['memory']['wifidirect_py_per_open']:.0f}",
    )
    row(
        "4. RSS drift, KiB",
        lambda r: (
            f"{r['memory']['drift_kib']:+.0f} "
            f"({r['memory']['checkpoint_cycles']:,} → "
            f"{r['memory']['total_cycles']:,} cycles)"
        ),
    )
    return "\n".join(lines)


def targets(r: dict[str, Any]) -> str:
    call, alat = r["call_ns"], r["async_latency_us"]
    thr, blat, mem = r["async_throughput"]["1000"], r["blocking_latency_us"], r["memory"]
    checks = [
        (
            "async throughput at 1,000 in flight: facade >= 2x ctypes",
            thr["facade"] / thr["ctypes"],
            2.0,
            ">=",
        ),
        (
            "async latency p50: facade <= 3x bare call_soon_threadsafe round trip",
            alat["facade"]["p50"] / alat["loop_floor"]["p50"],
            3.0,
            "<=",
        ),
        (
            "blocking latency p50: facade <= 2x C floor",
            blat["facade"]["p50"] / blat["c_floor"]["p50"],
            2.0,
            "<=",
        ),
        ("call overhead: facade <= 3x raw cffi", call["facade"] / call["cffi_raw"], 3.0, "<="),
        ("call overhead: facade below ctypes", call["facade"] / call["ctypes"], 1.0, "<"),
        (
            "memory: <= 1 KiB per pending open (wifidirect's own)",
            mem["wifidirect_py_per_open"],
            1024,
            "<=",
        ),
        (
            "memory: <= 1 KiB per pending open (RSS, all incl. the task)",
            mem["rss_per_open"],
            1024,
            "<=",
        ),
        (
            "memory: no RSS growth after warm-up (KiB; <= 256 is allocator noise)",
            mem["drift_kib"],
            256.0,
            "<=",
        ),
    ]
    lines = ["| target | measured | met |", "|---|---|---|"]
    for label, value, bound, op in checks:
        met = {"<=": value <= bound, ">=": value >= bound, "<": value < bound}[op]
        shown = (
            f"{value:.2f}x"
            if "x " in label or label.endswith("cffi") or "ctypes" in label
            else f"{value:.0f}"
        )
        lines.append(f"| {label} | {shown} | {'met' if met else 'NOT met'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N (CI smoke)")
    parser.add_argument("--mode", choices=("pinned", "unpinned"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", choices=("speed", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--impl", choices=IMPLS, default="facade", help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    args = parser.parse_args()
    if args.mode:  # one measuring process
        if args.mode == "pinned":
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        bench = Bench(args.quick, args.impl)
        print(json.dumps(bench.run() if args.rows == "speed" else bench.run_memory()))
        return 0
    runs = {}
    for mode in ("pinned", "unpinned"):
        log(f"== {mode} run ==")
        result: dict[str, Any] = {}
        # Each implementation's speed rows, and the memory rows, in a process of their own.
        for rows, impl in [*(("speed", impl) for impl in IMPLS), ("memory", "facade")]:
            log(f"-- {rows} rows: {impl}")
            cmd = [sys.executable, __file__, "--mode", mode, "--rows", rows, "--impl", impl]
            cmd += ["--quick"] if args.quick else []
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
            merge(result, json.loads(proc.stdout))
        runs["pinned to one CPU" if mode == "pinned" else "unpinned (2 CPUs)"] = result
    print(
        f"wifidirect benchmark{' (quick)' if args.quick else ''}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print(table(runs))
    pinned = next(iter(runs.values()))
    print("\nTargets (ratios from the pinned run):\n")
    print(targets(pinned))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
