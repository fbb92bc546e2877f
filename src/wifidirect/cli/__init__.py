"""The ``wifidirect`` command (also ``python -m wifidirect``).

Commands: ``info``, ``devices``, ``doctor``, ``open MAC``, ``legacy MAC``, ``visibility MAC``,
``demo``, ``probe MAC``, and for the wpa_supplicant backend (Linux) ``discover``, ``pair MAC``
and ``unpair MAC``. Every command takes ``--backend``, ``--json`` (one JSON document on
stdout instead of text) and ``--debug`` (debug logs of every native call on stderr, and
tracebacks), before or after its name.

Exit codes: 0 success, 1 an operation failed (one line ``wifidirect: error: ...`` on stderr,
and with ``--json`` a document with ``"ok": false``), 2 usage error (with ``--json`` also a
document), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

from .. import __version__
from ..address import MacAddress
from ..errors import BackendUnavailableError, ClosedError, ConfigurationError, WFDError
from ._commands import run_devices, run_info, run_legacy, run_open, run_visibility
from ._demo import UsageError, run_demo, validate
from ._doctor import run_doctor
from ._output import Output, error_info
from ._pairing import run_discover, run_pair, run_unpair
from ._pairing import validate as validate_pairing
from ._probe import run_probe

__all__ = ["main"]

#: Exceptions that mean "the operation failed" (exit 1) rather than a bug in wifidirect: also
#: a bad configuration (ConfigurationError, e.g. an unknown $WIFIDIRECT_BACKEND).
EXPECTED = (WFDError, TimeoutError, ImportError, ClosedError, UsageError, ConfigurationError)


class _UsageError(Exception):
    """argparse found a usage error (raised instead of exiting, for --json)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors come back to :func:`main` (which prints them, and
    with ``--json`` a document too) instead of exiting from inside argparse."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


def _address(text: str) -> MacAddress:
    try:
        return MacAddress(text)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"seconds must be >= 0: {text!r}")
    return value


def _finite_seconds(text: str) -> float:
    value = _seconds(text)
    if math.isinf(value):
        raise argparse.ArgumentTypeError(f"seconds must be finite: {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _finite_seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"seconds must be > 0: {text!r}")
    return value


def _pin(text: str) -> str:
    if not text.isdigit() or len(text) > 8:
        raise argparse.ArgumentTypeError(f"a PIN is up to 8 digits: {text!r}")
    return text


def _peer_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"from 0 to 10000 peers, not {value}")
    return value


def _common(subcommand: bool) -> _Parser:
    """Options accepted before and after the command name. After it, their default is
    SUPPRESS, so an option given before the name is not reset by the subparser."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if subcommand else value

    common = _Parser(add_help=False)
    common.add_argument(
        "--backend",
        choices=("wlanapi", "wpas", "sim"),
        default=default(None),
        help="backend (default: $WIFIDIRECT_BACKEND, else the platform's real one: wlanapi on "
        "Windows, wpas on Linux; the demo runs on sim unless this is given)",
    )
    common.add_argument(
        "--json", action="store_true", default=default(False), help="print one JSON document"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log every native call to stderr and show tracebacks",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="wifidirect",
        description="Open and close Wi-Fi Direct sessions (Windows' WFD API, or the simulator).",
        parents=[_common(subcommand=False)],
        epilog="exit codes: 0 success, 1 the operation failed, 2 usage error",
    )
    parser.add_argument("--version", action="version", version=f"wifidirect {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub = [_common(subcommand=True)]

    commands.add_parser(
        "info", parents=sub, help="backend, version, negotiated API version, simulator state"
    )
    commands.add_parser("devices", parents=sub, help="list the paired Wi-Fi Direct devices")
    commands.add_parser(
        "doctor", parents=sub, help="check what works here (backends, service, devices) and why"
    )

    p = commands.add_parser("open", parents=sub, help="open a session, hold it, close it")
    p.add_argument("address", type=_address, metavar="MAC", help="the device address")
    p.add_argument(
        "--timeout", type=_seconds, default=30.0, help="seconds to wait for the open (30)"
    )
    p.add_argument("--hold", type=_finite_seconds, default=0.0, help="seconds to keep it open (0)")

    p = commands.add_parser("legacy", parents=sub, help="open a legacy (WPS) session")
    p.add_argument("address", type=_address, metavar="MAC", help="the device address")
    p.add_argument("--hold", type=_finite_seconds, default=0.0, help="seconds to keep it open (0)")

    p = commands.add_parser(
        "visibility", parents=sub, help="update a device node's visibility property"
    )
    p.add_argument("address", type=_address, metavar="MAC", help="the device address")

    p = commands.add_parser(
        "demo",
        parents=sub,
        help="open sessions to every simulated peer concurrently (with --backend: to every "
        "paired device)",
    )
    p.add_argument("--timeout", type=_seconds, default=5.0, help="seconds per open (5)")
    p.add_argument(
        "--peers",
        type=_peer_count,
        metavar="N",
        help="add N simulated peers (varied latency, some failing) to the default five",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list every peer, also beyond 20")

    p = commands.add_parser(
        "probe",
        parents=sub,
        help="record what the real service does (opens, cancel, close, properties) to JSON",
    )
    p.add_argument("paired", type=_address, metavar="MAC", help="a paired device, in range")
    p.add_argument("--unpaired", type=_address, metavar="MAC", help="a device not paired")
    p.add_argument(
        "--out-of-range", type=_address, metavar="MAC", help="a paired device that is off or away"
    )
    p.add_argument(
        "--hold", type=_finite_seconds, default=5.0, help="seconds to hold the session (5)"
    )
    p.add_argument(
        "--out", default="wifidirect-probe.json", metavar="FILE", help="the JSON file to write"
    )

    p = commands.add_parser(
        "discover", parents=sub, help="search for Wi-Fi Direct devices (wpas backend, Linux)"
    )
    p.add_argument("--timeout", type=_positive_seconds, default=10.0, help="seconds to search (10)")

    p = commands.add_parser(
        "pair", parents=sub, help="pair with a device: push button or PIN (wpas backend, Linux)"
    )
    p.add_argument("address", type=_address, metavar="MAC", help="the device's P2P address")
    p.add_argument("--pin", type=_pin, help="the PIN the device shows (default: push button)")
    p.add_argument("--timeout", type=_positive_seconds, default=60.0, help="seconds to wait (60)")

    p = commands.add_parser("unpair", parents=sub, help="forget a pairing (wpas backend, Linux)")
    p.add_argument("address", type=_address, metavar="MAC", help="the device's P2P address")
    return parser


def _demo(args: argparse.Namespace, out: Output) -> int:
    return asyncio.run(run_demo(args, out))


COMMANDS: dict[str, Callable[[argparse.Namespace, Output], int]] = {
    "info": run_info,
    "devices": run_devices,
    "doctor": run_doctor,
    "open": run_open,
    "legacy": run_legacy,
    "visibility": run_visibility,
    "demo": _demo,
    "probe": run_probe,
    "discover": run_discover,
    "pair": run_pair,
    "unpair": run_unpair,
}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, EXPECTED):
        return text
    return f"{type(exc).__name__}: {text} (a bug in wifidirect? run with --debug for details)"


#: Option checks that need more than one option, run before any native call, by command.
VALIDATORS: dict[str, Callable[[argparse.Namespace], None]] = {
    "demo": validate,
    "discover": validate_pairing,
    "pair": validate_pairing,
    "unpair": validate_pairing,
}


def _usage_error(exc: _UsageError, argv: Sequence[str]) -> int:
    """A usage error: usage and message on stderr, exit code 2; with --json also a document
    on stdout."""
    exc.parser.print_usage(sys.stderr)
    print(f"{exc.parser.prog}: error: {exc.message}", file=sys.stderr)
    if "--json" in argv:
        command = next((a for a in argv if a in COMMANDS), None)
        error = {"type": "UsageError", "message": exc.message}
        Output(True).document({"command": command, "ok": False, "error": error})
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        check = VALIDATORS.get(args.command)
        if check is not None:
            try:
                check(args)
            except UsageError as exc:
                parser.error(str(exc))
    except _UsageError as exc:
        return _usage_error(exc, argv)
    try:
        return _run(parser, args)
    except BrokenPipeError:  # e.g. `wifidirect info --json | head -1`: not worth a traceback
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        except (OSError, ValueError):
            pass
        return 1


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.debug:
        return _command(parser, args)
    # The command line is an application: with --debug it shows the library's debug log on
    # stderr, for this call only (main() may run in a process that configured logging itself).
    logger = logging.getLogger("wifidirect")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(relativeCreated)8.1f ms %(threadName)s %(name)s: %(message)s")
    )
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        return _command(parser, args)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    out = Output(args.json)
    try:
        return COMMANDS[args.command](args, out)
    except KeyboardInterrupt:
        print("wifidirect: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        out.document({"command": args.command, "ok": False, "error": error_info(exc)})
        print(f"wifidirect: error: {_one_line(exc)}", file=sys.stderr)
        if isinstance(exc, BackendUnavailableError) and args.backend is None:
            print(
                "wifidirect: hint: `--backend sim` runs this on the simulator; "
                "`wifidirect doctor` shows what is available here",
                file=sys.stderr,
            )
        return 1
