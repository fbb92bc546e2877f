"""MacAddress parsing, formatting and errors."""

from __future__ import annotations

import pickle

import pytest

from wifidirect import MacAddress


@pytest.mark.parametrize(
    "text",
    [
        "aa:bb:cc:dd:ee:ff",
        "AA:BB:CC:DD:EE:FF",
        "AA-BB-CC-DD-EE-FF",
        "aabbccddeeff",
        "AaBbCcDdEeFf",
        b"\xaa\xbb\xcc\xdd\xee\xff",
        bytearray(b"\xaa\xbb\xcc\xdd\xee\xff"),
        memoryview(b"\xaa\xbb\xcc\xdd\xee\xff"),
    ],
)
def test_accepted_forms_all_mean_the_same_address(text: object) -> None:
    mac = MacAddress(text)  # type: ignore[arg-type]
    assert str(mac) == "aa:bb:cc:dd:ee:ff"
    assert bytes(mac) == b"\xaa\xbb\xcc\xdd\xee\xff"
    assert mac.packed == bytes(mac)


def test_equality_hash_repr_and_identity() -> None:
    a = MacAddress("aa:bb:cc:dd:ee:ff")
    b = MacAddress("AA-BB-CC-DD-EE-FF")
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != MacAddress("aa:bb:cc:dd:ee:fe")
    assert a != "aa:bb:cc:dd:ee:ff"  # no implicit comparison with strings
    assert repr(a) == "MacAddress('aa:bb:cc:dd:ee:ff')"
    assert MacAddress(a) is a
    assert pickle.loads(pickle.dumps(a)) == a


def test_immutable() -> None:
    mac = MacAddress("aabbccddeeff")
    with pytest.raises(AttributeError):
        mac._packed = b"\x00" * 6  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "aa:bb:cc:dd:ee",
        "aa:bb:cc:dd:ee:ff:00",
        "aa:bb-cc:dd:ee:ff",
        "gg:bb:cc:dd:ee:ff",
        "aabbccddeef",
        "aabbccddeeff0",
        " aa:bb:cc:dd:ee:ff",
        "aa:bb:cc:dd:ee:ff\n",
        "a:b:c:d:e:f",
        "aa::bb:cc:dd:ee:ff",
        "ａａ:bb:cc:dd:ee:ff",
        b"\x00" * 5,
        b"\x00" * 7,
        b"",
    ],
)
def test_malformed_values_raise_value_error_naming_them(bad: object) -> None:
    with pytest.raises(ValueError) as info:
        MacAddress(bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", [None, 0xAABBCCDDEEFF, 1.5, ["aa"], object()])
def test_wrong_types_raise_type_error_naming_them(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        MacAddress(bad)  # type: ignore[arg-type]
    assert type(bad).__name__ in str(info.value)
