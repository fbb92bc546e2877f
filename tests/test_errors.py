"""Win32 code -> exception mapping."""

from __future__ import annotations

import pickle

import pytest

import wifidirect
from wifidirect import errors
from wifidirect.errors import check, open_session_error


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (6, wifidirect.InvalidHandleError),
        (8, wifidirect.NotEnoughMemoryError),
        (87, wifidirect.InvalidParameterError),
        (1062, wifidirect.ServiceNotActiveError),
        (1220, wifidirect.SessionLimitError),
        (5023, wifidirect.InvalidStateError),
    ],
)
def test_documented_codes_map_to_their_class(code: int, cls: type) -> None:
    with pytest.raises(cls) as info:
        check(code, "WFDOpenHandle")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, wifidirect.WFDError) and isinstance(err, OSError)
    assert err.winerror == code and err.function == "WFDOpenHandle"
    assert wifidirect.error_name(code) in str(err) and f"({code})" in str(err)


def test_success_raises_nothing() -> None:
    check(0, "WFDCloseSession")


def test_other_codes_raise_base_class_with_windows_name() -> None:
    with pytest.raises(wifidirect.WFDError) as info:
        check(1722, "WFDCloseSession")
    assert type(info.value) is wifidirect.WFDError
    assert "RPC_S_SERVER_UNAVAILABLE (1722)" in str(info.value)
    with pytest.raises(wifidirect.WFDError, match=r"WIN32_ERROR_31337 \(31337\)"):
        check(31337, "WFDCloseSession")


def test_completion_errors_carry_reason_and_documented_class() -> None:
    err = open_session_error(1062, 5, "02:00:00:00:00:01")
    assert isinstance(err, wifidirect.OpenSessionError)
    assert isinstance(err, wifidirect.ServiceNotActiveError)
    assert err.reason_code == 5 and err.winerror == 1062 and err.address == "02:00:00:00:00:01"
    assert isinstance(open_session_error(5023, 6, "x"), wifidirect.InvalidStateError)
    plain = open_session_error(1460, 9, "x")
    assert type(plain) is wifidirect.OpenSessionError and plain.reason_code == 9


def test_exceptions_pickle() -> None:
    for err in (
        wifidirect.InvalidHandleError(6, "WFDCloseHandle"),
        open_session_error(1062, 5, "a"),
        open_session_error(1460, 9, "b"),
    ):
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err)
        assert copy.winerror == err.winerror and copy.function == err.function


def test_closed_error_is_a_value_error() -> None:
    assert issubclass(wifidirect.ClosedError, ValueError)


def test_common_failures_say_what_to_do() -> None:
    for code, needle in (
        (1244, "not paired"),
        (1062, "not running"),
        (1460, "out of range"),
        (1168, "wifidirect devices"),
        (5023, "group policy"),
    ):
        exc = errors.open_session_error(code, 0, "02:00:00:00:00:01")
        assert needle in exc.hint and str(exc).endswith(f"Hint: {exc.hint}")
    plain = wifidirect.WFDError(1726, "WFDCloseSession")
    assert plain.hint == "" and "Hint" not in str(plain)


def test_unknown_codes_use_the_system_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "_system_text", [lambda code: f"text for {code}"])
    exc = wifidirect.WFDError(31, "WFDStartOpenSession")
    assert str(exc) == "WFDStartOpenSession failed: WIN32_ERROR_31 (31) text for 31"
    known = wifidirect.WFDError(6, "WFDCloseHandle")
    assert "text for" not in str(known)  # known codes keep wifidirect's own name
    monkeypatch.setattr(errors, "_system_text", [lambda code: 1 / 0])  # never fatal
    assert str(wifidirect.WFDError(31, "x")) == "x failed: WIN32_ERROR_31 (31)"


def test_a_hint_survives_pickling() -> None:
    import pickle

    exc = pickle.loads(pickle.dumps(errors.open_session_error(1244, 2, "02:00:00:00:00:01")))
    assert "not paired" in exc.hint
