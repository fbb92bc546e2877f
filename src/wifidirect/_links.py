"""Disconnects: whether a session's link is still up, and waiting until it goes down.

A session's link counts as down (docs/design.md, "Disconnects") once

* the session is closed, or
* its network interface is not operationally up, or is gone after it had been seen, or
* its device's ``IsConnected`` property reads false after it had read true during the session,
  or reads false while its interface cannot be found.

Down is final: a session whose link went down stays disconnected (its handle still needs its
``close()``).

Waiting costs nothing while nobody waits: one watcher thread exists only while at least one
``wait_disconnected`` is in progress. It checks the watched sessions, then blocks in the
backend's ``wfdx_wait_link_change`` (change notifications: the simulator's drops and closes,
Windows' ``NotifyIpInterfaceChange``) for at most :data:`POLL` seconds, and ends when the last
waiter has gone.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._native import Backend
    from ._opens import Open

__all__ = ["POLL", "Link", "after_fork", "interface_guid", "is_down", "poke", "unwatch", "watch"]

log = logging.getLogger("wifidirect")

#: Seconds between two checks of the watched sessions while someone waits and no change
#: notification came (a device's IsConnected property has no notification here).
POLL = 1.0


class Link:
    """The link state of one session, as last checked."""

    __slots__ = ("down", "seen_connected", "seen_interface")

    def __init__(self) -> None:
        self.down = False  #: latched: the link went down (or the session closed)
        self.seen_interface = False  #: its interface has been found at least once
        self.seen_connected = False  #: its device has read IsConnected at least once


def _guid(backend: Backend, op: Open) -> bytes:
    return backend.guid_bytes(op.c)


def is_down(op: Open, link: Link) -> bool:
    """Check (native calls: the interface, the paired devices) and latch the link's state."""
    if link.down:
        return True
    if not op.is_open:
        link.down = True
        return True
    backend = op.client.backend
    _, interface = backend.get_interface(_guid(backend, op))
    if interface is not None:
        link.seen_interface = True
        if not interface.up:
            link.down = True
    elif link.seen_interface:
        link.down = True  # the interface went away
    if not link.down:
        _, devices = backend.list_devices()
        packed = op.address.packed
        for device in devices:
            if device.address == packed:
                if device.connected:
                    link.seen_connected = True
                elif link.seen_connected or interface is None:
                    link.down = True  # no longer connected, or never seen with its interface
                break
    if link.down:
        log.debug("session to %s: link down", op.address)
    return link.down


# -- the watcher -------------------------------------------------------------------------

_lock = threading.Lock()
#: waiter id -> (open, link, wake): what the watcher checks, and whom it wakes.
_watched: dict[int, tuple[Open, Link, Callable[[], None]]] = {}
_ids = itertools.count(1)
_running: list[threading.Thread] = []  # the watcher thread, while one runs


def watch(op: Open, link: Link, wake: Callable[[], None]) -> int:
    """Call ``wake`` (from the watcher thread) once the link is down; returns an id for
    :func:`unwatch`. ``wake`` must not block. The watcher checks the link at once: the caller
    makes no native call (it may be an event loop's thread)."""
    with _lock:
        key = next(_ids)
        _watched[key] = (op, link, wake)
        start = not _running
        if start:
            thread = threading.Thread(target=_watch, name="wifidirect-links", daemon=True)
            _running.append(thread)
    if start:
        thread.start()
    else:
        op.client.backend.link_poke()  # the watcher waits in the backend: check this one now
    return key


def poke(op: Open) -> None:
    """The session closed: wake the watcher if it watches it (its waiters return)."""
    if _watched and any(entry[0] is op for entry in list(_watched.values())):
        op.client.backend.link_poke()


def unwatch(key: int) -> None:
    """Stop watching (the waiter returned, timed out or was cancelled)."""
    with _lock:
        _watched.pop(key, None)


def _watch() -> None:
    seen = 0
    while True:
        with _lock:
            entries = list(_watched.items())
            if not entries:
                _running.clear()
                return
        backend = entries[0][1][0].client.backend
        for key, (op, link, wake) in entries:
            try:
                down = is_down(op, link)
            except Exception:  # a native failure must not end the watching of the others
                log.exception("checking the link of the session to %s failed", op.address)
                continue
            if down:
                with _lock:
                    gone = _watched.pop(key, None) is None
                if not gone:
                    try:
                        wake()
                    except Exception:
                        log.exception("waking a wait_disconnected() failed")
        seen = backend.wait_link_change(seen, POLL)


def after_fork() -> None:
    """In a forked child: the parent's watcher thread does not exist here."""
    global _lock
    _lock = threading.Lock()
    _watched.clear()
    _running.clear()


def interface_guid(backend: Backend, op: Open) -> uuid.UUID:
    """The session's interface GUID."""
    return uuid.UUID(bytes_le=_guid(backend, op))
