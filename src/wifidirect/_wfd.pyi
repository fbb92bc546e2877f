# Type stubs shared by the compiled modules' stubs (_wfdsim.pyi, _wlanapi.pyi, _wpas.pyi): the
# seven WFD functions of include/wfd.h, which every backend module exports with the Windows
# SDK's names and parameters. Stubs only: no module of this name exists at run time; each
# module's `_Lib` derives from `WfdLib`. tests/test_docs.py checks these names too.
# ruff: noqa: N802, N803

from typing import Final

from _cffi_backend import _CDataBase

#: A pointer argument: a cdata pointer, or None for NULL.
_Ptr = _CDataBase | None

class WfdLib:
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
