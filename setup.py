"""Only what pyproject.toml cannot say: the cffi modules to build on this platform."""

import sys

from setuptools import setup

CFFI_MODULES = ["build_ffi.py:sim_ffi"]
if sys.platform == "win32":
    CFFI_MODULES.append("build_ffi.py:wlanapi_ffi")

setup(cffi_modules=CFFI_MODULES)
