"""The wlanapi backend's own system code on Windows (src/wlanapi/system.c): paired devices from
SetupAPI device nodes, a real interface from its GUID through IP Helper, link notifications,
message texts and the service's state. Run by tools/wine-test, where the test creates Wi-Fi
Direct device nodes in the Wine prefix (device info, an interface of
GUID_DEVINTERFACE_WIFIDIRECT_DEVICE, the DEVPKEY_WiFiDirect_* properties) and the library must
list exactly them. Elsewhere there is no Windows system to read."""

from __future__ import annotations

import ctypes
import sys
import uuid
from collections.abc import Iterator
from ctypes import POINTER, Structure, byref, c_ubyte, c_ulong, c_void_p, c_wchar_p, sizeof
from typing import Any

import pytest
from helpers import under_wine

import wifidirect
from wifidirect import _native

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="Windows' own system code")

WFD_DEVICE = uuid.UUID(
    "439B20AF-8955-405B-99F0-A62AF0C68D43"
)  # GUID_DEVINTERFACE_WIFIDIRECT_DEVICE
WFD_FMTID = uuid.UUID("1506935D-E3E7-450F-8637-82233EBE5F6E")  # DEVPKEY_WiFiDirect_*
DEVICE_FMTID = uuid.UUID("A45C254E-DF1C-4EFD-8020-67D146A850E0")  # DEVPKEY_Device_*
#: The setup class of the test's device nodes: made up, so cleanup finds exactly them.
TEST_CLASS = uuid.UUID("5F0D3C1E-0B5A-4E57-9C2B-77A1D0E5F7A1")
TYPE_BINARY, TYPE_BOOLEAN, TYPE_STRING = 0x1003, 0x11, 0x12


class GUID(Structure):
    _fields_ = [("bytes", c_ubyte * 16)]

    @classmethod
    def of(cls, value: uuid.UUID) -> GUID:
        return cls((c_ubyte * 16)(*value.bytes_le))


class SP_DEVINFO_DATA(Structure):  # noqa: N801  (the Windows name)
    _fields_ = [
        ("cbSize", c_ulong),
        ("ClassGuid", GUID),
        ("DevInst", c_ulong),
        ("Reserved", c_void_p),
    ]


class SP_DEVICE_INTERFACE_DATA(Structure):  # noqa: N801
    _fields_ = [
        ("cbSize", c_ulong),
        ("InterfaceClassGuid", GUID),
        ("Flags", c_ulong),
        ("Reserved", c_void_p),
    ]


class DEVPROPKEY(Structure):
    _fields_ = [("fmtid", GUID), ("pid", c_ulong)]


def _setupapi() -> Any:
    api = ctypes.WinDLL("setupapi", use_last_error=True)  # type: ignore[attr-defined]
    api.SetupDiCreateDeviceInfoList.restype = c_void_p
    api.SetupDiCreateDeviceInfoList.argtypes = [POINTER(GUID), c_void_p]
    api.SetupDiGetClassDevsW.restype = c_void_p
    api.SetupDiGetClassDevsW.argtypes = [POINTER(GUID), c_wchar_p, c_void_p, c_ulong]
    api.SetupDiDestroyDeviceInfoList.argtypes = [c_void_p]
    api.SetupDiCreateDeviceInfoW.argtypes = [
        c_void_p, c_wchar_p, POINTER(GUID), c_wchar_p, c_void_p, c_ulong,
        POINTER(SP_DEVINFO_DATA),
    ]  # fmt: skip
    api.SetupDiRegisterDeviceInfo.argtypes = [
        c_void_p, POINTER(SP_DEVINFO_DATA), c_ulong, c_void_p, c_void_p, c_void_p,
    ]  # fmt: skip
    api.SetupDiCreateDeviceInterfaceW.argtypes = [
        c_void_p, POINTER(SP_DEVINFO_DATA), POINTER(GUID), c_wchar_p, c_ulong,
        POINTER(SP_DEVICE_INTERFACE_DATA),
    ]  # fmt: skip
    api.SetupDiSetDevicePropertyW.argtypes = [
        c_void_p, POINTER(SP_DEVINFO_DATA), POINTER(DEVPROPKEY), c_ulong, c_void_p, c_ulong,
        c_ulong,
    ]  # fmt: skip
    api.SetupDiEnumDeviceInfo.argtypes = [c_void_p, c_ulong, POINTER(SP_DEVINFO_DATA)]
    api.SetupDiRemoveDevice.argtypes = [c_void_p, POINTER(SP_DEVINFO_DATA)]
    return api


class DeviceNodes:
    """Wi-Fi Direct device nodes made for the test, removed at its end."""

    def __init__(self) -> None:
        self.api = _setupapi()
        self.remove_all()  # leftovers of an interrupted run

    def remove_all(self) -> None:
        api = self.api
        found = api.SetupDiGetClassDevsW(byref(GUID.of(TEST_CLASS)), None, None, 0)
        assert found not in (None, ctypes.c_void_p(-1).value)
        try:
            node = SP_DEVINFO_DATA(cbSize=sizeof(SP_DEVINFO_DATA))
            index = 0
            while api.SetupDiEnumDeviceInfo(found, index, byref(node)):
                removed = api.SetupDiRemoveDevice(found, byref(node))
                assert removed, ctypes.get_last_error()  # type: ignore[attr-defined]
                index += 1
        finally:
            api.SetupDiDestroyDeviceInfoList(found)

    def add(self, properties: dict[tuple[uuid.UUID, int], tuple[int, bytes]]) -> None:
        api = self.api
        nodes = api.SetupDiCreateDeviceInfoList(byref(GUID.of(TEST_CLASS)), None)
        try:
            node = SP_DEVINFO_DATA(cbSize=sizeof(SP_DEVINFO_DATA))
            ok = api.SetupDiCreateDeviceInfoW(
                nodes, "WIFIDIRECT_TEST", byref(GUID.of(TEST_CLASS)), None, None, 1, byref(node)
            )  # DICD_GENERATE_ID: ROOT\WIFIDIRECT_TEST\000N
            if not ok:
                error = ctypes.get_last_error()  # type: ignore[attr-defined]
                if error == 5:  # ERROR_ACCESS_DENIED
                    pytest.skip("creating device nodes needs an administrator")
                raise OSError(error, "SetupDiCreateDeviceInfoW")
            assert api.SetupDiRegisterDeviceInfo(nodes, byref(node), 0, None, None, None)
            iface = SP_DEVICE_INTERFACE_DATA(cbSize=sizeof(SP_DEVICE_INTERFACE_DATA))
            assert api.SetupDiCreateDeviceInterfaceW(
                nodes, byref(node), byref(GUID.of(WFD_DEVICE)), None, 0, byref(iface)
            )
            for (fmtid, pid), (kind, value) in properties.items():
                key = DEVPROPKEY(GUID.of(fmtid), pid)
                buffer = ctypes.create_string_buffer(value, len(value))
                assert api.SetupDiSetDevicePropertyW(
                    nodes, byref(node), byref(key), kind, buffer, len(value), 0
                ), ctypes.get_last_error()  # type: ignore[attr-defined]
        finally:
            api.SetupDiDestroyDeviceInfoList(nodes)


def wfd(pid: int, kind: int, value: bytes) -> tuple[tuple[uuid.UUID, int], tuple[int, bytes]]:
    return (WFD_FMTID, pid), (kind, value)


def flag(on: bool) -> bytes:
    return b"\xff" if on else b"\x00"  # DEVPROP_BOOLEAN: -1 true, 0 false


def name(text: str) -> tuple[tuple[uuid.UUID, int], tuple[int, bytes]]:
    return (DEVICE_FMTID, 14), (TYPE_STRING, (text + "\0").encode("utf-16-le"))


@pytest.fixture
def nodes() -> Iterator[DeviceNodes]:
    if not under_wine():
        pytest.skip("creates device nodes: only in a Wine prefix (tools/wine-test)")
    made = DeviceNodes()
    yield made
    made.remove_all()


def test_the_library_lists_exactly_the_device_nodes_created(nodes: DeviceNodes) -> None:
    with wifidirect.Client("wlanapi") as client:
        assert client.devices() == ()  # a fresh prefix has no Wi-Fi Direct devices
    nodes.add(
        dict(
            [
                wfd(1, TYPE_BINARY, bytes.fromhex("02005e100001")),
                wfd(2, TYPE_BINARY, bytes.fromhex("02005e108001")),
                wfd(5, TYPE_BOOLEAN, flag(True)),
                wfd(6, TYPE_BOOLEAN, flag(True)),
                wfd(7, TYPE_BOOLEAN, flag(False)),
                name("Living Room TV"),
            ]
        )
    )
    nodes.add(
        dict(
            [
                wfd(13, TYPE_BINARY, bytes.fromhex("02005e100002")),  # only the address copy
                wfd(6, TYPE_BOOLEAN, flag(False)),
                wfd(7, TYPE_BOOLEAN, flag(True)),
                name("Office Printer ✓"),
            ]
        )
    )
    nodes.add(dict([wfd(1, TYPE_BINARY, bytes.fromhex("02005e100003"))]))  # no name, no flags
    with wifidirect.Client("wlanapi") as client:
        devices = sorted(client.devices(), key=lambda d: str(d.address))
    print("devices the library listed:", *devices, sep="\n  ")
    got = [
        (str(d.address), d.name, d.connected, d.visible, d.legacy, d.interface_address)
        for d in devices
    ]
    assert got == [
        ("02:00:5e:10:00:01", "Living Room TV", True, True, False,
         wifidirect.MacAddress("02:00:5e:10:80:01")),
        ("02:00:5e:10:00:02", "Office Printer ✓", False, False, True, None),
        ("02:00:5e:10:00:03", "", False, False, False, None),
    ]  # fmt: skip
    assert all(d.id.lower().startswith("\\\\?\\root#wifidirect_test#") for d in devices)
    assert all(d.id.lower().endswith(f"#{{{WFD_DEVICE}}}".lower()) for d in devices)
    nodes.remove_all()
    with wifidirect.Client("wlanapi") as client:
        assert client.devices() == ()


def _real_interfaces() -> list[tuple[int, uuid.UUID, str]]:
    """(index, GUID, alias) of the machine's interfaces, through IP Helper by ctypes."""
    iphlp = ctypes.WinDLL("iphlpapi")  # type: ignore[attr-defined]
    found = []
    for index in range(1, 64):
        luid = ctypes.c_uint64()
        if iphlp.ConvertInterfaceIndexToLuid(index, byref(luid)):
            continue
        guid = GUID()
        alias = ctypes.create_unicode_buffer(257)
        if iphlp.ConvertInterfaceLuidToGuid(byref(luid), byref(guid)):
            continue
        if iphlp.ConvertInterfaceLuidToAlias(byref(luid), alias, 257):
            continue
        found.append((index, uuid.UUID(bytes_le=bytes(guid.bytes)), alias.value))
    return found


def test_a_real_interface_is_resolved_from_its_guid() -> None:
    interfaces = _real_interfaces()
    assert interfaces, "IP Helper lists no interface"
    backend = _native.get_backend("wlanapi")
    for index, guid, alias in interfaces:
        rc, raw = backend.get_interface(guid.bytes_le)
        assert rc == 0 and raw is not None, (index, guid, alias)
        iface = wifidirect.Interface._from_raw(guid, raw)
        print(f"interface {index} {guid}: {iface}")
        assert (iface.name, iface.index) == (alias, index)
        assert all(a.version in (4, 6) for a in iface.addresses)
    loopback = [
        wifidirect.Interface._from_raw(g, backend.get_interface(g.bytes_le)[1])  # type: ignore[arg-type]
        for _, g, _ in interfaces
    ]
    assert any(str(a) == "127.0.0.1" for i in loopback for a in i.addresses)
    rc, raw = backend.get_interface(uuid.uuid4().bytes_le)
    assert (rc, raw) == (1168, None)  # ERROR_NOT_FOUND for a GUID no interface has


def test_link_notifications_messages_and_the_service() -> None:
    backend = _native.get_backend("wlanapi")
    seen = backend.wait_link_change(0, 0)
    assert seen > 0  # a first wait returns at once
    backend.link_poke()
    assert backend.wait_link_change(seen, 1000) > seen
    text = backend.format_message(2)  # ERROR_FILE_NOT_FOUND, worded differently by Wine
    assert ("file" in text.lower() and "not found" in text.lower()) or "cannot find" in text
    assert backend.format_message(0x2000_0001) == ""  # not a system code
    assert backend.service_running() in (True, False, None)
    assert backend.module_path().lower().endswith("wlanapi.dll")
    exc = wifidirect.WFDError(2, "WFDOpenHandle")
    assert str(exc) == f"WFDOpenHandle failed: WIN32_ERROR_2 (2) {text}"  # the system's text
