# Type stubs for wifidirect._wfdsim, the simulator module compiled by build_ffi.py (cffi API
# mode). Precise for the declarations of include/wfd.h and include/wfdsim.h (the seven WFD
# functions and the simulator's control API); the facade's private helpers (include/shim.h,
# include/callbacks.h) are reached through __getattr__ as Any, since they change with the core.
# tests/test_docs.py checks these names against the headers and the compiled module.
# Names and parameters are the Windows SDK's.

from typing import Any, Final, final

from _cffi_backend import FFI, _CDataBase

from ._wfd import WfdLib

#: A pointer argument: a cdata pointer, or None for NULL.
_Ptr = _CDataBase | None
#: A `const unsigned char *` / `const char *` argument: cdata or a bytes object.
_Bytes = _CDataBase | bytes

ffi: Final[FFI]
lib: Final[_Lib]

@final
class _Lib(WfdLib):  # the seven WFD functions: _wfd.pyi
    # --- build_ffi.py: the package version compiled into the module --------------------------
    @staticmethod
    def wifidirect_module_version() -> _CDataBase: ...  # const char *

    # --- include/wfdsim.h: constants ---------------------------------------------------------
    WFDSIM_ERROR_SUCCESS: Final[int]
    WFDSIM_ERROR_INVALID_HANDLE: Final[int]
    WFDSIM_ERROR_NOT_ENOUGH_MEMORY: Final[int]
    WFDSIM_ERROR_INVALID_PARAMETER: Final[int]
    WFDSIM_ERROR_SERVICE_NOT_ACTIVE: Final[int]
    WFDSIM_ERROR_POSSIBLE_DEADLOCK: Final[int]
    WFDSIM_ERROR_NOT_FOUND: Final[int]
    WFDSIM_ERROR_REMOTE_SESSION_LIMIT_EXCEEDED: Final[int]
    WFDSIM_ERROR_CANCELLED: Final[int]
    WFDSIM_ERROR_NOT_AUTHENTICATED: Final[int]
    WFDSIM_ERROR_TIMEOUT: Final[int]
    WFDSIM_ERROR_INVALID_STATE: Final[int]
    WFDSIM_REASON_NONE: Final[int]
    WFDSIM_REASON_PEER_UNKNOWN: Final[int]
    WFDSIM_REASON_NOT_PAIRED: Final[int]
    WFDSIM_REASON_NOT_VISIBLE: Final[int]
    WFDSIM_REASON_CANCELLED: Final[int]
    WFDSIM_REASON_SERVICE_STOPPED: Final[int]
    WFDSIM_REASON_POLICY_DISABLED: Final[int]
    WFDSIM_REASON_CLIENT_CLOSED: Final[int]
    WFDSIM_VIOLATION_STALE_HANDLE: Final[int]
    WFDSIM_VIOLATION_CLOSE_SESSION_PENDING: Final[int]
    WFDSIM_VIOLATION_CLOSE_HANDLE_IN_CALLBACK: Final[int]
    WFDSIM_VIOLATION_KINDS: Final[int]
    WFDSIM_FN_OPEN_HANDLE: Final[int]
    WFDSIM_FN_CLOSE_HANDLE: Final[int]
    WFDSIM_FN_START_OPEN_SESSION: Final[int]
    WFDSIM_FN_CANCEL_OPEN_SESSION: Final[int]
    WFDSIM_FN_OPEN_LEGACY_SESSION: Final[int]
    WFDSIM_FN_CLOSE_SESSION: Final[int]
    WFDSIM_FN_UPDATE_DEVICE_VISIBILITY: Final[int]
    WFDSIM_FN_COUNT: Final[int]

    # --- include/wfdsim.h: the control API ---------------------------------------------------
    @staticmethod
    def wfdsim_reset() -> None: ...
    @staticmethod
    def wfdsim_reset_settings() -> None: ...
    @staticmethod
    def wfdsim_add_peer(peer: _Ptr, /) -> int: ...  # const wfdsim_peer *
    @staticmethod
    def wfdsim_remove_peer(address: _Bytes, /) -> int: ...
    @staticmethod
    def wfdsim_get_peer(address: _Bytes, out: _Ptr, /) -> int: ...
    @staticmethod
    def wfdsim_peer_count() -> int: ...
    @staticmethod
    def wfdsim_get_peer_at(index: int, out: _Ptr, /) -> int: ...
    @staticmethod
    def wfdsim_set_group_policy_disabled(disabled: int, /) -> None: ...
    @staticmethod
    def wfdsim_set_service_running(running: int, /) -> None: ...
    @staticmethod
    def wfdsim_set_handle_limit(limit: int, /) -> None: ...
    @staticmethod
    def wfdsim_get_handle_limit() -> int: ...
    @staticmethod
    def wfdsim_get_stats(out: _Ptr, /) -> None: ...
    @staticmethod
    def wfdsim_violation_name(kind: int, /) -> _CDataBase: ...  # const char *, NULL if unknown
    @staticmethod
    def wfdsim_wait_idle(timeout_ms: int, /) -> int: ...
    @staticmethod
    def wfdsim_inject_error(function: int, code: int, /) -> int: ...
    @staticmethod
    def wfdsim_fail_allocations(count: int, /) -> None: ...
    @staticmethod
    def wfdsim_set_call_delay(function: int, seconds: float, /) -> int: ...
    @staticmethod
    def wfdsim_drop(address: _Bytes, reason: int, /) -> int: ...
    @staticmethod
    def wfdsim_default_peer_count() -> int: ...
    @staticmethod
    def wfdsim_get_default_peer(index: int, out: _Ptr, /) -> int: ...

    # --- private to the facade: the native guard (include/shim.h, include/callbacks.h) -------
    def __getattr__(self, name: str) -> Any: ...
