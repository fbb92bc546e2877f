"""The package version; build_ffi.py compiles the same value (from pyproject.toml) into each
native module, and the native boundary refuses a module built for another version."""

__version__ = "0.1.0"
