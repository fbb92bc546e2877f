"""MacAddress: a validated, immutable 48-bit device address."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from .devices import Device

__all__ = ["AddressLike", "MacAddress", "register_holder"]

_SEPARATED = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")
_BARE = re.compile(r"[0-9A-Fa-f]{12}")


class MacAddress:
    """A Wi-Fi Direct device address (six bytes).

    Accepts ``"aa:bb:cc:dd:ee:ff"``, ``"AA-BB-CC-DD-EE-FF"``, ``"aabbccddeeff"`` (any case),
    six bytes (``bytes``, ``bytearray`` or ``memoryview``), another ``MacAddress``, or a
    :class:`~wifidirect.Device` (its device address).
    Anything else raises ``ValueError`` (a malformed value) or ``TypeError`` (a wrong type),
    naming the value. ``str()`` gives the lower-case colon form; instances are hashable and
    compare equal by value.
    """

    __slots__ = ("_packed",)
    _packed: bytes

    def __new__(cls, value: AddressLike) -> MacAddress:
        if isinstance(value, MacAddress):
            return value
        if isinstance(value, str) and cls is MacAddress:
            return _from_text(value)  # immutable: one shared instance per spelling
        if isinstance(value, _HOLDERS):  # a Device: its device address
            address: MacAddress = value.address  # type: ignore[union-attr]
            return address
        self = object.__new__(cls)
        object.__setattr__(self, "_packed", _parse(value))
        return self

    def __bytes__(self) -> bytes:
        return self._packed

    @property
    def packed(self) -> bytes:
        """The six address bytes."""
        return self._packed

    def __str__(self) -> str:
        return ":".join(f"{b:02x}" for b in self._packed)

    def __repr__(self) -> str:
        return f"MacAddress({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MacAddress):
            return self._packed == other._packed
        return NotImplemented

    def __hash__(self) -> int:
        return hash((MacAddress, self._packed))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("MacAddress is immutable")

    def __reduce__(self) -> tuple[type[MacAddress], tuple[bytes]]:
        return (MacAddress, (self._packed,))


#: Types whose instances stand for their ``address`` attribute (``Device``, registered by
#: wifidirect.devices: a Device exists only once that module is imported).
_HOLDERS: tuple[type, ...] = ()


def register_holder(cls: type) -> None:
    """Let instances of ``cls`` (with a ``MacAddress`` attribute ``address``) pass for it."""
    global _HOLDERS
    _HOLDERS = (*_HOLDERS, cls)


#: What every public function accepts as a device address.
AddressLike: TypeAlias = "MacAddress | Device | str | bytes | bytearray | memoryview"


def _parse(value: object) -> bytes:
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        packed = bytes(value)
        if len(packed) != 6:
            raise ValueError(f"invalid MAC address {value!r}: expected 6 bytes, got {len(packed)}")
        return packed
    raise TypeError(
        "MAC address must be a str, 6 bytes, a MacAddress or a Device, not "
        f"{type(value).__name__}: {value!r}"
    )


@lru_cache(maxsize=4096)  # applications pass the same few address strings again and again
def _from_text(text: str) -> MacAddress:
    self = object.__new__(MacAddress)
    object.__setattr__(self, "_packed", _parse_text(text))
    return self


def _parse_text(text: str) -> bytes:
    if _SEPARATED.fullmatch(text):
        return bytes.fromhex(text.replace(text[2], ""))
    if _BARE.fullmatch(text):
        return bytes.fromhex(text)
    raise ValueError(
        f"invalid MAC address {text!r}: expected six hex pairs like "
        "'aa:bb:cc:dd:ee:ff', 'AA-BB-CC-DD-EE-FF' or 'aabbccddeeff'"
    )
