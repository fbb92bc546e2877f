# Type stubs for wifidirect._wlanapi, the binding of Wlanapi.dll compiled by build_ffi.py on
# Windows (cffi API mode). Precise for the declarations of include/wfd.h (the seven WFD
# functions); the facade's private helpers (include/shim.h, include/callbacks.h) are reached
# through __getattr__ as Any, since they change with the core.
# tests/test_docs.py checks these names against the headers and the compiled module.
# Names and parameters are the Windows SDK's.
# ruff: noqa: N802, N803

from typing import Any, Final, final

from _cffi_backend import FFI, _CDataBase

#: A pointer argument: a cdata pointer, or None for NULL.
_Ptr = _CDataBase | None

ffi: Final[FFI]
lib: Final[_Lib]

@final
class _Lib:
    # --- include/wfd.h ---------------------------------------------------------------------
    WFD_API_VERSION: Final[int]
    WFD_API_VERSION_1_0: Final[int]
    @staticmethod
    def WFDOpenHandle(
        dwClientVersion: int, pdwNegotiatedVersion: _Ptr, phClientHandle: _Ptr, /
    ) -> int: ...
    @staticmethod
    def WFDCloseHandle(hClientHandle: _Ptr, /) -> int: ...
    @staticmethod
    def WFDStartOpenSession(
        hClientHandle: _Ptr,
        pDeviceAddress: _Ptr,
        pvContext: _Ptr,
        pfnCallback: _Ptr,
        phSessionHandle: _Ptr,
        /,
    ) -> int: ...
    @staticmethod
    def WFDCancelOpenSession(hSessionHandle: _Ptr, /) -> int: ...
    @staticmethod
    def WFDOpenLegacySession(
        hClientHandle: _Ptr,
        pLegacyMacAddress: _Ptr,
        phSessionHandle: _Ptr,
        pGuidSessionInterface: _Ptr,
        /,
    ) -> int: ...
    @staticmethod
    def WFDCloseSession(hSessionHandle: _Ptr, /) -> int: ...
    @staticmethod
    def WFDUpdateDeviceVisibility(pDeviceAddress: _Ptr, /) -> int: ...

    # --- build_ffi.py: the package version compiled into the module --------------------------
    @staticmethod
    def wifidirect_module_version() -> _CDataBase: ...  # const char *

    # --- private to the facade: the native guard (include/shim.h, include/callbacks.h) -------
    def __getattr__(self, name: str) -> Any: ...
