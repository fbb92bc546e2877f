"""The build: header order and line markers, type sizes, one function set for both modules."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import cffi
import pytest

import wifidirect
from wifidirect import _native

ROOT = Path(__file__).resolve().parents[1]
SEVEN = wifidirect.sim.FUNCTIONS  # the seven WFD functions, in the simulator's numbering


def load_build_script() -> ModuleType:
    path = ROOT / "build_ffi.py"
    if not path.exists():
        pytest.skip("build_ffi.py is not beside the tests (installed test run)")
    spec = importlib.util.spec_from_file_location("build_ffi_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compiled_modules() -> list[ModuleType]:
    """The compiled modules importable here: the simulator's always, Wlanapi's on Windows."""
    found = []
    for name in _native.BACKENDS.values():
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            assert name != "wifidirect._wfdsim", "the simulator module is built everywhere"
    return found


def test_type_sizes_follow_windows_llp64() -> None:
    for module in compiled_modules():
        ffi = module.ffi
        assert ffi.sizeof("DWORD") == 4
        assert ffi.sizeof("HANDLE") == ffi.sizeof("void *")
        assert ffi.sizeof("GUID") == 16
        assert ffi.sizeof("DOT11_MAC_ADDRESS") == 6
        assert ffi.sizeof("PDOT11_MAC_ADDRESS") == ffi.sizeof("void *")


def test_the_completion_hook_takes_a_token() -> None:
    # The callback given to WFDStartOpenSession is the guard's C function (src/shim/shim.c; the
    # C compiler checks it against WFD_OPEN_SESSION_COMPLETE_CALLBACK, -Werror); Python's hook
    # receives only the open's token (and whether the open was orphaned).
    backend = _native.get_backend(None)  # the compiled module in use (not a control API)
    ffi, lib = backend._ffi, backend._lib
    assert ffi.typeof(ffi.addressof(lib, "wfdx_completed")) is ffi.typeof(
        "void(*)(uint64_t, int32_t)"
    )


def test_module_version_matches_package_and_pyproject() -> None:
    for module in compiled_modules():
        built = module.ffi.string(module.lib.wifidirect_module_version()).decode()
        assert built == wifidirect.__version__
    pyproject = ROOT / "pyproject.toml"
    if pyproject.exists():
        assert f'version = "{built}"' in pyproject.read_text()


def test_headers_are_read_in_order_with_line_markers() -> None:
    build = load_build_script()
    text = build.read_cdef(build.CDEF_ORDER, windows=False)
    markers = re.findall(r'^# 1 "([^"]+)"$', text, re.MULTILINE)
    assert markers == [
        "include/wfd_types_posix.h",
        "include/wfd.h",
        "include/wfdsim.h",
        "include/backend.h",
        "include/shim.h",
        "include/callbacks.h",
    ]


def test_cdef_errors_name_the_header_line() -> None:
    build = load_build_script()
    text = build.read_cdef(build.CDEF_ORDER, windows=False)
    for header, needle in (("wfd.h", "WFDCloseHandle("), ("wfdsim.h", "wfdsim_reset(")):
        broken = text.replace(needle, needle + "oops oops ", 1)
        lines = (ROOT / "include" / header).read_text().splitlines()
        number = next(n for n, line in enumerate(lines, 1) if needle in line)
        with pytest.raises(cffi.CDefError, match=rf"include/{header}:{number}:"):
            cffi.FFI().cdef(broken)


def test_both_modules_declare_the_same_seven_functions() -> None:
    build = load_build_script()
    sim = build.build_sim(windows=False)
    real = build.build_wlanapi(windows=False)

    def functions(ffi: cffi.FFI) -> dict[str, str]:
        declared = ffi._parser._declarations  # cffi's parsed cdef: "function NAME" -> type
        return {
            key.split()[1]: str(tp)
            for key, (tp, _) in declared.items()
            if key.startswith("function WFD")
        }

    assert set(functions(sim)) == set(SEVEN)
    assert functions(sim) == functions(real)
    assert "wfdx_completed" in {
        k.split()[1] for k in real._parser._declarations if k.startswith("extern_python")
    }
    for module in compiled_modules():
        for name in SEVEN:
            assert callable(getattr(module.lib, name))


def test_windows_declarations_parse_on_every_platform() -> None:
    # The cross-build (tools/wine-test) generates the Windows modules' C off Windows.
    build = load_build_script()
    sim = build.build_sim(windows=True)
    real = build.build_wlanapi(windows=True)
    abi = build.build_sim_abi(windows=True)

    def declared(ffi: cffi.FFI, prefix: str) -> dict[str, str]:
        names = ffi._parser._declarations
        return {k.split()[1]: str(tp) for k, (tp, _) in names.items() if k.startswith(prefix)}

    assert set(declared(sim, "function WFD")) == set(SEVEN)
    assert declared(sim, "function WFD") == declared(real, "function WFD")
    assert "__stdcall" in declared(sim, "function WFD")["WFDStartOpenSession"]
    # the ABI module (the control API of the simulator built as wlanapi.dll) matches wfdsim.h
    assert declared(abi, "function wfdsim_") == declared(sim, "function wfdsim_")
    assert declared(abi, "function WFD") == declared(sim, "function WFD")
    # ... and the simulator DLL exports every function the ABI module declares
    exports = (ROOT / "src" / "wfdsim" / "wlanapi.def").read_text().split()
    assert set(declared(abi, "function ")) <= set(exports)


def test_dword_is_never_unsigned_long_off_windows() -> None:
    text = (ROOT / "include/wfd_types_posix.h").read_text() if ROOT.exists() else ""
    assert "typedef uint32_t DWORD;" in text


def test_the_sdist_carries_every_source_the_build_reads() -> None:
    """MANIFEST.in includes each C source and header that build_ffi.py compiles on any
    platform (a file missing from the sdist breaks only the builds that need it)."""
    manifest = ROOT / "MANIFEST.in"
    if not manifest.exists():
        pytest.skip("MANIFEST.in is not beside the tests (installed test run)")
    rules = [
        (parts[1], parts[2:])
        for parts in (line.split() for line in manifest.read_text().splitlines())
        if parts and parts[0] == "recursive-include"
    ]
    build = load_build_script()
    needed = [
        path
        for folder in (
            build.SIM_SOURCES, build.WLANAPI_SOURCES, build.WPAS_SOURCES, build.SHIM,
            build.COMMON, build.INCLUDE,
        )
        for path in folder.iterdir()
        if path.suffix in (".c", ".h", ".def")
    ]  # fmt: skip
    missing = [
        str(path.relative_to(ROOT))
        for path in needed
        if not any(
            path.parent.relative_to(ROOT).as_posix().startswith(folder)
            and any(path.match(pattern) for pattern in patterns)
            for folder, patterns in rules
        )
    ]
    assert missing == []
