"""wifidirect: Wi-Fi Direct sessions from Python.

A binding of the Wi-Fi Direct functions of Windows' ``wlanapi.h`` (the paired devices, opening
and closing sessions, their network interfaces and disconnects), with an asyncio and a blocking
API, and a bundled C simulator of the same API, chosen explicitly (``backend="sim"``)::

    import asyncio, wifidirect

    async def main():
        async with wifidirect.Client() as client:
            tv = client.devices()[0]
            async with await client.open_session(tv, timeout=5) as session:
                print(session.interface)
                await session.wait_disconnected()

    asyncio.run(main())
"""

from . import sim, wpas
from ._native import default_backend_name
from ._version import __version__
from .address import AddressLike, MacAddress
from .client import Client
from .devices import Device
from .errors import (
    BackendUnavailableError,
    ClosedError,
    ConfigurationError,
    InvalidHandleError,
    InvalidParameterError,
    InvalidStateError,
    NotEnoughMemoryError,
    OpenSessionError,
    ServiceNotActiveError,
    SessionLimitError,
    WFDError,
    error_name,
)
from .interfaces import Interface
from .session import Session

__all__ = [
    "AddressLike",
    "BackendUnavailableError",
    "Client",
    "ClosedError",
    "ConfigurationError",
    "Device",
    "Interface",
    "InvalidHandleError",
    "InvalidParameterError",
    "InvalidStateError",
    "MacAddress",
    "NotEnoughMemoryError",
    "OpenSessionError",
    "ServiceNotActiveError",
    "Session",
    "SessionLimitError",
    "WFDError",
    "__version__",
    "default_backend_name",
    "error_name",
    "sim",
    "wpas",
]
