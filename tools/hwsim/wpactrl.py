"""A client of one wpa_supplicant control socket, for the tools and tests of the real stack
(tools/hwsim/peer.py, tests/real/, benchmarks/real_stack.py): a datagram socket bound to a
path of its own (wpa_supplicant answers only a bound client), connected to the server's."""

from __future__ import annotations

import os
import socket
import tempfile


class Ctrl:
    """Requests on a wpa_supplicant control socket; its replies, past any events."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.local = tempfile.mktemp(prefix="wpactrl-", dir="/tmp")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.local)
        self.s.connect(path)

    def request(self, cmd: str, timeout: float | None = None) -> str:
        """The reply to ``cmd`` (events that arrive first, ``<N>...``, are skipped)."""
        self.s.settimeout(self.timeout if timeout is None else timeout)
        self.s.send(cmd.encode())
        while True:
            reply = self.s.recv(65536).decode(errors="replace")
            if not reply.startswith("<"):
                return reply

    def close(self) -> None:
        self.s.close()
        os.unlink(self.local)
