"""The real stack of tools/hwsim-test: the peer (its P2P device address, already paired, and
its control socket) and a shell in the guest. Outside tools/hwsim-test these tests are not
collected by default (the `real_stack` marker); asked for without the stack, they fail."""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import wifidirect
from wifidirect import wpas

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "hwsim"))
from wpactrl import Ctrl  # the real stack's control-socket client

pytestmark = pytest.mark.real_stack


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"${name} is not set: run these tests with tools/hwsim-test", pytrace=False)
    return value


class Shell:
    """One command line at a time in the guest (tools/hwsim/init's port "sh"). Each command's
    output is told from any late output of an earlier one by a marker of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0

    def run(self, line: str, timeout: float = 60.0) -> tuple[int, str]:
        self.count += 1
        start = f"@@start-{os.getpid()}-{self.count}@@".encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.path)
            s.settimeout(timeout)
            s.sendall(b"echo " + start + b"; " + line.encode() + b"\n")
            out = b""
            while True:
                begin = out.find(start + b"\n")
                if begin >= 0 and re.search(rb"@@rc=(\d+)@@", out[begin:]):
                    break
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        begin = out.find(start + b"\n")
        out = out[begin + len(start) + 1 :] if begin >= 0 else b""
        m = re.search(rb"@@rc=(\d+)@@", out)
        text = out[: m.start()].decode(errors="replace") if m else out.decode(errors="replace")
        return (int(m.group(1)) if m else -1), text


@pytest.fixture(scope="session")
def peer() -> str:
    """The peer's P2P device address (paired by tools/hwsim-test)."""
    return _env("WIFIDIRECT_TEST_PEER")


@pytest.fixture
def peer_ctrl() -> Iterator[Ctrl]:
    ctrl = Ctrl(_env("WIFIDIRECT_TEST_PEER_CTRL"))
    yield ctrl
    ctrl.close()


@pytest.fixture
def own_ctrl() -> Iterator[Ctrl]:
    """Our own wpa_supplicant's P2P device socket, for what a test sets beside the library."""
    ctrl = Ctrl(os.path.join(_env("WIFIDIRECT_WPAS_CTRL"), "p2p-dev-wlan0"))
    yield ctrl
    ctrl.close()


@pytest.fixture(scope="session")
def shell() -> Shell:
    return Shell(_env("WIFIDIRECT_TEST_SHELL"))


def our_groups(shell: Shell) -> list[str]:
    """Our side's group interfaces in the guest (p2p-wlan0-N)."""
    rc, out = shell.run("ls /sys/class/net")
    assert rc == 0, out
    return sorted(name for name in out.split() if name.startswith("p2p-wlan0-"))


def peer_groups(shell: Shell) -> list[str]:
    """The peer's group interfaces (p2p-wlan1-N), in its network namespace."""
    rc, out = shell.run("nsenter -t $(cat /tmp/peer-ns.pid) -n ip -o link show")
    assert rc == 0, out
    return sorted(set(re.findall(r"^\d+: (p2p-wlan1-\d+)[:@]", out, re.MULTILINE)))


@pytest.fixture(autouse=True)
def _nothing_left(shell: Shell) -> Iterator[None]:
    """Every test leaves the stack as it found it: no group interface of ours, and none on the
    peer (which must have been told that our group ended), so that each test starts clean."""
    yield
    deadline = time.monotonic() + 20
    while (our_groups(shell) or peer_groups(shell)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert our_groups(shell) == [], "a group interface was left behind"
    assert peer_groups(shell) == [], "the peer is still in a group 20 s after the test"


@pytest.fixture
def client() -> Iterator[wifidirect.Client]:
    wpas.set_timeouts(formation=60)  # software-emulated radios are slow
    with wifidirect.Client("wpas") as c:
        yield c
