"""Repack wifidirect's wheel for Windows with the cross-built modules (used by tools/wine-test).

Usage: python tools/win_wheel.py WHEEL BUILD_DIR OUT_DIR   (prints the path of the new wheel)

The Python files and the metadata (requirements, entry points) come from WHEEL, which setuptools
built from pyproject.toml on this machine; its compiled module is replaced by those of
``build_ffi.py cross x86_64`` in BUILD_DIR, and it is tagged cp310-abi3-win_amd64 (cffi's
modules use the limited API and import python3.dll).
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

MODULES = ("_wlanapi.pyd", "_wfdsim.pyd", "_wfdsim_abi.py")
TAG = "cp310-abi3-win_amd64"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def repack(wheel: Path, build: Path, out: Path) -> Path:
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as src:
        for name in src.namelist():
            if name.startswith("wifidirect/_") and name.endswith((".so", ".pyd")):
                continue  # this machine's compiled module
            files[name] = src.read(name)
    dist_info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/WHEEL"))
    for module in MODULES:
        files[f"wifidirect/{module}"] = (build / module).read_bytes()
    meta = files[f"{dist_info}/WHEEL"].decode().splitlines()
    meta = [ln for ln in meta if ln.strip() and not ln.startswith(("Tag:", "Root-Is-Purelib:"))]
    files[f"{dist_info}/WHEEL"] = "\n".join(
        [*meta, "Root-Is-Purelib: false", f"Tag: {TAG}", ""]
    ).encode()
    record = f"{dist_info}/RECORD"
    files.pop(record, None)
    name, version = dist_info.removesuffix(".dist-info").rsplit("-", 1)
    target = out / f"{name}-{version}-{TAG}.whl"
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        lines = []
        for member, data in sorted(files.items()):
            dst.writestr(member, data)
            lines.append(_record_line(member, data))
        dst.writestr(record, "".join(lines) + f"{record},,\n")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(repack(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
