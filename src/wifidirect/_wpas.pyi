# Type stubs for wifidirect._wpas, the Linux backend compiled by build_ffi.py (cffi API mode):
# the seven WFD functions of include/wfd.h implemented over wpa_supplicant's P2P control
# interface, and its own calls (include/wpas.h). The facade's private helpers (include/shim.h,
# include/backend.h, include/callbacks.h) are reached through __getattr__ as Any.
# tests/test_docs.py checks these names against the headers and the compiled module.

from typing import Any, Final, final

from _cffi_backend import FFI, _CDataBase

from ._wfd import WfdLib

#: A pointer argument: a cdata pointer, or None for NULL.
_Ptr = _CDataBase | None
#: A char * argument: bytes (a NUL is added), a cdata pointer, or None for NULL.
_Str = bytes | _CDataBase | None

ffi: Final[FFI]
lib: Final[_Lib]

@final
class _Lib(WfdLib):  # the seven WFD functions: _wfd.pyi
    # --- include/wpas.h: the backend's own calls -------------------------------------------
    @staticmethod
    def wpas_configure(ctrl_dir: _Str, /) -> int: ...
    @staticmethod
    def wpas_why(out: _Ptr, size: int, /) -> int: ...
    @staticmethod
    def wpas_own_address(out: _Ptr, /) -> int: ...
    @staticmethod
    def wpas_set_timeouts(formation_ms: int, reply_ms: int, visibility_ms: int, /) -> None: ...
    @staticmethod
    def wpas_set_settle(settle_ms: int, /) -> None: ...
    @staticmethod
    def wpas_find_start(timeout_s: int, /) -> int: ...
    @staticmethod
    def wpas_find_peers(out: _Ptr, capacity: int, count: _Ptr, /) -> int: ...
    @staticmethod
    def wpas_find_stop() -> int: ...
    @staticmethod
    def wpas_pair(address: _Ptr | bytes, pin: _Str, timeout_ms: int, /) -> int: ...
    @staticmethod
    def wpas_unpair(address: _Ptr | bytes, /) -> int: ...
    @staticmethod
    def wpas_saves_config() -> int: ...

    # --- build_ffi.py: the package version compiled into the module --------------------------
    @staticmethod
    def wifidirect_module_version() -> _CDataBase: ...  # const char *

    # --- private to the facade: the native guard and the system calls ------------------------
    def __getattr__(self, name: str) -> Any: ...
