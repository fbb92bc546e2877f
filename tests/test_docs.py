"""The documentation and the typed surface match the code: docs/api.md names every public name
with its real parameters, the changelog has the package's version, and the stubs of the
compiled modules declare what the headers declare and the modules have."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wifidirect
from wifidirect import _native, cli

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"
MODULES = ("wifidirect", "wifidirect.sim", "wifidirect.wpas", "wifidirect.testing")
#: Classes whose public members (methods, properties, attributes) must each have a heading.
CLASSES = (
    "wifidirect.Client",
    "wifidirect.Session",
    "wifidirect.Device",
    "wifidirect.Interface",
    "wifidirect.MacAddress",
    "wifidirect.WFDError",
    "wifidirect.OpenSessionError",
    "wifidirect.wpas.Peer",
    "wifidirect.testing.SimController",
    "wifidirect.testing.PeerScript",
)
HEADING = re.compile(r"^#{3,4} `(?P<name>wifidirect[\w.]*)(?P<params>\(.*\))?`", re.MULTILINE)


def api_text() -> str:
    if not API.exists():
        pytest.skip("docs/api.md is not beside the tests (installed test run)")
    return API.read_text(encoding="utf-8")


def documented() -> dict[str, str | None]:
    """Heading name -> the parameters written in it (None when the heading has none)."""
    return {m["name"]: m["params"] for m in HEADING.finditer(api_text())}


def resolve(dotted: str) -> Any:
    """The object a dotted name refers to: modules imported, then attributes."""
    parts = dotted.split(".")
    obj: Any = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        module = ".".join(parts[: i + 1])
        if isinstance(obj, ModuleType) and not hasattr(obj, part):
            obj = importlib.import_module(module)
            continue
        # attributes declared by annotation only (set in __init__), e.g. WFDError.winerror
        if (
            inspect.isclass(obj)
            and not hasattr(obj, part)
            and any(part in vars(k).get("__annotations__", {}) for k in obj.__mro__)
        ):
            return object()
        obj = getattr(obj, part)
    return obj


def plain_signature(obj: Any) -> str:
    """Parameters as the docs write them: names, defaults as repr, `*` before keyword-only."""
    target = obj.__init__ if inspect.isclass(obj) and obj.__init__ is not object.__init__ else obj
    if isinstance(obj, property):
        raise TypeError("a property has no parameters")
    params = []
    keyword_only = False
    for p in inspect.signature(target).parameters.values():
        if p.name in ("self", "cls"):
            continue
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            params.append("*")
            keyword_only = True
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            keyword_only = True
        elif p.kind is p.VAR_KEYWORD:
            params.append(f"**{p.name}")
        else:
            params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return "(" + ", ".join(params) + ")"


def public_names() -> list[str]:
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names += [f"{module_name}.{name}" for name in module.__all__]
    for class_name in CLASSES:
        cls = resolve(class_name)
        own = set(vars(cls)) | set(vars(cls).get("__annotations__", {}))
        if issubclass(cls, BaseException):
            own -= {"args", "with_traceback", "add_note"}
        names += [f"{class_name}.{n}" for n in sorted(own) if not n.startswith("_")]
    return names


def test_every_public_name_is_documented() -> None:
    docs = documented()
    missing = [name for name in public_names() if name not in docs]
    assert missing == [], f"not in docs/api.md: {missing}"


def test_every_documented_name_exists() -> None:
    absent = []
    for name in documented():
        try:
            resolve(name)
        except (AttributeError, ImportError):
            absent.append(name)
    assert absent == [], f"docs/api.md documents names that do not exist: {absent}"


def test_documented_parameters_are_the_real_ones() -> None:
    wrong = {}
    for name, params in documented().items():
        if params is None:
            continue
        obj = resolve(name)
        if isinstance(getattr(obj, "fget", None), object) and isinstance(obj, property):
            wrong[name] = (params, "a property")
            continue
        real = plain_signature(obj)
        if params != real:
            wrong[name] = (params, real)
    assert wrong == {}, "docs/api.md (written, real): " + repr(wrong)


def test_every_command_is_documented() -> None:
    text = api_text()
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    missing = [c for c in commands if f"### `wifidirect {c}" not in text]
    assert missing == []


def test_changelog_has_this_version() -> None:
    changelog = ROOT / "CHANGELOG.md"
    if not changelog.exists():
        pytest.skip("CHANGELOG.md is not beside the tests (installed test run)")
    text = changelog.read_text(encoding="utf-8")
    assert re.search(
        rf"^## \[{re.escape(wifidirect.__version__)}\] - \d{{4}}-\d\d-\d\d$", text, re.M
    )


# --- the stubs of the compiled modules ----------------------------------------------------------


def _stub_class(module: str, name: str) -> ast.ClassDef:
    source = Path(wifidirect.__file__).with_name(f"{module}.pyi")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def stub_members(module: str) -> dict[str, int | None]:
    """Names declared in the stub's `_Lib` class and the shared `_wfd.WfdLib` it derives from
    -> parameter count (None for constants)."""
    lib = _stub_class(module, "_Lib")
    classes = [_stub_class("_wfd", b.id) for b in lib.bases if isinstance(b, ast.Name)] + [lib]
    members: dict[str, int | None] = {}
    for cls in classes:
        for node in cls.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("__"):
                args = node.args
                members[node.name] = len(args.posonlyargs) + len(args.args)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                members[node.target.id] = None
    return members


def header_names(*headers: str) -> set[str]:
    """Functions and #define constants declared in include/ headers."""
    names: set[str] = set()
    for header in headers:
        text = re.sub(r"/\*.*?\*/", "", (ROOT / "include" / header).read_text(), flags=re.S)
        names |= set(re.findall(r"^#define\s+(\w+)\s+\S", text, re.M))
        names |= set(re.findall(r"^(?!typedef)\w[\w\s\*]*?\b(\w+)\s*\(", text, re.M))
    return names


@pytest.mark.parametrize(
    ("module", "headers"), [("_wfdsim", ("wfd.h", "wfdsim.h")), ("_wpas", ("wfd.h", "wpas.h"))]
)
def test_stub_declares_what_the_headers_declare(module: str, headers: tuple[str, ...]) -> None:
    if not (ROOT / "include").exists():
        pytest.skip("include/ is not beside the tests (installed test run)")
    declared = header_names(*headers)
    assert "WFDOpenHandle" in declared and len(declared) > 10  # the parser works
    missing = declared - set(stub_members(module))
    assert missing == set(), f"declared in {headers} but not in {module}.pyi: {sorted(missing)}"


@pytest.mark.parametrize(
    "module",
    [
        "_wfdsim",
        pytest.param(
            "_wlanapi",
            marks=pytest.mark.skipif(sys.platform != "win32", reason="built on Windows only"),
        ),
        pytest.param(
            "_wpas",
            marks=pytest.mark.skipif(sys.platform != "linux", reason="built on Linux only"),
        ),
    ],
)
def test_stub_matches_the_compiled_module(module: str) -> None:
    compiled = importlib.import_module(f"wifidirect.{module}")
    ffi, lib = compiled.ffi, compiled.lib
    for name, count in stub_members(module).items():
        assert hasattr(lib, name), f"{module}.pyi declares {name}, the module has none"
        value = getattr(lib, name)
        if count is None:
            assert isinstance(value, int), name
        else:
            ctype = ffi.typeof(ffi.addressof(lib, name))
            assert len(ctype.args) == count, f"{name}: {len(ctype.args)} parameters, stub {count}"


def test_the_stubs_are_shipped_beside_the_modules() -> None:
    package = Path(wifidirect.__file__).parent
    assert (package / "py.typed").exists()
    for stub in ("_wfd.pyi", "_wfdsim.pyi", "_wlanapi.pyi", "_wpas.pyi"):
        assert (package / stub).exists(), stub
    assert _native.BACKENDS == {
        "wlanapi": "wifidirect._wlanapi",
        "wpas": "wifidirect._wpas",
        "sim": "wifidirect._wfdsim",
    }


def test_the_simulator_page_lists_the_default_peers_the_simulator_has() -> None:
    page = ROOT / "docs" / "simulator.md"
    if not page.exists():
        pytest.skip("docs/ is not beside the tests (installed test run)")
    rows = re.findall(r"^\| (02(?::[0-9a-f]{2}){5}) \| ([^|]+) \|", page.read_text(), re.M)
    written = {address: name.strip() for address, name in rows}
    assert written == {str(p.address): p.name for p in wifidirect.sim.default_peers()}
