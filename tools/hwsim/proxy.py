"""The host side of tools/hwsim/relay.c: wpa_supplicant's control sockets of the guest, as
ordinary UNIX datagram sockets on the host.

The guest's two wpa_supplicants share one control directory; here they get one each, so that
the library under test sees only its own (A):

* ``--a DIR``: the sockets of A's interfaces (``wlan0``, ``p2p-dev-wlan0``, ``p2p-wlan0-N``);
* ``--b DIR``: the peer's (``wlan1``, ``p2p-dev-wlan1``, ``p2p-wlan1-N``).

A group interface's socket appears when its ``P2P-GROUP-STARTED`` passes through. Every host
client (each bound address on each socket) is one client of the relay, so ``ATTACH`` works per
client as with a local wpa_supplicant. Frames: see relay.c.

    python tools/hwsim/proxy.py --chardev RUN/wpa.sock --a RUN/ctrl-a --b RUN/ctrl-b
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import selectors
import socket
import struct
import sys
import time

HEAD = struct.Struct(">IHB")  # payload length, client, name length


class Proxy:
    def __init__(self, chardev: str, dirs: dict[str, str]) -> None:
        self.dirs = dirs  # "wlan0" -> A's directory, "wlan1" -> B's
        self.sel = selectors.DefaultSelector()
        self.link = self._connect(chardev)
        self.sel.register(self.link, selectors.EVENT_READ, None)
        self.socks: dict[str, socket.socket] = {}
        self.clients: dict[tuple[str, str | bytes], int] = {}
        self.by_id: dict[int, tuple[str, str | bytes]] = {}
        self.buf = b""
        for name in ("wlan0", "p2p-dev-wlan0", "wlan1", "p2p-dev-wlan1"):
            self._bind(name)

    @staticmethod
    def _connect(path: str) -> socket.socket:
        deadline = time.monotonic() + 60
        while True:  # QEMU creates the chardev's socket when it starts
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _dir_for(self, name: str) -> str | None:
        for radio, directory in self.dirs.items():
            if name.endswith(radio) or re.fullmatch(rf"p2p-{radio}-\d+", name):
                return directory
        return None

    def _bind(self, name: str) -> None:
        directory = self._dir_for(name)
        if name in self.socks or directory is None:
            return
        path = os.path.join(directory, name)
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        self.socks[name] = s
        self.sel.register(s, selectors.EVENT_READ, name)

    def _client(self, name: str, addr: str | bytes) -> int:
        key = (name, addr)
        number = self.clients.get(key)
        if number is None:
            number = self.clients[key] = len(self.clients) + 1
            self.by_id[number] = key
        return number

    def _from_host(self, name: str, s: socket.socket) -> None:
        data, addr = s.recvfrom(65536)
        if not addr:
            return  # an unbound client cannot get a reply (as with wpa_supplicant itself)
        raw = name.encode()
        self.link.sendall(HEAD.pack(len(data), self._client(name, addr), len(raw)) + raw + data)

    def _from_guest(self) -> None:
        data = self.link.recv(65536)
        if not data:
            sys.exit("proxy: the guest closed the link")
        self.buf += data
        while len(self.buf) >= HEAD.size:
            length, number, nlen = HEAD.unpack_from(self.buf)
            end = HEAD.size + nlen + length
            if len(self.buf) < end:
                return
            name = self.buf[HEAD.size : HEAD.size + nlen].decode()
            payload = self.buf[HEAD.size + nlen : end]
            self.buf = self.buf[end:]
            started = re.search(rb"P2P-GROUP-STARTED (\S+)", payload)
            if started:
                self._bind(started.group(1).decode())
            key = self.by_id.get(number)
            if key is None or key[0] != name or name not in self.socks:
                continue
            with contextlib.suppress(OSError):  # that client went away
                self.socks[name].sendto(payload, key[1])

    def run(self) -> None:
        print("proxy: ready", flush=True)
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    self._from_guest()
                else:
                    self._from_host(key.data, key.fileobj)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chardev", required=True)
    parser.add_argument("--a", required=True, help="directory for A's sockets")
    parser.add_argument("--b", required=True, help="directory for the peer's sockets")
    args = parser.parse_args()
    for d in (args.a, args.b):
        os.makedirs(d, exist_ok=True)
    Proxy(args.chardev, {"wlan0": args.a, "wlan1": args.b}).run()


if __name__ == "__main__":
    main()
