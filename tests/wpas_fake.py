"""A scripted wpa_supplicant control interface for the wpas backend's unit tier.

:class:`FakeWpas` binds UNIX datagram sockets named like wpa_supplicant's
(``<dir>/p2p-dev-wlan0``, ``<dir>/wlan0``) and answers the backend's requests with the replies
real wpa_supplicant 2.10 gave, and sends the event sequences it sent, as recorded on simulated
radios (tests/data/wpas/*.jsonl, from tools/hwsim-test's stack; :func:`recorded` reads them).
Each peer has a scripted behaviour (accepts, refuses, forgot the group, silent, unknown until
found, ...); the server can also turn hostile: truncate or pad replies, send unknown or
malformed events, stall, or vanish mid-open. Every request it received is in :attr:`requests`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).with_name("data") / "wpas"
#: $WIFIDIRECT_WPAS_TRACE: print every request (the backend's C prints its side too)
TRACE = bool(os.environ.get("WIFIDIRECT_WPAS_TRACE"))

OWN = "42:00:00:00:00:00"  # our P2P device address in the recordings
PEER = "42:00:00:00:01:00"  # the peer's
PEER_IFACE = "46:00:00:00:01:00"  # the peer's interface address


def recorded(name: str, direction: str | None = None) -> list[tuple[str, str, str]]:
    """A recording's datagrams: (socket, direction, text), in order."""
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if direction is None or r["dir"] == direction:
            rows.append((r["sock"], r["dir"], r["data"]))
    return rows


def _first(name: str, pattern: str) -> str:
    """The first recorded datagram matching a regular expression."""
    for _, _, text in recorded(name):
        if re.search(pattern, text):
            return text
    raise LookupError(pattern)


CYCLES = "session-cycles-A.jsonl"
STATUS = _first(
    CYCLES, r"^wpa_state=DISCONNECTED\np2p_device_address=42:00:00:00:00:00\naddress=42"
)
PEER_INFO = _first(CYCLES, r"^42:00:00:00:01:00\npri_dev_type")
INVITE_OK = _first(CYCLES, r"P2P-INVITATION-RESULT status=0")
GROUP_STARTED_GO = _first(CYCLES, r"P2P-GROUP-STARTED p2p-wlan0-1 GO")
STA_CONNECTED = _first(CYCLES, r"^<3>AP-STA-CONNECTED")
STA_DISCONNECTED = _first(CYCLES, r"^<3>AP-STA-DISCONNECTED")
GROUP_REMOVED_GO = _first(CYCLES, r"P2P-GROUP-REMOVED p2p-wlan0-1 GO reason=REQUESTED")
DEVICE_FOUND = _first(CYCLES, r"P2P-DEVICE-FOUND")
NOISE = [
    _first(CYCLES, r"CTRL-EVENT-SCAN-STARTED"),
    _first(CYCLES, r"WPS-ENROLLEE-SEEN"),
    _first(CYCLES, r"CTRL-EVENT-REGDOM-CHANGE"),
]
PERSIST = "persistence-A.jsonl"
INVITE_REFUSED = _first(PERSIST, r"P2P-INVITATION-RESULT status=1")
INVITE_UNKNOWN_GROUP = _first(PERSIST, r"P2P-INVITATION-RESULT status=8")
GROUP_STARTED_CLIENT = _first(PERSIST, r"P2P-GROUP-STARTED p2p-wlan0-\d+ client")
GROUP_REMOVED_BY_PEER = _first(PERSIST, r"GO_ENDING_SESSION")


@dataclass
class Peer:
    """A scripted peer. ``behaviour``: what an invitation does:

    * ``"accept"``: INVITATION-RESULT status=0, the group starts, the peer joins;
    * ``"refuse"``: status=1 (the peer does not re-invoke without its user);
    * ``"forgot"``: status=8 (the peer no longer has the group);
    * ``"silent"``: OK, then nothing (the peer is gone: wpa_supplicant retries quietly);
    * ``"hidden"``: P2P_INVITE answers FAIL (not in the peer table) until a P2P_FIND finds it
      (after ``find_delay``), then it accepts;
    * ``"absent"``: P2P_INVITE answers FAIL and no search finds it.
    """

    address: str
    behaviour: str = "accept"
    we_go: bool = True  # the stored group: we own it (else the peer does)
    delay: float = 0.01  # seconds from the invite to its result
    find_delay: float = 0.05
    name: str = "hwsim-p2p-1"
    net_id: int = 0
    found: bool = False  # a discovery found it: it is in the peer table


@dataclass
class FakeWpas:
    """The scripted server; use as a context manager."""

    directory: Path
    peers: dict[str, Peer] = field(default_factory=dict)
    #: every request received: (socket name, text)
    requests: list[tuple[str, str]] = field(default_factory=list)
    update_config: int = 0
    #: hostile modes: "truncate" cuts replies, "pad" makes them oversized, "noise" sends unknown
    #: and malformed events around each real one, "stall" answers nothing
    hostile: set[str] = field(default_factory=set)
    p2p: bool = True  # STATUS says p2p_device_address

    def __post_init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._socks: dict[str, socket.socket] = {}
        self._attached: dict[str, set[bytes | str]] = {}
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._groups = 0
        self._finding = False
        self._stop = False
        self.open_groups: dict[str, str] = {}  # ifname -> peer
        self.farewells: set[str] = set()  # groups whose station was sent DEAUTHENTICATE
        for name in ("p2p-dev-wlan0", "wlan0"):
            self._bind(name)
        self._thread = threading.Thread(target=self._serve, name="fake-wpas", daemon=True)
        self._thread.start()

    # -- scripting -------------------------------------------------------------------------

    def add_peer(self, address: str = PEER, **kwargs: object) -> Peer:
        peer = Peer(address, net_id=len(self.peers), **kwargs)  # type: ignore[arg-type]
        self.peers[address] = peer
        return peer

    def event(self, text: str, sock: str = "p2p-dev-wlan0", after: float = 0.0) -> None:
        """Send an event to the clients attached to a socket (after a delay)."""
        if after > 0:
            timer = threading.Timer(after, self.event, (text, sock))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            return
        if "noise" in self.hostile:
            for junk in (
                *NOISE,
                "<3>",
                "<>",
                "<99999999>X",
                "\x00\xff" * 10,
                "<3>P2P-GROUP-STARTED",
            ):
                self._send_event(junk, sock)
        self._send_event(text, sock)

    def drop_peer(self, address: str = PEER) -> None:
        """The peer leaves: as group owner we see AP-STA-DISCONNECTED for it."""
        line = STA_DISCONNECTED.replace(PEER, address)
        self.event(line)

    def peer_ends_group(self) -> None:
        """The peer removes the group (as if it owned it): P2P-GROUP-REMOVED for ours."""
        for ifname in list(self.open_groups):
            self.event(f"<3>P2P-GROUP-REMOVED {ifname} client reason=GO_ENDING_SESSION")
            del self.open_groups[ifname]

    def vanish(self) -> None:
        """wpa_supplicant goes away: the sockets close and their files disappear."""
        self._stop = True
        for name, s in list(self._socks.items()):
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(s)
            s.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.directory / name)
        self._socks.clear()

    def close(self) -> None:
        if TRACE:
            print("fake requests:", self.requests, file=sys.stderr)
        for timer in self._timers:
            timer.cancel()
        self.vanish()
        self._thread.join(5)

    def __enter__(self) -> FakeWpas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def commands(self, prefix: str) -> list[str]:
        """The requests received that start with ``prefix``."""
        return [text for _, text in self.requests if text.startswith(prefix)]

    # -- the server --------------------------------------------------------------------------

    def _bind(self, name: str) -> None:
        path = self.directory / name
        if path.exists():
            path.unlink()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(str(path))
        self._socks[name] = s
        self._attached[name] = set()
        self._sel.register(s, selectors.EVENT_READ, name)

    def _unbind(self, name: str) -> None:
        s = self._socks.pop(name, None)
        if s is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(s)
        s.close()
        self._attached.pop(name, None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.directory / name)

    def _send_event(self, text: str, sock: str) -> None:
        s = self._socks.get(sock)
        if s is None:
            return
        for addr in list(self._attached.get(sock, ())):
            try:  # never block on a client that does not read (as wpa_supplicant does not)
                s.sendto(text.encode("utf-8", "surrogateescape"), socket.MSG_DONTWAIT, addr)
            except BlockingIOError:
                pass
            except OSError:
                self._attached[sock].discard(addr)

    def _serve(self) -> None:
        try:
            self._serve_loop()
        except BaseException:
            traceback.print_exc()  # a broken script must not look like a silent wpa_supplicant
            raise

    def _serve_loop(self) -> None:
        while not self._stop:
            try:
                ready = self._sel.select(0.05)
            except (OSError, ValueError):
                return
            for key, _ in ready:
                try:
                    data, addr = key.fileobj.recvfrom(65536)  # type: ignore[union-attr]
                except OSError:
                    continue
                if not addr:
                    continue  # an unbound client: wpa_supplicant cannot answer it either
                text = data.decode("utf-8", "replace")
                with self._lock:
                    self.requests.append((key.data, text))
                if TRACE:
                    print(f"[fake {time.monotonic():.3f}] {key.data}: {text!r}", file=sys.stderr)
                reply = self._answer(key.data, text, addr)
                if reply is None or "stall" in self.hostile:
                    continue
                if "truncate" in self.hostile and len(reply) > 4:
                    reply = reply[: len(reply) // 2]
                if "pad" in self.hostile:
                    reply = reply + "x" * 20000
                server: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):  # the client went away
                    server.sendto(reply.encode(), socket.MSG_DONTWAIT, addr)

    def _networks(self) -> str:
        lines = ["network id / ssid / bssid / flags"]
        for peer in self.peers.values():
            if peer.behaviour == "unpaired":
                continue
            bssid = OWN if peer.we_go else peer.address
            lines.append(f"{peer.net_id}\tDIRECT-zk\t{bssid}\t[DISABLED][P2P-PERSISTENT]")
        return "\n".join(lines) + "\n"

    def _peer_by_net(self, net_id: int) -> Peer | None:
        return next((p for p in self.peers.values() if p.net_id == net_id), None)

    def _answer(self, sock: str, text: str, addr: bytes | str) -> str | None:  # noqa: PLR0911
        """The reply to one command (a dispatcher: one return per command)."""
        words = text.split()
        cmd = words[0] if words else ""
        if cmd == "ATTACH":
            self._attached[sock].add(addr)
            return "OK\n"
        if cmd == "DETACH":
            self._attached[sock].discard(addr)
            return "OK\n"
        if cmd == "PING":
            return "PONG\n"
        if cmd == "STATUS":
            return STATUS if self.p2p else "wpa_state=DISCONNECTED\naddress=02:00:00:00:00:00\n"
        if text == "GET update_config":
            return str(self.update_config)
        if cmd == "LIST_NETWORKS":
            return self._networks()
        if cmd == "GET_NETWORK" and len(words) == 3 and words[2] == "p2p_client_list":
            peer = self._peer_by_net(int(words[1]))
            if peer is None or not peer.we_go:
                return "FAIL\n"
            return peer.address
        if (
            cmd == "P2P_PEER"
            and len(words) == 2
            and (words[1] == "FIRST" or words[1].startswith("NEXT-"))
        ):
            # wpa_supplicant's walk over the peers it has found, one per request
            listed = [
                p
                for p in self.peers.values()
                if p.behaviour != "absent" and (p.behaviour != "hidden" or p.found)
            ]
            index = 0
            if words[1] != "FIRST":
                after = [i for i, p in enumerate(listed) if p.address == words[1][5:]]
                index = after[0] + 1 if after else len(listed)
            if index >= len(listed):
                return "FAIL\n"
            peer = listed[index]
            return PEER_INFO.replace(PEER, peer.address).replace("hwsim-p2p-1", peer.name)
        if cmd == "P2P_PEER" and len(words) == 2:
            peer = self.peers.get(words[1])
            if (
                peer is None
                or peer.behaviour == "absent"
                or (peer.behaviour == "hidden" and not peer.found)
            ):
                return "FAIL\n"
            return PEER_INFO.replace(PEER, peer.address).replace("hwsim-p2p-1", peer.name)
        if cmd == "P2P_FIND":
            self._finding = True
            for peer in self.peers.values():
                if peer.behaviour != "absent":
                    peer.found = True
                    found = DEVICE_FOUND.replace(PEER, peer.address).replace(
                        "hwsim-p2p-1", peer.name
                    )
                    self.event(found, after=peer.find_delay)
            return "OK\n"
        if cmd == "P2P_STOP_FIND":
            self._finding = False
            self.event("<3>P2P-FIND-STOPPED ")
            return "OK\n"
        if cmd == "P2P_CANCEL":
            return "OK\n"  # as wpa_supplicant: no event
        if cmd == "P2P_INVITE":
            return self._invite(text)
        if cmd == "P2P_GROUP_REMOVE" and len(words) == 2:
            ifname = words[1]
            if ifname not in self.open_groups:
                return "FAIL\n"
            peer = self.open_groups.pop(ifname)
            self._unbind(ifname)
            self.event(GROUP_REMOVED_GO.replace("p2p-wlan0-1", ifname))
            if ifname not in self.farewells:
                self.event(STA_DISCONNECTED.replace(PEER, peer))
            return "OK\n"
        if cmd == "DEAUTHENTICATE" and sock in self.open_groups and len(words) >= 2:
            # on a group interface's socket, as its owner: the station is told to go
            self.farewells.add(sock)
            self.event(STA_DISCONNECTED.replace(PEER, self.open_groups[sock]))
            return "OK\n"
        if cmd == "P2P_CONNECT":
            return self._connect(words)
        if cmd == "REMOVE_NETWORK" and len(words) == 2:
            peer = self._peer_by_net(int(words[1]))
            if peer is None:
                return "FAIL\n"
            del self.peers[peer.address]
            return "OK\n"
        if cmd == "SAVE_CONFIG":
            return "OK\n" if self.update_config else "FAIL\n"
        return "UNKNOWN COMMAND\n"

    def _invite(self, text: str) -> str:  # noqa: PLR0911 (one return per peer behaviour)
        m = re.fullmatch(r"P2P_INVITE persistent=(\d+) peer=([0-9a-f:]{17})", text)
        if m is None:
            return "FAIL\n"
        peer = self.peers.get(m.group(2))
        if peer is None or peer.net_id != int(m.group(1)) or peer.behaviour == "absent":
            return "FAIL\n"
        if peer.behaviour == "hidden" and not peer.found:
            return "FAIL\n"
        if peer.behaviour == "silent":
            return "OK\n"
        if peer.behaviour == "refuse":
            self.event(INVITE_REFUSED, after=peer.delay)
            return "OK\n"
        if peer.behaviour == "forgot":
            self.event(INVITE_UNKNOWN_GROUP, after=peer.delay)
            return "OK\n"
        ifname = f"p2p-wlan0-{self._groups}"
        self._groups += 1
        self.open_groups[ifname] = peer.address
        self.event(INVITE_OK, after=peer.delay)
        if peer.we_go:
            self._bind(ifname)  # the group interface's own control socket
            started = GROUP_STARTED_GO.replace("p2p-wlan0-1", ifname)
            self.event(started, after=peer.delay * 2)
            self.event(STA_CONNECTED.replace(PEER, peer.address), after=peer.delay * 3)
        else:
            started = re.sub(r"p2p-wlan0-\d+", ifname, GROUP_STARTED_CLIENT)
            self.event(started.replace(PEER, peer.address), after=peer.delay * 2)
        return "OK\n"

    def _connect(self, words: list[str]) -> str:
        if len(words) < 3:
            return "FAIL\n"
        peer = self.peers.get(words[1])
        if peer is None or (peer.behaviour == "hidden" and not peer.found):
            return "FAIL\n"
        if peer.behaviour in ("refuse", "silent", "absent"):
            if peer.behaviour == "refuse":
                self.event("<3>P2P-GO-NEG-FAILURE status=1", after=peer.delay)
            return "OK\n"
        ifname = f"p2p-wlan0-{self._groups}"
        self._groups += 1
        self.open_groups[ifname] = peer.address
        if peer.behaviour == "unpaired":
            peer.behaviour = "accept"  # paired now: its persistent group is stored
        self.event(GROUP_STARTED_GO.replace("p2p-wlan0-1", ifname), after=peer.delay)
        self.event(STA_CONNECTED.replace(PEER, peer.address), after=peer.delay * 2)
        return "OK\n"


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
