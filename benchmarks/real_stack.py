"""Open/close cycles on the real stack (tools/hwsim-test --run python benchmarks/real_stack.py):
how long an open takes, how much of it is wpa_supplicant's formation and how much is ours, and
whether anything is left behind.

For each cycle: t0 when ``open_session_sync`` is called; the time a monitor of our own (a second
socket ATTACHed to the same wpa_supplicant) receives the event that completes the formation
(``AP-STA-CONNECTED`` of the peer as group owner, ``P2P-GROUP-STARTED ... client`` as client);
t1 when the open returns. "delivery" = t1 - event: the library's share after wpa_supplicant
said the group is complete (the event thread's parse, the completion, the hand-off to the
waiting thread). The monitor and the library receive the same datagram independently, so the
difference can come out slightly negative: its spread is the measurement's resolution. Before
the invite the library makes three requests (LIST_NETWORKS, GET_NETWORK, P2P_INVITE), whose
round trip is measured separately. After the cycles the guest's interfaces are listed: no
group interface of ours may be left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "real"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "hwsim"))

from wpactrl import Ctrl  # the real stack's control-socket client

import wifidirect
from wifidirect import wpas


class Monitor:
    """An ATTACHed control socket whose events are timestamped on arrival, on a thread."""

    def __init__(self, path: str) -> None:
        self.ctrl = Ctrl(path, timeout=5)
        assert self.ctrl.request("ATTACH").startswith("OK")
        self.events: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.ctrl.s.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                data = self.ctrl.s.recv(65536)
            except TimeoutError:
                continue
            now = time.perf_counter()
            with self.lock:
                self.events.append((now, data.decode(errors="replace")))

    def first_after(self, t0: float, pattern: str) -> float | None:
        with self.lock:
            for t, text in self.events:
                if t >= t0 and re.search(pattern, text):
                    return t
        return None

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        with contextlib.suppress(OSError):
            self.ctrl.s.send(b"DETACH")
        self.ctrl.close()


def request(path: str, cmd: str) -> float:
    """One request's round trip in seconds."""
    ctrl = Ctrl(path, timeout=5)
    try:
        started = time.perf_counter()
        ctrl.request(cmd)
        return time.perf_counter() - started
    finally:
        ctrl.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument(
        "--pause",
        type=float,
        default=1.5,
        help="seconds between a close and the next open (default 1.5: past the 1 s settle time, "
        "so each open is a formation alone; 0 measures back-to-back cycles)",
    )
    args = parser.parse_args()
    peer = os.environ.get("WIFIDIRECT_TEST_PEER")
    ctrl = os.environ.get("WIFIDIRECT_WPAS_CTRL")
    if not peer or not ctrl:
        print("run it with tools/hwsim-test --run python benchmarks/real_stack.py", file=sys.stderr)
        return 2
    from conftest import Shell, our_groups  # the real tier's guest shell

    path = os.path.join(ctrl, "p2p-dev-wlan0")
    wpas.set_timeouts(formation=60)
    peer_re = re.escape(peer)
    done = (
        rf"AP-STA-CONNECTED \S+ p2p_dev_addr={peer_re}"
        rf"|P2P-GROUP-STARTED \S+ client .*go_dev_addr={peer_re}"
    )
    monitor = Monitor(path)
    rows = []
    try:
        with wifidirect.Client("wpas") as client:
            for cycle in range(args.cycles):
                t0 = time.perf_counter()
                session = client.open_session_sync(peer, timeout=90)
                t1 = time.perf_counter()
                time.sleep(0.2)  # the monitor's thread may still be reading the event
                event = monitor.first_after(t0, done)
                session.close()
                time.sleep(args.pause)
                rows.append(
                    (
                        t1 - t0,
                        None if event is None else event - t0,
                        None if event is None else t1 - event,
                    )
                )
                total, ev, delivery = rows[-1]
                ev_text = "-" if ev is None else f"{ev * 1000:.1f} ms"
                de_text = "-" if delivery is None else f"{delivery * 1000:.2f} ms"
                print(
                    f"cycle {cycle + 1:2d}: open {total * 1000:.1f} ms,",
                    f"formation event at {ev_text}, delivery {de_text}",
                    flush=True,
                )
    finally:
        monitor.close()
    pre = [request(path, cmd) for cmd in ("LIST_NETWORKS", "GET_NETWORK 0 p2p_client_list") * 5]
    left = our_groups(Shell(os.environ["WIFIDIRECT_TEST_SHELL"]))
    totals = [r[0] * 1000 for r in rows]
    deliveries = [r[2] * 1000 for r in rows if r[2] is not None]
    median_pre = statistics.median(pre) * 1000
    print()
    print(f"open: median {statistics.median(totals):.1f} ms,", end=" ")
    print(f"min {min(totals):.1f}, max {max(totals):.1f} ({len(rows)} cycles)")
    if deliveries:
        print(
            f"delivery after wpa_supplicant's event: median {statistics.median(deliveries):.2f}",
            end=" ",
        )
        print(f"ms, max {max(deliveries):.2f} ms")
    print(f"one request's round trip through the relay: median {median_pre:.2f} ms", end=" ")
    print("(the library makes 3 before each invite)")
    print(f"group interfaces of ours left: {left or 'none'}")
    return 0 if not left and len(deliveries) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
