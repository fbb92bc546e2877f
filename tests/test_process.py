"""The process around the library: an idle process costs nothing, a client does not survive
fork(), and a forked child (also a multiprocessing pool's) works and exits promptly.

Each scenario runs in a fresh interpreter, so that its threads, hooks and fork happen in a
process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform has no fork()")
needs_proc = pytest.mark.skipif(
    sys.platform != "linux", reason="counts thread wake-ups in /proc (Linux)"
)

PRELUDE = """
import asyncio, os, sys, threading, time
import wifidirect
from wifidirect import sim
TV = "02:00:5e:10:00:01"
"""


def run_script(body: str, timeout: float = 60) -> str:
    code = PRELUDE + textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "ResourceWarning" not in proc.stderr, proc.stderr
    return proc.stdout


def test_importing_starts_no_thread_and_registers_no_hook() -> None:
    out = run_script(
        """
        import atexit, threading
        import logging, pytest  # what the plugin imports may register hooks of its own
        baseline = atexit._ncallbacks()
        import wifidirect.testing
        assert [t.name for t in threading.enumerate()] == ["MainThread"]
        assert atexit._ncallbacks() == baseline
        from wifidirect import _process
        assert not _process._installed
        wifidirect.Client().close()  # the first client installs the exit and fork hooks
        assert _process._installed and atexit._ncallbacks() > baseline
        print("ok")
        """
    )
    assert out.strip() == "ok"


@needs_proc
def test_an_idle_process_has_no_thread_of_wifidirect_and_none_wakes() -> None:
    # After one asyncio open and close, and wifidirect's workers' idle time, no thread of the
    # library is left, and no thread of the process wakes (the simulator's two workers, which
    # stand for the WLAN service, sleep until there is work). Counted by the kernel's context
    # switches of every thread but the main one, over half a second.
    out = run_script(
        """
        from wifidirect import _native, _workers
        _workers.IDLE = 0.1  # wifidirect's threads end after 0.1 s without work
        _native.get_backend("sim").set_idle(0.1)
        async def main():
            async with wifidirect.Client() as client:
                (await client.open_session(TV)).close()
        asyncio.run(main())
        time.sleep(0.5)
        assert not [t.name for t in threading.enumerate() if t.name.startswith("wifidirect")]
        def name(tid):
            with open(f"/proc/self/task/{tid}/comm") as f:
                return f.read().strip()
        names = [name(tid) for tid in os.listdir("/proc/self/task")]
        assert not [name for name in names if name.startswith("wifidirect")], names

        def switches():
            main = threading.get_native_id()
            counts = {}
            for tid in os.listdir("/proc/self/task"):
                if int(tid) != main:
                    with open(f"/proc/self/task/{tid}/status") as f:
                        fields = dict(line.split(":", 1) for line in f if ":" in line)
                    counts[tid] = sum(
                        int(fields[k]) for k in
                        ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
                    )
            return counts

        before = switches()
        time.sleep(0.5)
        after = switches()
        print(len(after), sum(after[t] - before.get(t, 0) for t in after))
        """
    )
    threads, wakeups = map(int, out.split())
    assert threads == 2  # the simulator's workers: asleep
    assert wakeups == 0


@needs_fork
def test_a_client_does_not_survive_fork_and_the_child_starts_afresh() -> None:
    out = run_script(
        """
        client = wifidirect.Client()
        session = client.open_session_sync(TV)
        reader, writer = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            checks = {}
            fresh = sim.stats()
            checks["fresh simulator"] = (fresh.clients, fresh.sessions) == (0, 0)
            checks["inherited objects closed"] = client.closed and session.closed
            try:
                client.open_session_sync(TV)
            except wifidirect.ClosedError:
                checks["inherited client raises ClosedError"] = True
            session.close()  # closed already: no native call
            client.close()
            checks["no native call"] = sim.stats() == fresh
            with wifidirect.Client() as new:
                with new.open_session_sync(TV, timeout=5):
                    checks["a new client works"] = sim.stats().sessions == 1
            os.write(writer, repr(checks).encode())
            sys.exit(0)  # a normal exit: atexit hooks run in the child
        os.close(writer)
        _, status = os.waitpid(pid, 0)
        elapsed = time.monotonic() - started
        checks = eval(os.read(reader, 4096).decode())
        assert status == 0, status
        assert checks == dict.fromkeys(checks, True) and len(checks) == 5, checks
        # the parent's objects are untouched
        assert not session.closed and sim.stats().sessions == 1
        session.close()
        client.close()
        print(f"{elapsed:.3f}")
        """
    )
    assert float(out) < 3.0  # benchmarks/ measures it: well under half a second


@needs_fork
def test_a_fork_mode_multiprocessing_pool_works_in_a_parent_that_used_the_library() -> None:
    out = run_script(
        """
        import multiprocessing

        def open_once(i):
            with wifidirect.Client() as client:
                with client.open_session_sync(TV, timeout=5) as session:
                    return str(session.address)

        if __name__ == "__main__":
            with wifidirect.Client() as client:  # the parent uses the library first
                client.open_session_sync(TV).close()
                async def opens():
                    (await client.open_session(TV)).close()
                asyncio.run(opens())
                with multiprocessing.get_context("fork").Pool(2) as pool:
                    print(pool.map_async(open_once, range(4)).get(30))
        """
    )
    assert out.strip() == str([*["02:00:5e:10:00:01"] * 4])
