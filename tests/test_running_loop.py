"""_loops.running_loop: asyncio.get_running_loop without a system call per open (< 3.12), and a
clear error outside asyncio."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest

from wifidirect import _loops


def _for_version(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]) -> object:
    monkeypatch.setattr(sys, "version_info", version)
    return _loops._make_running_loop()


@pytest.mark.parametrize("version", [(3, 11), (3, 12)])
def test_it_is_the_running_loop_of_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]
) -> None:
    running_loop = _for_version(monkeypatch, version)
    assert callable(running_loop)

    async def check() -> asyncio.AbstractEventLoop:
        loop = running_loop()
        assert loop is asyncio.get_running_loop()
        assert running_loop() is loop  # the cached answer is still right
        return loop

    first = asyncio.run(check())
    second = asyncio.run(check())  # a new loop in the same thread: not the cached one
    assert first is not second

    found: list[asyncio.AbstractEventLoop] = []
    worker = threading.Thread(target=lambda: found.append(asyncio.run(check())))
    worker.start()
    worker.join()
    assert found and found[0] is not second

    with pytest.raises(RuntimeError, match="asyncio event loop"):
        running_loop()  # no loop runs in this thread now


def test_the_cache_is_dropped_in_a_forked_child() -> None:
    async def check() -> None:
        _loops.running_loop()

    asyncio.run(check())
    _loops.after_fork()
    assert _loops._last_loop == []
