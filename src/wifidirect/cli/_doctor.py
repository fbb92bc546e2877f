"""``wifidirect doctor``: what works here, what does not, and why.

On Windows it checks Wlanapi.dll, the WLAN AutoConfig service, a wireless group policy, a
client handle and the paired devices; on Linux the wpa_supplicant it found (or why none), whether
it saves pairings, a client handle and the paired devices; everywhere, which backends exist and
why the others are unavailable. Exit code 0 when ``Client()``'s default backend works, else 1.
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import asdict, dataclass
from typing import Any

from .. import __version__, _native
from ..client import Client
from ..errors import WFDError
from ._output import Output

__all__ = ["Check", "run_doctor"]

OK = "ok"
WARN = "warn"
FAIL = "fail"
INFO = "info"

#: Where the Group Policy client keeps a domain's wireless network (IEEE 802.11) policy, whose
#: "Don't allow Wi-Fi Direct groups" setting makes opens fail with ERROR_INVALID_STATE.
WIRELESS_POLICY_KEY = r"SOFTWARE\Policies\Microsoft\Windows\Wireless\GPTWirelessPolicy"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    status: str  #: ok, warn, fail or info
    detail: str


def _backend_checks(checks: list[Check]) -> str | None:
    """A check per backend, and the default's; returns the default backend's name if it
    loads."""
    try:
        default: str | None = _native.default_backend_name()
    except (ImportError, ValueError) as exc:
        checks.append(Check("default backend", FAIL, str(exc)))
        default = None
    reasons: dict[str, str] = {}
    for name in _native.BACKENDS:
        try:
            _native.get_backend(name)
        except ImportError as exc:
            why = getattr(exc, "why", str(exc))
            reasons[name] = why
            status = FAIL if name == default else INFO
            checks.append(Check(f"backend {name}", status, f"unavailable: {why}"))
            continue
        what = {
            "sim": "the bundled simulator (choose it with --backend sim or WIFIDIRECT_BACKEND=sim)",
            "wpas": "wpa_supplicant with P2P found",
        }.get(name, "loads")
        checks.append(Check(f"backend {name}", OK, what))
    if default is not None:
        if default in reasons:
            checks.insert(1, Check("default backend", FAIL, f"{default}: {reasons[default]}"))
            return None
        sim_note = " (a simulator)" if _native.is_simulator(default) else ""
        checks.insert(1, Check("default backend", OK, f"{default}{sim_note}"))
    return default


def _wpas_checks(checks: list[Check]) -> bool:
    """The wpa_supplicant the wpas backend uses, and whether it keeps pairings."""
    _, lib = _native.wpas_module()
    checks.append(Check("wpa_supplicant", OK, _native.wpas_why(_native.wpas_module_raw())))
    saves = lib.wpas_saves_config()
    if saves == 1:
        checks.append(Check("pairings kept", OK, "update_config=1: pairings are saved"))
    else:
        checks.append(
            Check(
                "pairings kept",
                WARN,
                "update_config is not 1: pairings (persistent groups) last until wpa_supplicant "
                "restarts; set update_config=1 in its configuration file to keep them",
            )
        )
    return True


def _windows_checks(checks: list[Check]) -> bool:
    """Wlanapi.dll, the service, a wireless policy. Returns False if something fails."""
    backend = _native.get_backend("wlanapi")
    path = backend.module_path()
    checks.append(Check("Wlanapi.dll", OK, path or "loaded"))
    running = backend.service_running()
    if running is None:
        checks.append(Check("WLAN AutoConfig", WARN, "its state cannot be read here"))
    elif running:
        checks.append(Check("WLAN AutoConfig", OK, "the service (Wlansvc) is running"))
    else:
        checks.append(
            Check(
                "WLAN AutoConfig",
                FAIL,
                "the service (Wlansvc) is not running: turn Wi-Fi on, or start it "
                "(services.msc, or `net start wlansvc` as administrator)",
            )
        )
    checks.append(_policy_check())
    return running is not False


def _policy_present() -> bool:
    if sys.platform != "win32":
        return False
    import winreg  # noqa: PLC0415  (Windows only)

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, WIRELESS_POLICY_KEY):
            return True
    except OSError:
        return False


def _policy_check() -> Check:
    if not _policy_present():
        return Check(
            "group policy",
            OK,
            "no domain wireless network policy found (an open that fails with "
            "ERROR_INVALID_STATE (5023) would mean a policy disables Wi-Fi Direct)",
        )
    return Check(
        "group policy",
        WARN,
        f"a domain wireless network policy applies (HKLM\\{WIRELESS_POLICY_KEY}); if it says "
        '"Don\'t allow Wi-Fi Direct groups", opens fail with ERROR_INVALID_STATE (5023)',
    )


def _client_checks(name: str, checks: list[Check]) -> bool:
    try:
        with Client(name) as client:
            version = client.negotiated_version
            checks.append(Check("client handle", OK, f"WFDOpenHandle: API version {version}"))
            devices = client.devices()
    except (WFDError, ImportError) as exc:
        checks.append(Check("client handle", FAIL, str(exc)))
        return False
    if not devices:
        checks.append(
            Check(
                "paired devices",
                WARN,
                "none: pair a Wi-Fi Direct device in the system's settings first",
            )
        )
    else:
        listed = ", ".join(f"{d.name or '(unnamed)'} {d.address}" for d in devices[:5])
        more = f" and {len(devices) - 5} more" if len(devices) > 5 else ""
        checks.append(Check("paired devices", OK, f"{len(devices)}: {listed}{more}"))
    return True


def run_doctor(args: argparse.Namespace, out: Output) -> int:
    """Run the checks; exit code 0 when the default backend works."""
    checks = [
        Check(
            "platform",
            INFO,
            f"{sys.platform} ({platform.platform()}), Python {platform.python_version()}, "
            f"wifidirect {__version__}",
        )
    ]
    default = _backend_checks(checks)
    healthy = default is not None
    if default == "wlanapi" and not _native.is_simulator("wlanapi"):
        healthy = _windows_checks(checks) and healthy
    if default == "wpas":
        healthy = _wpas_checks(checks) and healthy
    if default is not None:
        healthy = _client_checks(default, checks) and healthy
    width = max(len(c.name) for c in checks)
    out.line("checks")
    for c in checks:
        out.line(f"  {c.name:<{width}}  {c.status:<4}  {c.detail}")
    verdict = (
        f"Client() works here, on the {default} backend"
        if healthy
        else "Client() with no backend argument does not work here (see the checks above)"
    )
    out.line(verdict)
    doc: dict[str, Any] = {
        "command": "doctor",
        "ok": healthy,
        "default_backend": default,
        "checks": [asdict(c) for c in checks],
    }
    out.document(doc)
    return 0 if healthy else 1
