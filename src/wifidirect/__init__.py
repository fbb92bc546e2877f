"""wifidirect: open and close Wi-Fi Direct sessions from Python.

A binding of the Wi-Fi Direct functions of Windows' ``wlanapi.h``, with an asyncio and a
blocking API, and a bundled C simulator of the same API that is the default wherever
Wlanapi.dll does not exist::

    import asyncio, wifidirect

    async def main():
        async with wifidirect.Client() as client:
            async with await client.open_session("02:00:5e:10:00:01", timeout=5) as session:
                print(session.interface_guid)

    asyncio.run(main())
"""

from . import sim
from ._native import default_backend_name
from ._version import __version__
from .address import AddressLike, MacAddress
from .client import Client
from .errors import (
    BackendUnavailableError,
    ClosedError,
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
from .session import Session

__all__ = [
    "AddressLike",
    "BackendUnavailableError",
    "Client",
    "ClosedError",
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
]
