# Type stubs for wifidirect._wlanapi, the binding of Wlanapi.dll compiled by build_ffi.py on
# Windows (cffi API mode). Precise for the declarations of include/wfd.h (the seven WFD
# functions); the facade's private helpers (include/shim.h, include/callbacks.h) are reached
# through __getattr__ as Any, since they change with the core.
# tests/test_docs.py checks these names against the headers and the compiled module.
# Names and parameters are the Windows SDK's.

from typing import Any, Final, final

from _cffi_backend import FFI, _CDataBase

from ._wfd import WfdLib

ffi: Final[FFI]
lib: Final[_Lib]

@final
class _Lib(WfdLib):  # the seven WFD functions: _wfd.pyi
    # --- build_ffi.py: the package version compiled into the module --------------------------
    @staticmethod
    def wifidirect_module_version() -> _CDataBase: ...  # const char *

    # --- private to the facade: the native guard (include/shim.h, include/callbacks.h) -------
    def __getattr__(self, name: str) -> Any: ...
