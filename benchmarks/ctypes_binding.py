"""The baseline: a straightforward ctypes binding of the same simulator library.

Written the way pywifi, win32wifi and lswifi bind wlanapi: ctypes function prototypes, a
``CFUNCTYPE`` completion callback, a token table, and ``loop.call_soon_threadsafe`` (or a
``threading.Event``) to hand the completion over. It loads the simulator the package built
(``wifidirect._wfdsim``), so it drives the very same simulator state.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import threading
from typing import Any


class GUID(ctypes.Structure):
    _fields_ = [
        ("Data1", ctypes.c_uint32),
        ("Data2", ctypes.c_uint16),
        ("Data3", ctypes.c_uint16),
        ("Data4", ctypes.c_ubyte * 8),
    ]


CALLBACK = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_void_p, GUID, ctypes.c_uint32, ctypes.c_uint32
)
MAC = ctypes.c_ubyte * 6


class CtypesWFD:
    """One client handle over the simulator's shared library, via ctypes."""

    def __init__(self, path: str) -> None:
        dll = ctypes.CDLL(path)
        u32, vp = ctypes.c_uint32, ctypes.c_void_p
        dll.WFDOpenHandle.argtypes = [u32, ctypes.POINTER(u32), ctypes.POINTER(vp)]
        dll.WFDOpenHandle.restype = u32
        dll.WFDCloseHandle.argtypes = [vp]
        dll.WFDCloseHandle.restype = u32
        dll.WFDStartOpenSession.argtypes = [
            vp,
            ctypes.POINTER(MAC),
            vp,
            CALLBACK,
            ctypes.POINTER(vp),
        ]
        dll.WFDStartOpenSession.restype = u32
        dll.WFDCloseSession.argtypes = [vp]
        dll.WFDCloseSession.restype = u32
        dll.WFDUpdateDeviceVisibility.argtypes = [ctypes.POINTER(MAC)]
        dll.WFDUpdateDeviceVisibility.restype = u32
        self.dll = dll
        self._callback = CALLBACK(self._on_complete)  # kept alive as long as the binding
        self._lock = threading.Lock()
        self._pending: dict[int, Any] = {}
        self._tokens = itertools.count(1)
        version, handle = u32(), vp()
        if dll.WFDOpenHandle(1, ctypes.byref(version), ctypes.byref(handle)):
            raise OSError("WFDOpenHandle failed")
        self.handle = handle

    def _on_complete(self, session: int, context: int, guid: GUID, error: int, reason: int) -> None:
        with self._lock:
            waiter = self._pending.pop(context)
        if isinstance(waiter, tuple):
            loop, future = waiter
            loop.call_soon_threadsafe(future.set_result, (session, error))
        else:
            waiter.result = (session, error)
            waiter.set()

    def _start(self, mac: Any, waiter: Any) -> None:
        token = next(self._tokens)
        with self._lock:
            self._pending[token] = waiter
        session = ctypes.c_void_p()
        if self.dll.WFDStartOpenSession(
            self.handle, ctypes.byref(mac), token, self._callback, ctypes.byref(session)
        ):
            raise OSError("WFDStartOpenSession failed")

    async def open_session(self, mac: Any) -> int:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._start(mac, (loop, future))
        session, error = await future
        if error:
            raise OSError(error, "open failed")
        return int(session)

    def open_session_sync(self, mac: Any) -> int:
        event = threading.Event()
        self._start(mac, event)
        event.wait()
        session, error = event.result  # type: ignore[attr-defined]
        if error:
            raise OSError(error, "open failed")
        return int(session)

    def close_session(self, session: int) -> None:
        if self.dll.WFDCloseSession(session):
            raise OSError("WFDCloseSession failed")

    def update_device_visibility(self, mac: Any) -> None:
        if self.dll.WFDUpdateDeviceVisibility(ctypes.byref(mac)):
            raise OSError("WFDUpdateDeviceVisibility failed")

    def close(self) -> None:
        self.dll.WFDCloseHandle(self.handle)
