"""cffi build script for wifidirect's two compiled modules.

* ``wifidirect._wfdsim``: the bundled simulator (C sources under ``src/wfdsim/``), built on
  every platform.
* ``wifidirect._wlanapi``: the real binding, linked against Wlanapi.lib, built on Windows only.

Both modules are cffi API-mode extensions compiled from the same declarations, read from
``include/`` in a fixed order with ``# line`` markers so a cdef error names the header line.
Both expose the seven WFD functions under their Windows names and the ``wfd_open_complete``
``extern "Python"`` callback, so the Python facade has a single code path for both.

This file is the only place that knows about platforms and compilers. ``setup.py`` names the
builders through ``cffi_modules``; ``python build_ffi.py [sim|wlanapi] [--emit-c DIR]`` builds
in place or only writes the generated C (used by the Windows cross-build tooling).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
INCLUDE = HERE / "include"
SIM_SOURCES = HERE / "src" / "wfdsim"

#: cdef headers, in the order they are read. ``{types}`` is the platform's type header.
CDEF_ORDER = ("{types}", "wfd.h", "wfdsim.h", "shim.h", "callbacks.h")

#: Warnings are errors for our own C; the generated cffi C is compiled with the same flags.
if sys.platform == "win32":
    EXTRA_COMPILE_ARGS = ["/W3", "/WX"] if "MSC" in sys.version else ["-Wall", "-Werror"]
else:
    EXTRA_COMPILE_ARGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread"]
EXTRA_LINK_ARGS = [] if sys.platform == "win32" else ["-pthread"]


def package_version() -> str:
    """The version from pyproject.toml, compiled into each module and checked at import."""
    text = (HERE / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise RuntimeError("pyproject.toml has no version")
    return match.group(1)


_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


def _blank_comments(text: str) -> str:
    # cffi folds a multi-line comment into one space, which would shift every line number
    # after it; keep the newlines so that line markers stay exact.
    return _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text)


def read_cdef(names: tuple[str, ...], windows: bool) -> str:
    """Concatenate headers for ``ffi.cdef``, each preceded by a line marker."""
    types = "wfd_types_win.h" if windows else "wfd_types_posix.h"
    parts = []
    for name in names:
        path = INCLUDE / name.format(types=types)
        marker = f'"{path.relative_to(HERE).as_posix()}"'
        parts.append(f"# 1 {marker}")
        lines = _blank_comments(path.read_text(encoding="utf-8")).split("\n")
        for number, line in enumerate(lines, 1):
            parts.append(line)
            if line.lstrip().startswith("#"):
                # cffi removes `#define` lines together with the blank lines before them:
                # re-anchor the numbering for the line that follows.
                parts.append(f"# {number + 1} {marker}")
    return "\n".join(parts) + "\n"


def preamble(windows: bool, with_sim: bool) -> str:
    """The C placed before cffi's generated code: the same headers, compiled for real."""
    version = package_version()
    lines = (
        ["#define WIN32_LEAN_AND_MEAN", "#include <windows.h>"]
        if windows
        else [
            "#include <stdint.h>",
            "#ifndef __stdcall",
            "#define __stdcall",
            "#endif",  # cffi writes __stdcall for WINAPI functions
            "#ifndef WINAPI",
            "#define WINAPI",
            "#endif",
            '#include "wfd_types_posix.h"',
        ]
    )
    lines.append('#include "wfd.h"')
    if with_sim:
        lines.append('#include "wfdsim.h"')
    lines.append(SHIM_C)
    lines.append(f'static const char *wifidirect_module_version(void) {{ return "{version}"; }}')
    return "\n".join(lines) + "\n"


#: The definitions of include/shim.h (they call the extern "Python" callback, so they live in
#: the generated module itself, after cffi has declared wfd_open_complete).
SHIM_C = r"""
#if defined(_MSC_VER)
#define WFDX_THREAD_LOCAL __declspec(thread)
#else
#define WFDX_THREAD_LOCAL _Thread_local
#endif
static WFDX_THREAD_LOCAL DWORD wfdx_error;
static void WINAPI wfd_open_complete(HANDLE, PVOID, GUID, DWORD, DWORD);

static DWORD wfdx_last_error(void) { return wfdx_error; }

static uintptr_t wfdx_start_open(uintptr_t client, const char *address, uintptr_t token)
{
    HANDLE session = NULL;
    DWORD rc = WFDStartOpenSession((HANDLE)client, (PDOT11_MAC_ADDRESS)address, (PVOID)token,
                                   wfd_open_complete, &session);
    wfdx_error = rc;
    return rc ? 0 : (uintptr_t)session;
}

static DWORD wfdx_cancel_open(uintptr_t s) { return WFDCancelOpenSession((HANDLE)s); }
static DWORD wfdx_close_session(uintptr_t s) { return WFDCloseSession((HANDLE)s); }
static DWORD wfdx_close_handle(uintptr_t c) { return WFDCloseHandle((HANDLE)c); }
static DWORD wfdx_update_visibility(const char *address)
{
    return WFDUpdateDeviceVisibility((PDOT11_MAC_ADDRESS)address);
}
"""

VERSION_CDEF = "const char *wifidirect_module_version(void);\n"


def _relative(path: Path) -> str:
    # setuptools wants source paths relative to the project directory.
    return os.path.relpath(path, Path.cwd()).replace(os.sep, "/")


def build_sim(windows: bool = sys.platform == "win32") -> FFI:
    """The simulator module: the WFD API and the control API, from src/wfdsim/*.c."""
    ffi = FFI()
    ffi.cdef(read_cdef(CDEF_ORDER, windows) + VERSION_CDEF)
    ffi.set_source(
        "wifidirect._wfdsim",
        preamble(windows, with_sim=True),
        sources=[_relative(p) for p in sorted(SIM_SOURCES.glob("*.c"))],
        include_dirs=[str(INCLUDE), str(SIM_SOURCES)],
        extra_compile_args=EXTRA_COMPILE_ARGS,
        extra_link_args=EXTRA_LINK_ARGS,
    )
    return ffi


def build_wlanapi(windows: bool = True) -> FFI:
    """The real binding: the seven WFD functions of Wlanapi.dll (import library Wlanapi.lib)."""
    ffi = FFI()
    names = tuple(n for n in CDEF_ORDER if n != "wfdsim.h")  # same shim, same callback
    ffi.cdef(read_cdef(names, windows) + VERSION_CDEF)
    ffi.set_source(
        "wifidirect._wlanapi",
        preamble(windows, with_sim=False),
        libraries=["wlanapi"],
        include_dirs=[str(INCLUDE)],
        extra_compile_args=EXTRA_COMPILE_ARGS,
    )
    return ffi


#: Names setup.py hands to cffi_modules.
sim_ffi = build_sim()
wlanapi_ffi = build_wlanapi() if sys.platform == "win32" else None


def main(argv: list[str]) -> int:
    """Build in place, or with ``--emit-c DIR`` write the generated C for a cross-build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=("sim", "wlanapi"))
    parser.add_argument("--emit-c", metavar="DIR", help="only write the generated C source here")
    parser.add_argument(
        "--windows", action="store_true", help="declare types for Windows (with --emit-c)"
    )
    args = parser.parse_args(argv)
    windows = args.windows or sys.platform == "win32"
    ffi = build_sim(windows) if args.module == "sim" else build_wlanapi(windows)
    if args.emit_c:
        Path(args.emit_c).mkdir(parents=True, exist_ok=True)
        name = "_wfdsim" if args.module == "sim" else "_wlanapi"
        ffi.emit_c_code(str(Path(args.emit_c) / f"{name}.c"))
    else:
        ffi.compile(tmpdir=str(HERE / "build"), verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
