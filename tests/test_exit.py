"""Interpreter exit with work in flight exits cleanly: right status, in time, quiet stderr."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import asyncio, os, sys, threading, time
import wifidirect
from wifidirect import sim
sim.add_peer("02:00:00:00:00:02", latency=60.0)
SLOW = "02:00:00:00:00:02"
"""

SCRIPTS = {
    "asyncio_opens_in_flight": """
client = wifidirect.Client()
async def main():
    for _ in range(5):
        asyncio.ensure_future(client.open_session(SLOW))
    await asyncio.sleep(0.05)
    assert sim.stats().pending_opens == 5
    os._exit  # keep flake quiet
    sys.exit(0)
asyncio.run(main())
""",
    "daemon_threads_blocked_in_open": """
client = wifidirect.Client()
def worker():
    try:
        client.open_session_sync(SLOW)
    except wifidirect.ClosedError:
        pass
for _ in range(3):
    threading.Thread(target=worker, daemon=True).start()
while sim.stats().pending_opens < 3:
    time.sleep(0.001)
""",
    "exit_from_code_run_after_a_completion": """
async def main():
    async with wifidirect.Client() as client:
        pending = asyncio.ensure_future(client.open_session(SLOW))
        session = await client.open_session("02:00:5e:10:00:01")
        asyncio.get_running_loop().call_soon(sys.exit, 3)
        await asyncio.sleep(1)
asyncio.run(main())
""",
    "user_error_after_a_completion": """
async def main():
    async with wifidirect.Client() as client:
        asyncio.ensure_future(client.open_session(SLOW))
        await client.open_session("02:00:5e:10:00:01")
        raise KeyError("user bug")
asyncio.run(main())
""",
    "unclosed_everything": """
client = wifidirect.Client()
session = client.open_session_sync("02:00:5e:10:00:01")
""",
}

EXPECTED_STATUS = {"exit_from_code_run_after_a_completion": 3, "user_error_after_a_completion": 1}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_exit_is_clean(name: str) -> None:
    code = PRELUDE + textwrap.dedent(SCRIPTS[name])
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-X", "dev", "-c", code],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == EXPECTED_STATUS.get(name, 0), proc.stderr
        stderr = proc.stderr
        if name == "user_error_after_a_completion":
            assert "KeyError: 'user bug'" in stderr
            stderr = stderr[: stderr.index("Traceback")]
        for bad in (
            "Fatal Python error",
            "Exception ignored",
            "shutdown",
            "Segmentation",
            "Traceback",
            "Task was destroyed",
        ):
            assert bad not in stderr, stderr
