"""Session: one open Wi-Fi Direct session (from an open or a legacy open)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
import warnings
import weakref
from types import TracebackType
from typing import TYPE_CHECKING

from . import _links, _loops, _workers
from ._opens import ADOPTED, CLOSED, ORPHANED
from ._timeouts import check_timeout
from .address import MacAddress
from .interfaces import Interface

if TYPE_CHECKING:
    from ._opens import Open
    from .client import Client

__all__ = ["Session"]


class Session:
    """An open Wi-Fi Direct session, returned by ``Client.open_session``,
    ``Client.open_session_sync`` and the legacy forms.

    Close it with :meth:`close` (or ``await`` :meth:`aclose`), or use it as a (sync or async)
    context manager. A session keeps its :class:`~wifidirect.Client` alive; closing the client
    closes its sessions. A session that is garbage-collected while open emits
    ``ResourceWarning`` and is closed.
    """

    __slots__ = ("__weakref__", "_client", "_guid", "_link", "_op")

    def __init__(self, client: Client, op: Open) -> None:
        self._client = client  # keeps the client (and its native handle) alive
        self._op = op
        self._guid: uuid.UUID | None = None  # made on first use: uuid.UUID() costs ~1 µs
        self._link: _links.Link | None = None  # made on first use
        op.public = weakref.ref(self)

    @property
    def address(self) -> MacAddress:
        """The peer's device address."""
        return self._op.address

    @property
    def interface_guid(self) -> uuid.UUID:
        """The GUID of the network interface the session created."""
        guid = self._guid
        if guid is None:
            op = self._op
            guid = self._guid = uuid.UUID(bytes_le=op.client.backend.guid_bytes(op.c))
        return guid

    @property
    def interface(self) -> Interface | None:
        """The session's network interface (name, index, addresses, the peer's addresses),
        read now from the system; ``None`` when the backend cannot find it (closed, or gone).
        A quick local query (IP Helper on Windows)."""
        op = self._op
        if not op.is_open:
            return None
        _, raw = op.client.backend.get_interface(op.client.backend.guid_bytes(op.c))
        return None if raw is None else Interface._from_raw(self.interface_guid, raw)

    @property
    def connected(self) -> bool:
        """Whether the link is up: ``False`` once the peer left or went out of range (its
        interface went down or away, or the device stopped reading connected), and once the
        session is closed. Final: a session that disconnected never reads ``True`` again;
        close it as usual. Checks the system now (a quick local query); to be told when it
        happens, ``await`` :meth:`wait_disconnected`."""
        return not _links.is_down(self._op, self._link_state())

    async def wait_disconnected(self) -> None:
        """Return when the link goes down (see :attr:`connected`), at once if it is down or
        the session closed. Cancellable; combine with ``asyncio.timeout`` or
        ``asyncio.wait_for`` for a limit. The event loop makes no native call: a watcher
        thread checks the link (only while someone waits), woken by the system's change
        notifications and at least every second."""
        link = self._link_state()
        op = self._op
        if link.down or not op.is_open:
            link.down = True
            return
        loop = _loops.running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake() -> None:  # on the watcher thread
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(_resolve, done)

        key = _links.watch(op, link, wake)
        try:
            await done
        finally:
            _links.unwatch(key)

    def wait_disconnected_sync(self, timeout: float | None = None) -> bool:
        """Blocking :meth:`wait_disconnected`: ``True`` once the link is down, ``False`` when
        ``timeout`` seconds passed first (``None``: no limit)."""
        limit = None if timeout is None else check_timeout(timeout)
        link = self._link_state()
        op = self._op
        if link.down or not op.is_open:
            link.down = True
            return True
        event = threading.Event()
        key = _links.watch(op, link, event.set)
        try:
            return event.wait(limit)
        finally:
            _links.unwatch(key)

    def _link_state(self) -> _links.Link:
        link = self._link
        if link is None:
            link = self._link = _links.Link()
        return link

    @property
    def legacy(self) -> bool:
        """Whether this is a legacy (WPS) session from ``open_legacy_session``."""
        return self._op.legacy

    @property
    def closed(self) -> bool:
        """Whether the session has been closed (by :meth:`close` or by closing its client)."""
        return not self._op.is_open

    def close(self) -> None:
        """Close the session (``WFDCloseSession``): the disconnect is queued and completes in
        the background. Idempotent and thread-safe: the native call is made at most once.

        Raises :class:`~wifidirect.WFDError` if the service refuses; the session counts as
        closed all the same. It blocks for as long as ``WFDCloseSession`` takes: on an event
        loop, ``await session.aclose()`` instead.
        """
        self._op.finish(quiet=False)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop (the native call runs on a worker
        thread)."""
        if self._op.is_open:
            try:
                loop = _loops.running_loop()
            except RuntimeError:  # not asyncio: close anyway, then say why
                self.close()
                raise
            await _workers.call(loop, self._op.finish, False)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        kind = " legacy" if self._op.legacy else ""
        return f"<wifidirect.Session{kind} {self._op.address} {state} {self.interface_guid}>"

    def __del__(self) -> None:
        # Cheaper than weakref.finalize on this hot path. Never the native call here: this may
        # run on a callback thread or under a held lock; a worker closes it.
        op = self._op
        owner = op.owner
        if owner is ADOPTED:
            _workers.submit(op.finish)  # before warning: the warning may become an error
            warnings.warn(
                f"unclosed wifidirect session to {op.address}; it is closed now",
                ResourceWarning,
                stacklevel=1,
            )
        elif owner is not CLOSED and owner is not ORPHANED:  # never adopted: an interrupt came
            op.abandon()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
