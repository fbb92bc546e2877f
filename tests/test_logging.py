"""Logging: the facade logs every native call and each callback arrival to the "wifidirect"
logger at DEBUG, and is silent unless the application configures logging.

No NullHandler is added: the logging HOWTO advises libraries to add no handlers but
NullHandler, and NullHandler only matters for what Python prints *without* configuration, which
for DEBUG records is already nothing. Without it, an application that configured nothing still
sees our rare WARNING/ERROR records (a failed callback, a failed cleanup) through logging's
last-resort handler, which is what we want.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from helpers import PROJECTOR, TV, settle

import wifidirect


def test_the_library_adds_no_handler_and_sets_no_level() -> None:
    logger = logging.getLogger("wifidirect")
    assert logger.handlers == []
    assert logger.level == logging.NOTSET and logger.propagate


def test_silent_by_default() -> None:
    code = textwrap.dedent(
        f"""
        import wifidirect
        with wifidirect.Client() as client:
            client.open_session_sync({TV!r}).close()
            try:
                client.open_session_sync({PROJECTOR!r})
            except wifidirect.OpenSessionError:
                pass
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_debug_records_each_native_call_and_callback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wifidirect")
    with wifidirect.Client() as client:
        client.open_session_sync(TV).close()
        client.update_device_visibility_sync(TV)
    settle()  # the callback logs after it has woken the opener
    records = [r for r in caplog.records if r.name == "wifidirect"]
    assert {r.levelno for r in records} == {logging.DEBUG}
    text = "\n".join(r.getMessage() for r in records)
    for call in (
        "WFDOpenHandle",
        "WFDStartOpenSession",
        "WFDCloseSession",
        "WFDUpdateDeviceVisibility",
        "WFDCloseHandle",
    ):
        assert call in text, f"{call} not logged"
    assert "completion" in text  # the callback's arrival
    # Each record names the result code of its native call.
    assert any(
        "WFDStartOpenSession" in r.getMessage() and "-> 0" in r.getMessage() for r in records
    )


def test_nothing_is_logged_above_debug_for_ordinary_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="wifidirect")
    with wifidirect.Client() as client, pytest.raises(wifidirect.OpenSessionError):
        client.open_session_sync(PROJECTOR)
    settle()
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
