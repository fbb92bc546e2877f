"""_dispatch.running_loop: asyncio.get_running_loop without a system call per open (< 3.12)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from wifidirect import _dispatch


def _both_versions(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]) -> object:
    monkeypatch.setattr(sys, "version_info", version)
    return _dispatch._make_running_loop()


@pytest.mark.parametrize("version", [(3, 11), (3, 12)])
def test_it_is_the_running_loop_of_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]
) -> None:
    running_loop = _both_versions(monkeypatch, version)
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

    with pytest.raises(RuntimeError):
        running_loop()  # no loop runs in this thread now


def test_no_fork_hook_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows has no os.register_at_fork: building the helper must not need it.
    monkeypatch.delattr(os, "register_at_fork", raising=False)
    running_loop = _both_versions(monkeypatch, (3, 11))

    async def check() -> bool:
        return running_loop() is asyncio.get_running_loop()

    assert asyncio.run(check())
