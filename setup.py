"""Only what pyproject.toml cannot say: the cffi modules to build on this platform."""

import sys

from setuptools import setup

CFFI_MODULES = ["build_ffi.py:sim_ffi"]
if sys.platform == "win32":
    # The real binding, and the ABI-mode control module for the simulator built as wlanapi.dll.
    CFFI_MODULES += ["build_ffi.py:wlanapi_ffi", "build_ffi.py:wfdsim_abi_ffi"]
if sys.platform.startswith("linux"):
    # The Linux backend over wpa_supplicant's P2P control interface.
    CFFI_MODULES += ["build_ffi.py:wpas_ffi"]

setup(cffi_modules=CFFI_MODULES)
