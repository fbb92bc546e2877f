"""Exceptions: Win32 error codes mapped to typed Python exceptions.

Every failing native call goes through :func:`check` (one place maps codes to classes, like
pygit2's ``check_error``). A failed *completion* of an open (the callback reported an error)
raises :class:`OpenSessionError`, which also carries the reason code; when its code has a
class of its own, the exception is an instance of both (``except ServiceNotActiveError``
catches a synchronous refusal and a failed completion alike).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

__all__ = [
    "ERROR_NAMES",
    "HINTS",
    "BackendUnavailableError",
    "ClosedError",
    "ConfigurationError",
    "InvalidHandleError",
    "InvalidParameterError",
    "InvalidStateError",
    "NotEnoughMemoryError",
    "OpenSessionError",
    "ServiceNotActiveError",
    "SessionLimitError",
    "WFDError",
    "check",
    "error_name",
    "open_session_error",
    "register_system_text",
    "system_text",
]

#: Win32 / RPC codes that this API documents or the simulator uses, by value (winerror.h).
ERROR_NAMES: dict[int, str] = {
    0: "ERROR_SUCCESS",
    5: "ERROR_ACCESS_DENIED",
    6: "ERROR_INVALID_HANDLE",
    8: "ERROR_NOT_ENOUGH_MEMORY",
    50: "ERROR_NOT_SUPPORTED",
    87: "ERROR_INVALID_PARAMETER",
    1062: "ERROR_SERVICE_NOT_ACTIVE",
    1131: "ERROR_POSSIBLE_DEADLOCK",
    1168: "ERROR_NOT_FOUND",
    1220: "ERROR_REMOTE_SESSION_LIMIT_EXCEEDED",
    1223: "ERROR_CANCELLED",
    1244: "ERROR_NOT_AUTHENTICATED",
    1460: "ERROR_TIMEOUT",
    1722: "RPC_S_SERVER_UNAVAILABLE",
    1726: "RPC_S_CALL_FAILED",
    1727: "RPC_S_CALL_FAILED_DNE",
    5023: "ERROR_INVALID_STATE",
}


#: What to do about the common failures, by code: shown in the message and as ``WFDError.hint``.
HINTS: dict[int, str] = {
    1062: "the WLAN AutoConfig service (Wlansvc) is not running, or the Wi-Fi adapter is off: "
    "turn Wi-Fi on or start the service; `wifidirect doctor` checks",
    1168: "no paired device has that address: compare it with `wifidirect devices` (a "
    "device's Wi-Fi Direct address is usually not the MAC printed on its label)",
    1220: "too many client handles are open in this process: close the clients you no longer need",
    1244: "the device is not paired: pair it in the system's settings first (Windows: "
    "Settings > Devices > Add a device); `wifidirect devices` lists the paired ones",
    1460: "the device did not answer: it may be off, asleep or out of range; wake it or "
    "bring it closer and try again",
    5023: 'Wi-Fi Direct is disabled by group policy ("Don\'t allow Wi-Fi Direct groups" in '
    "the wireless network policy): ask your administrator",
}

#: Where the system's own text for a code comes from (the wlanapi backend registers
#: FormatMessage when it loads): used for codes that ERROR_NAMES does not know.
_system_text: list[Callable[[int], str]] = []


def register_system_text(provider: Callable[[int], str]) -> None:
    """Add a source of the system's message text for Win32 codes."""
    if provider not in _system_text:
        _system_text.append(provider)


def system_text(code: int) -> str:
    """The system's message for a Win32 code, ``""`` where none is known."""
    for provider in _system_text:
        try:
            text = provider(code)
        except Exception:  # only an error message is at stake
            continue
        if text:
            return text
    return ""


def error_name(code: int) -> str:
    """The symbolic name of a Win32 code, e.g. ``error_name(6) == "ERROR_INVALID_HANDLE"``.

    Codes without a known name are shown as ``"WIN32_ERROR_<code>"``.
    """
    return ERROR_NAMES.get(code, f"WIN32_ERROR_{code}")


class WFDError(OSError):
    """A Wi-Fi Direct call failed with a Win32 error code.

    The message names the code and, for a code wifidirect does not know, the system's own
    text for it; for the common causes (not paired, service stopped, out of range, ...) it
    ends with what to do about it.

    Attributes:
        winerror: the Win32 error code (an ``int``).
        function: the name of the native function that failed, e.g. ``"WFDOpenHandle"``.
        hint: what to do about it, ``""`` when there is no advice for this code.
    """

    #: The Win32 code a subclass stands for (``None`` on the base class).
    code: ClassVar[int | None] = None

    winerror: int
    function: str
    hint: str

    def __init__(self, winerror: int, function: str, detail: str = "") -> None:
        message = f"{function} failed: {error_name(winerror)} ({winerror})"
        if winerror not in ERROR_NAMES:
            text = system_text(winerror)
            if text:
                message = f"{message} {text}"
        if detail:
            message = f"{message}: {detail}"
        hint = HINTS.get(winerror, "")
        if hint:
            message = f"{message}. Hint: {hint}"
        super().__init__(message)
        self.winerror = winerror
        self.function = function
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.winerror, self.function, str(self)))


def _rebuild(cls: type[WFDError], winerror: int, function: str, message: str) -> WFDError:
    error = cls.__new__(cls)
    OSError.__init__(error, message)
    error.winerror = winerror
    error.function = function
    error.hint = HINTS.get(winerror, "")
    return error


class InvalidHandleError(WFDError):
    """ERROR_INVALID_HANDLE (6): the handle is not in the service's handle table."""

    code = 6


class NotEnoughMemoryError(WFDError):
    """ERROR_NOT_ENOUGH_MEMORY (8): the service could not allocate memory."""

    code = 8


class InvalidParameterError(WFDError):
    """ERROR_INVALID_PARAMETER (87): a required argument was missing or wrong."""

    code = 87


class ServiceNotActiveError(WFDError):
    """ERROR_SERVICE_NOT_ACTIVE (1062): the WLAN AutoConfig service is not running."""

    code = 1062


class SessionLimitError(WFDError):
    """ERROR_REMOTE_SESSION_LIMIT_EXCEEDED (1220): too many client handles are open."""

    code = 1220


class InvalidStateError(WFDError):
    """ERROR_INVALID_STATE (5023): Wi-Fi Direct is disabled by group policy."""

    code = 5023


class OpenSessionError(WFDError):
    """An open completed with an error: the completion callback reported ``winerror``.

    Attributes:
        reason_code: the callback's ``dwReasonCode`` (more detail on the failure).
        address: the device address the open was for, as a string.
    """

    reason_code: int
    address: str

    def __init__(self, winerror: int, reason_code: int, address: str) -> None:
        super().__init__(
            winerror, "WFDStartOpenSession", f"open to {address} failed, reason code {reason_code}"
        )
        self.reason_code = reason_code
        self.address = address

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_open, (type(self), self.winerror, self.reason_code, self.address))


def _rebuild_open(
    cls: type[OpenSessionError], winerror: int, reason_code: int, address: str
) -> OpenSessionError:
    return cls(winerror, reason_code, address)


class ClosedError(ValueError):
    """The client or session was already closed; no native call was made.

    A ``ValueError``, like the error for I/O on a closed file.
    """


class ConfigurationError(ValueError):
    """A configuration value is wrong, e.g. an unknown backend name in ``Client(backend=...)``
    or in ``$WIFIDIRECT_BACKEND``. A ``ValueError``; the message names the value, where it came
    from and what is accepted."""


class BackendUnavailableError(ImportError):
    """The requested backend cannot be loaded on this machine (e.g. ``"wlanapi"`` off
    Windows), or the platform has no real backend for ``Client()``'s default. The message
    says what is missing and how to choose the simulator instead.

    Attributes:
        backend: the backend's name (``"default"``: the platform has no real backend).
        why: what is missing.
    """

    backend: str
    why: str

    def __init__(self, backend: str, why: str) -> None:
        super().__init__(
            f"wifidirect backend {backend!r} is unavailable: {why}. To run on the bundled "
            'simulator instead, choose it: Client(backend="sim") or WIFIDIRECT_BACKEND=sim'
        )
        self.backend = backend
        self.why = why

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.backend, self.why))


#: The native guard's own codes (include/shim.h; bit 29 set, never a system code).
WFDX_CLOSED = 0x20000001  #: the client is closing or closed: no call was made
WFDX_DONE = 0x20000002  #: nothing to do (already closed, completed or cancelled)
WFDX_BUSY = 0x20000003  #: a bounded wait ran out: calls or opens still in flight
WFDX_PENDING = 0x20000004  #: the open has not completed, so its session cannot be closed


_BY_CODE: dict[int, type[WFDError]] = {
    cls.code: cls
    for cls in (
        InvalidHandleError,
        NotEnoughMemoryError,
        InvalidParameterError,
        ServiceNotActiveError,
        SessionLimitError,
        InvalidStateError,
    )
    if cls.code is not None
}


def check(code: int, function: str) -> None:
    """Raise the exception for the code ``function`` returned: nothing for success (or the
    guard's "nothing to do"), :class:`ClosedError` when the guard refused the call because the
    client is closed, else the :class:`WFDError` subclass of the Win32 code."""
    if code and code != WFDX_DONE:
        if code == WFDX_CLOSED:
            raise ClosedError("the client is closed")
        raise _BY_CODE.get(code, WFDError)(code, function)


class ServiceNotActiveOpenSessionError(OpenSessionError, ServiceNotActiveError):
    """An open completed with ERROR_SERVICE_NOT_ACTIVE: the service stopped while pending."""


class InvalidStateOpenSessionError(OpenSessionError, InvalidStateError):
    """An open completed with ERROR_INVALID_STATE: group policy disabled Wi-Fi Direct."""


#: The completion codes Microsoft documents for the callback, with a class of their own.
_OPEN_BY_CODE: dict[int, type[OpenSessionError]] = {
    1062: ServiceNotActiveOpenSessionError,
    5023: InvalidStateOpenSessionError,
}


def open_session_error(winerror: int, reason_code: int, address: str) -> OpenSessionError:
    """The exception for a failed completion: an :class:`OpenSessionError`, which for the codes
    documented for the callback is also an instance of the code's own class."""
    return _OPEN_BY_CODE.get(winerror, OpenSessionError)(winerror, reason_code, address)
