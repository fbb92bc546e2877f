"""Session: one open Wi-Fi Direct session (from an open or a legacy open)."""

from __future__ import annotations

import uuid
import warnings
import weakref
from types import TracebackType
from typing import TYPE_CHECKING

from . import _cleanup
from .address import MacAddress

if TYPE_CHECKING:
    from .client import Client, _ClientState

__all__ = ["Session"]


class _SessionState:
    """What closing a session needs, kept apart from :class:`Session` so that the finalizer of
    a dropped ``Session`` can still close it. Its ``closed`` flag is changed only under the
    client's lock, which makes ``WFDCloseSession`` happen at most once, before
    ``WFDCloseHandle``."""

    __slots__ = ("address", "client", "closed", "guid", "guid_bytes", "handle", "legacy", "public")

    def __init__(
        self,
        client: _ClientState,
        handle: int,
        address: MacAddress,
        guid: bytes,
        legacy: bool = False,
    ) -> None:
        self.client = client
        self.handle = handle
        self.address = address
        self.guid_bytes = guid  # the GUID's memory layout (little-endian fields)
        self.guid: uuid.UUID | None = None  # made on first use: uuid.UUID() costs ~1 µs
        self.legacy = legacy
        self.closed = False
        self.public: weakref.ref[Session] | None = None


class Session:
    """An open Wi-Fi Direct session, returned by ``Client.open_session``,
    ``Client.open_session_sync`` and ``Client.open_legacy_session``.

    Close it with :meth:`close`, or use it as a (sync or async) context manager. A session keeps
    its :class:`~wifidirect.Client` alive; closing the client closes its sessions. A session
    that is garbage-collected while open emits ``ResourceWarning`` and is closed.
    """

    __slots__ = ("__weakref__", "_client", "_state")

    def __init__(self, client: Client, state: _SessionState) -> None:
        self._client = client  # keeps the client (and its native handle) alive
        self._state = state
        state.public = weakref.ref(self)

    @property
    def address(self) -> MacAddress:
        """The peer's device address."""
        return self._state.address

    @property
    def interface_guid(self) -> uuid.UUID:
        """The GUID of the network interface the session created."""
        state = self._state
        guid = state.guid
        if guid is None:
            guid = state.guid = uuid.UUID(bytes_le=state.guid_bytes)
        return guid

    @property
    def legacy(self) -> bool:
        """Whether this is a legacy (WPS) session from ``open_legacy_session``."""
        return self._state.legacy

    @property
    def closed(self) -> bool:
        """Whether the session has been closed (by :meth:`close` or by closing its client)."""
        return self._state.closed

    def close(self) -> None:
        """Close the session (``WFDCloseSession``): the disconnect is queued and completes in
        the background. Idempotent and thread-safe: the native call is made at most once.

        Raises :class:`~wifidirect.WFDError` if the service refuses; the session counts as
        closed all the same.
        """
        self._state.client.close_session(self._state)

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
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._state.closed else "open"
        kind = " legacy" if self._state.legacy else ""
        return f"<wifidirect.Session{kind} {self._state.address} {state} {self.interface_guid}>"

    def __del__(self) -> None:
        # Cheaper than weakref.finalize on this hot path; the state outlives the object.
        if not self._state.closed:
            _finalize(self._state)


def _finalize(state: _SessionState) -> None:
    # Never the native call here: this may run on a callback thread or under a held lock.
    # Scheduled before warning: a warnings filter may turn the warning into an exception.
    _cleanup.submit(state.client.close_session, state, True)
    warnings.warn(
        f"unclosed wifidirect session to {state.address}; it is closed now",
        ResourceWarning,
        stacklevel=1,
    )
