"""cffi build script for wifidirect's compiled modules.

* ``wifidirect._wfdsim``: the bundled simulator (C sources under ``src/wfdsim/``), built on
  every platform.
* ``wifidirect._wlanapi``: the real binding, linked against Wlanapi.lib, built on Windows only.
* ``wifidirect._wpas``: the seven functions over wpa_supplicant's P2P control interface
  (``src/wpas/``), built on Linux only.

All are cffi API-mode extensions compiled from the same declarations, read from ``include/`` in
a fixed order with ``# line`` markers so a cdef error names the header line. Each exposes the
seven WFD functions under their Windows names, the system calls of include/backend.h, the
native guard the facade calls them through (include/shim.h, src/shim/shim.c) and the
``wfdx_completed`` extern "Python" hook, so the Python facade has a single code path for all.

This file is the only place that knows about platforms and compilers. ``setup.py`` names the
builders through ``cffi_modules``; ``python build_ffi.py [sim|wlanapi] [--emit-c DIR]`` builds
in place or only writes the generated C; ``python build_ffi.py cross ARCH --python DIR --out DIR``
cross-compiles the Windows modules with mingw-w64 (used by ``tools/wine-test``, see
:func:`cross_build`).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
INCLUDE = HERE / "include"
SIM_SOURCES = HERE / "src" / "wfdsim"
#: src/wpas/: the Linux backend over wpa_supplicant (the seven functions and include/wpas.h).
WPAS_SOURCES = HERE / "src" / "wpas"
#: src/wlanapi/: the Windows backend's C beside the seven functions (include/backend.h).
WLANAPI_SOURCES = HERE / "src" / "wlanapi"
#: Windows libraries of the wlanapi backend: the WFD functions, SetupAPI (devices), IP Helper
#: (interfaces), advapi32 (the service's state).
WLANAPI_LIBRARIES = ["wlanapi", "setupapi", "iphlpapi", "advapi32"]
#: src/shim/shim.c: the definitions of include/shim.h, included by every module's preamble.
SHIM = HERE / "src" / "shim"
#: src/common/: the portability layer (threads, locks, time) of the guard and the backends.
COMMON = HERE / "src" / "common"
PLATFORM_C = COMMON / "platform.c"

#: cdef headers, in the order they are read. ``{types}`` is the platform's type header.
CDEF_ORDER = ("{types}", "wfd.h", "wfdsim.h", "backend.h", "shim.h", "callbacks.h")

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


def preamble(windows: bool, with_sim: bool, with_wpas: bool = False) -> str:
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
    if with_wpas:
        lines.append('#include "wpas.h"')
    lines.append('#include "backend.h"')
    lines.append('#include "shim.c"')
    lines.append(f'static const char *wifidirect_module_version(void) {{ return "{version}"; }}')
    return "\n".join(lines) + "\n"


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
        sources=[_relative(p) for p in [*sorted(SIM_SOURCES.glob("*.c")), PLATFORM_C]],
        include_dirs=[str(INCLUDE), str(SHIM), str(COMMON), str(SIM_SOURCES)],
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
        sources=[_relative(p) for p in [*sorted(WLANAPI_SOURCES.glob("*.c")), PLATFORM_C]],
        libraries=WLANAPI_LIBRARIES,
        include_dirs=[str(INCLUDE), str(SHIM), str(COMMON)],
        extra_compile_args=EXTRA_COMPILE_ARGS,
    )
    return ffi


def build_wpas() -> FFI:
    """The Linux backend: the seven functions over wpa_supplicant's control interface."""
    ffi = FFI()
    names = tuple(n if n != "wfdsim.h" else "wpas.h" for n in CDEF_ORDER)
    ffi.cdef(read_cdef(names, windows=False) + VERSION_CDEF)
    ffi.set_source(
        "wifidirect._wpas",
        preamble(windows=False, with_sim=False, with_wpas=True),
        sources=[_relative(p) for p in [*sorted(WPAS_SOURCES.glob("*.c")), PLATFORM_C]],
        include_dirs=[str(INCLUDE), str(SHIM), str(COMMON), str(WPAS_SOURCES)],
        extra_compile_args=EXTRA_COMPILE_ARGS,
        extra_link_args=EXTRA_LINK_ARGS,
    )
    return ffi


def build_sim_abi(windows: bool = sys.platform == "win32") -> FFI:
    """``wifidirect._wfdsim_abi``: the WFD and control APIs as an out-of-line ABI-mode module.

    It lets :mod:`wifidirect.sim` drive the simulator built as a stand-in ``wlanapi.dll`` (see
    ``src/wfdsim/wlanapi.def``) when that DLL is what the ``wlanapi`` backend loaded.
    """
    ffi = FFI()
    ffi.cdef(read_cdef(("{types}", "wfd.h", "wfdsim.h"), windows))
    ffi.set_source("wifidirect._wfdsim_abi", None)
    return ffi


#: Names setup.py hands to cffi_modules.
sim_ffi = build_sim()
wlanapi_ffi = build_wlanapi() if sys.platform == "win32" else None
wfdsim_abi_ffi = build_sim_abi() if sys.platform == "win32" else None
wpas_ffi = build_wpas() if sys.platform.startswith("linux") else None


# ---- Cross-building for Windows with mingw-w64 ------------------------------------------------

#: Flags for every Windows compile: the same warnings-as-errors as the native builds.
MINGW_CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]
#: libgcc linked statically: the modules and the DLL need no mingw runtime DLL.
MINGW_SHARED = ["-shared", "-static-libgcc"]


def _run(*cmd: str | Path) -> str:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(
        [str(c) for c in cmd], check=True, stdout=subprocess.PIPE, text=True
    ).stdout


def cross_build(arch: str, python: Path, out: Path) -> None:
    """Cross-compile the Windows build with mingw-w64 into ``out``.

    ``python`` is an unpacked 64-bit Windows CPython (``include/``, ``libs/python3.lib``).

    * ``x86_64``: ``_wlanapi.pyd`` (imports the seven functions from wlanapi.dll through mingw's
      ``libwlanapi.a``), ``_wfdsim.pyd``, ``_wfdsim_abi.py``, and ``wlanapi.dll``: the simulator
      exporting the seven functions and its control API under their real names.
    * ``i686``: a link check of ``_wlanapi.pyd``. mingw's 32-bit ``libwlanapi.a`` lacks the WFD
      functions, so the import library is made from ``include/wlanapi-i686.def`` (the decorated
      ``__stdcall`` names); that of python3.dll from the ``Py*`` symbols the object imports.
      The link succeeds only if every call's convention and argument sizes match the .def.
    """
    cc = f"{arch}-w64-mingw32-gcc"
    out.mkdir(parents=True, exist_ok=True)
    py_include = f"-I{python / 'include'}"
    build_wlanapi(windows=True).emit_c_code(str(out / "_wlanapi.c"))
    includes = [f"-I{INCLUDE}", f"-I{SHIM}", f"-I{COMMON}"]
    if arch == "i686":
        obj = out / "_wlanapi.o"
        _run(cc, *MINGW_CFLAGS, *includes, py_include, "-c", out / "_wlanapi.c", "-o", obj)
        objs = [obj]
        for source in [*sorted(WLANAPI_SOURCES.glob("*.c")), PLATFORM_C]:
            objs.append(out / f"{source.stem}.o")
            _run(cc, *MINGW_CFLAGS, *includes, "-c", source, "-o", objs[-1])
        imported = _run(f"{arch}-w64-mingw32-nm", "-u", obj).split()
        names = (n.removeprefix("__imp__") for n in imported if n.startswith("__imp__"))
        python_names = sorted(n for n in names if n.startswith(("Py", "_Py")))
        (out / "python3.def").write_text(
            "LIBRARY python3.dll\nEXPORTS\n" + "".join(f"    {n} DATA\n" for n in python_names)
        )
        dlltool = f"{arch}-w64-mingw32-dlltool"
        _run(dlltool, "-d", out / "python3.def", "-l", out / "libpython3.a")
        _run(dlltool, "-k", "-d", INCLUDE / "wlanapi-i686.def", "-l", out / "libwlanapi.a")
        system_libs = [f"-l{name}" for name in WLANAPI_LIBRARIES[1:]]
        link = [*objs, f"-L{out}", "-lpython3", "-lwlanapi", *system_libs]
        _run(cc, *MINGW_SHARED, *link, "-o", out / "_wlanapi.pyd")
        return
    python3_lib = python / "libs" / "python3.lib"
    cflags = [*MINGW_CFLAGS, *MINGW_SHARED, *includes]
    wlanapi_c = [out / "_wlanapi.c", *sorted(WLANAPI_SOURCES.glob("*.c")), PLATFORM_C]
    libs = [f"-l{name}" for name in WLANAPI_LIBRARIES]
    _run(cc, *cflags, py_include, *wlanapi_c, python3_lib, *libs, "-o", out / "_wlanapi.pyd")
    build_sim(windows=True).emit_c_code(str(out / "_wfdsim.c"))
    sim_c = [*sorted(SIM_SOURCES.glob("*.c")), PLATFORM_C]
    cflags.append(f"-I{SIM_SOURCES}")
    _run(cc, *cflags, py_include, out / "_wfdsim.c", *sim_c, python3_lib, "-o", out / "_wfdsim.pyd")
    _run(cc, *cflags, *sim_c, SIM_SOURCES / "wlanapi.def", "-o", out / "wlanapi.dll")
    build_sim_abi(windows=True).emit_python_code(str(out / "_wfdsim_abi.py"))


def main(argv: list[str]) -> int:
    """Build in place, or with ``--emit-c DIR`` write the generated C for a cross-build."""
    if argv[:1] == ["cross"]:
        cross = argparse.ArgumentParser(prog="build_ffi.py cross", description=cross_build.__doc__)
        cross.add_argument("arch", choices=("x86_64", "i686"))
        cross.add_argument("--python", type=Path, required=True, help="unpacked Windows CPython")
        cross.add_argument("--out", type=Path, required=True, help="output directory")
        opts = cross.parse_args(argv[1:])
        cross_build(opts.arch, opts.python.resolve(), opts.out.resolve())
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=("sim", "wlanapi", "wpas"))
    parser.add_argument("--emit-c", metavar="DIR", help="only write the generated C source here")
    parser.add_argument(
        "--windows", action="store_true", help="declare types for Windows (with --emit-c)"
    )
    args = parser.parse_args(argv)
    windows = args.windows or sys.platform == "win32"
    builders = {"sim": lambda: build_sim(windows), "wlanapi": lambda: build_wlanapi(windows)}
    ffi = build_wpas() if args.module == "wpas" else builders[args.module]()
    if args.emit_c:
        Path(args.emit_c).mkdir(parents=True, exist_ok=True)
        name = {"sim": "_wfdsim", "wlanapi": "_wlanapi", "wpas": "_wpas"}[args.module]
        ffi.emit_c_code(str(Path(args.emit_c) / f"{name}.c"))
    else:
        ffi.compile(tmpdir=str(HERE / "build"), verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
