"""Interrupt-safe and process-safe: an exception raised by a signal handler at any point leaves
no lock held and nothing lost or open; a signal handler may close a client; a task's cancel is
never swallowed; every exception pickles; the async API outside asyncio fails clearly and
leaks nothing.

The signal scenarios run in a fresh interpreter each (signals go to the main thread)."""

from __future__ import annotations

import asyncio
import pickle
import signal
import subprocess
import sys
import textwrap
from collections.abc import Coroutine
from typing import Any

import pytest
from helpers import SLOW, TV, settle

import wifidirect
from wifidirect import _loops, _native, _opens, errors, sim

needs_itimer = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="needs POSIX interval timers (SIGALRM)"
)

PRELUDE = """
import asyncio, os, random, signal, sys, threading, time
import wifidirect
from wifidirect import _opens, _workers, sim
TV = "02:00:5e:10:00:01"
PEERS = ["02:00:00:00:ee:01", "02:00:00:00:ee:02", "02:00:00:00:ee:03", "02:00:00:00:ee:04"]
sim.add_peer(PEERS[0], latency=0.0)
sim.add_peer(PEERS[1], latency=0.001)
sim.add_peer(PEERS[2], latency=0.003, error=1460)
sim.add_peer(PEERS[3], latency=0.002, legacy=True)
"""


def run_script(body: str, timeout: float = 120) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@needs_itimer
def test_keyboard_interrupts_from_an_interval_timer_during_bursts_lose_nothing() -> None:
    # Every few milliseconds a signal handler raises KeyboardInterrupt wherever the main thread
    # is: in an open, a close, a wait, the completion drain of its event loop, a lock's block.
    # Afterwards a fresh open must succeed at once, the client must close promptly, and
    # nothing may be left open or pending, on our side or the simulator's.
    out = run_script(
        """
        client = wifidirect.Client()
        rng = random.Random(7)
        interrupts = 0

        def boom(signum, frame):
            raise KeyboardInterrupt

        async def burst():
            tasks = [
                asyncio.ensure_future(client.open_session(rng.choice(PEERS[:3]), timeout=0.01))
                for _ in range(30)
            ]
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, wifidirect.Session):
                    result.close()

        def blocking_burst():
            for _ in range(30):
                try:
                    client.open_session_sync(rng.choice(PEERS[:3]), timeout=0.01).close()
                except (TimeoutError, wifidirect.OpenSessionError):
                    pass
            client.open_legacy_session_sync(PEERS[3]).close()

        signal.signal(signal.SIGALRM, boom)
        signal.setitimer(signal.ITIMER_REAL, 0.004, 0.004)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                try:
                    blocking_burst()
                    asyncio.run(burst())
                except KeyboardInterrupt:
                    interrupts += 1
            except KeyboardInterrupt:  # one that lands in the handler above
                interrupts += 1
        while True:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                # Ignored, not default: a signal already on its way must neither raise after
                # this loop nor terminate the process.
                signal.signal(signal.SIGALRM, signal.SIG_IGN)
                break
            except KeyboardInterrupt:
                interrupts += 1
        import gc
        gc.collect()  # sessions the interrupts dropped are closed by their finalizers

        # before the client closes: nothing of the bursts is left open or pending
        assert sim.wait_idle(10) and _workers.drain(10) and sim.wait_idle(10)
        before = sim.stats()
        leftover = (before.sessions, before.pending_opens, len(client._state.ops))

        started = time.monotonic()
        client.open_session_sync(TV, timeout=5).close()
        fresh_open = time.monotonic() - started
        started = time.monotonic()
        client.close()
        close = time.monotonic() - started
        assert sim.wait_idle(10) and _workers.drain(10) and sim.wait_idle(10)
        stats = sim.stats()
        print(interrupts, f"{fresh_open:.3f}", f"{close:.3f}", *leftover, stats.clients,
              stats.sessions, stats.pending_opens, stats.violations, _opens.pending_count())
        """
    )
    interrupts, fresh_open, close, *left = out.split()
    assert int(interrupts) >= 50, out  # the timer really hit the bursts
    assert float(fresh_open) < 1.0 and float(close) < 2.0, out
    # (before the close: sessions pending ours; after it: clients sessions pending violations
    # ours)
    assert left == ["0"] * 8, f"left over: {out}"


@needs_itimer
def test_a_signal_handler_may_close_the_client() -> None:
    # The handler runs on the main thread in the middle of whatever it was doing with the same
    # client (a blocking open, an awaited one), and closes it: no deadlock, and the interrupted
    # calls end with ClosedError.
    out = run_script(
        """
        outcomes = []
        for mode in ("blocking", "asyncio") * 5:
            client = wifidirect.Client()
            signal.signal(signal.SIGALRM, lambda signum, frame: client.close())
            signal.setitimer(signal.ITIMER_REAL, 0.02)
            try:
                if mode == "blocking":
                    while True:
                        client.open_session_sync(PEERS[1]).close()
                else:
                    async def go():
                        while True:
                            opens = (client.open_session(PEERS[1]) for _ in range(20))
                            await asyncio.gather(*opens)
                    asyncio.run(go())
            except wifidirect.ClosedError:
                outcomes.append(mode)
            assert client.closed
        assert sim.wait_idle(10) and _workers.drain(10) and sim.wait_idle(10)
        stats = sim.stats()
        print(len(outcomes), stats.clients, stats.sessions, stats.pending_opens, stats.violations)
        """,
        timeout=60,
    )
    assert out.split() == ["10", "0", "0", "0", "0"], out


class _InterruptOnce(asyncio.Future):  # type: ignore[type-arg]
    """A future whose first resolution is interrupted, as a signal handler could do there."""

    interrupted = False

    def set_result(self, result: object) -> None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        super().set_result(result)


class _Waiting:
    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    def abandon(self) -> None:
        raise AssertionError("a running loop's completions are never given back")


def test_an_interrupted_drain_of_completions_loses_nothing() -> None:
    loop = asyncio.new_event_loop()
    try:
        inbox = _loops.Inbox(loop)
        ops = [_Waiting(loop.create_future()) for _ in range(5)]
        ops[2].future = _InterruptOnce(loop=loop)
        for op in ops:
            inbox.push(op)  # one drain scheduled for all five
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.sleep(0.01))
        assert [op.future.done() for op in ops] == [True, True, False, False, False]
        # the application goes on running its loop: the rest arrive
        loop.run_until_complete(asyncio.sleep(0.01))
        assert all(op.future.done() for op in ops)
        assert not inbox.items and "scheduled" not in inbox.flags
    finally:
        loop.close()


def test_an_interrupt_right_after_the_native_start_loses_no_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # KeyboardInterrupt as the native start returns, before the facade recorded anything: the
    # open still belongs to the facade, which cancels it and closes what opened.
    real = _native.Backend.start_open

    def start_then_interrupt(self: _native.Backend, op: object, address: bytes) -> int:
        real(self, op, address)
        raise KeyboardInterrupt

    client = wifidirect.Client()
    monkeypatch.setattr(_native.Backend, "start_open", start_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        client.open_session_sync(TV)
    monkeypatch.undo()
    stats = settle()  # the completion came; the session it opened was closed
    assert (stats.sessions, stats.pending_opens) == (0, 0) and client.sessions == ()
    assert _opens.pending_count() == 0
    client.open_session_sync(TV).close()  # and the client works on
    client.close()


def test_a_cancel_during_a_timeouts_cleanup_is_raised_not_swallowed() -> None:
    # The timeout fires, the cleanup waits for the cancelled open's callback (the cancel is
    # slow), and the task is cancelled meanwhile: the task must end cancelled, every time.
    sim.add_peer(SLOW, latency=60.0)
    sim.set_call_delay("WFDCancelOpenSession", 0.1)

    async def main() -> list[str]:
        outcomes = []
        async with wifidirect.Client() as client:
            for _ in range(10):
                task = asyncio.ensure_future(client.open_session(SLOW, timeout=0.02))
                await asyncio.sleep(0.06)  # the timeout's cleanup is under way
                task.cancel()
                try:
                    await task
                    outcomes.append("opened")
                except asyncio.CancelledError:
                    outcomes.append("cancelled")
                except TimeoutError:
                    outcomes.append("swallowed")
        return outcomes

    assert asyncio.run(main()) == ["cancelled"] * 10
    assert settle().pending_opens == 0


def _every_exception() -> list[BaseException]:
    examples: list[BaseException] = [
        wifidirect.WFDError(1722, "WFDCloseSession", "detail"),
        wifidirect.ClosedError("the client is closed"),
        wifidirect.BackendUnavailableError("wlanapi", "Wlanapi.dll exists only on Windows"),
        wifidirect.ConfigurationError("unknown backend 'x'"),
        errors.open_session_error(1062, 5, "02:00:00:00:00:01"),
        errors.open_session_error(5023, 6, "02:00:00:00:00:02"),
        errors.open_session_error(1460, 9, "02:00:00:00:00:03"),
    ]
    for cls in vars(errors).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, wifidirect.WFDError)
            and cls.code
            and not issubclass(cls, wifidirect.OpenSessionError)
        ):
            examples.append(cls(cls.code, "WFDOpenHandle"))
    return examples


@pytest.mark.parametrize("exc", _every_exception(), ids=lambda e: type(e).__name__)
def test_every_exception_pickles_with_its_attributes(exc: BaseException) -> None:
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and str(copy) == str(exc)
    for name in ("winerror", "function", "reason_code", "address", "backend", "why"):
        assert getattr(copy, name, None) == getattr(exc, name, None), name


def test_every_public_exception_class_is_covered() -> None:
    covered = {type(e) for e in _every_exception()}
    public = {
        obj
        for obj in vars(wifidirect).values()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    }
    assert public <= covered


def _drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine the way a non-asyncio framework (trio, ...) would: no asyncio loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine waited for something asyncio would have to run")


def test_the_async_api_outside_asyncio_raises_a_clear_error_and_leaks_nothing() -> None:
    client = wifidirect.Client()
    for call in (
        lambda: client.open_session(TV),
        lambda: client.open_legacy_session(TV),
        lambda: client.update_device_visibility(TV),
    ):
        with pytest.raises(RuntimeError, match="asyncio"):
            _drive(call())
    session = client.open_session_sync(TV)
    with pytest.raises(RuntimeError, match="asyncio"):
        _drive(session.aclose())
    assert session.closed  # closed all the same
    with pytest.raises(RuntimeError, match="asyncio"):
        _drive(client.__aenter__())  # `async with Client()` under trio
    assert client.closed
    stats = settle()
    assert (stats.clients, stats.sessions, stats.pending_opens) == (0, 0, 0)
