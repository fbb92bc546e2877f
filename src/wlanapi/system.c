/* system.c (Windows): include/backend.h for the wlanapi backend.
 *
 * - Paired devices: the device interfaces of GUID_DEVINTERFACE_WIFIDIRECT_DEVICE through
 *   SetupAPI, every paired one (no DIGCF_PRESENT: a paired device that is off or out of range is
 *   still paired; its IsVisible property tells). Properties are read from the device interface
 *   (SetupDiGetDeviceInterfacePropertyW, looked up at run time) and, where that has none or the
 *   system lacks the function, from the device node (SetupDiGetDevicePropertyW).
 * - A session's interface: IP Helper, from the interface GUID (ConvertInterfaceGuidToLuid).
 * - Link changes: NotifyIpInterfaceChange, registered on the first wait and kept; its callback
 *   (on a system thread) only bumps a counter and wakes the waiters.
 * - The service: the Service Control Manager's state of "Wlansvc" (WLAN AutoConfig).
 * - Messages: FormatMessageW, converted to UTF-8.
 *
 * docs/design.md ("Devices, interfaces and disconnects") says why each choice was made.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <setupapi.h>

#include <stdint.h>
#include <string.h>

#include "backend.h"
#include "platform.h"

/* {439B20AF-8955-405B-99F0-A62AF0C68D43}, wlanapi.h */
static const GUID wfd_device_class = {
    0x439b20af, 0x8955, 0x405b, {0x99, 0xf0, 0xa6, 0x2a, 0xf0, 0xc6, 0x8d, 0x43}};
/* fmtid of DEVPKEY_WiFiDirect_*: {1506935D-E3E7-450F-8637-82233EBE5F6E} */
static const GUID wfd_fmtid = {
    0x1506935d, 0xe3e7, 0x450f, {0x86, 0x37, 0x82, 0x23, 0x3e, 0xbe, 0x5f, 0x6e}};
/* DEVPKEY_Device_FriendlyName (14) and DEVPKEY_Device_DeviceDesc (2) */
static const GUID device_fmtid = {
    0xa45c254e, 0xdf1c, 0x4efd, {0x80, 0x20, 0x67, 0xd1, 0x46, 0xa8, 0x50, 0xe0}};

enum { PID_DEVICE_ADDRESS = 1, PID_INTERFACE_ADDRESS = 2, PID_IS_CONNECTED = 5,
       PID_IS_VISIBLE = 6, PID_IS_LEGACY = 7, PID_DEVICE_ADDRESS_COPY = 13 };

#define TYPE_BINARY 0x1003u  /* DEVPROP_TYPE_BINARY */
#define TYPE_BOOLEAN 0x11u   /* DEVPROP_TYPE_BOOLEAN: one byte, 0 or 0xFF */
#define TYPE_STRING 0x12u    /* DEVPROP_TYPE_STRING */

typedef BOOL(WINAPI *interface_property_fn)(HDEVINFO, PSP_DEVICE_INTERFACE_DATA,
                                            const DEVPROPKEY *, DEVPROPTYPE *, PBYTE, DWORD,
                                            PDWORD, DWORD);

static interface_property_fn interface_property;
static plat_once_t lookup_once = PLAT_ONCE_INIT;

static void lookup(void)
{
    /* Windows exports it since Vista; Wine 8 has it as a stub (ERROR_CALL_NOT_IMPLEMENTED). */
    HMODULE setupapi = GetModuleHandleW(L"setupapi.dll");
    if (setupapi != NULL)
        interface_property = (interface_property_fn)(void (*)(void))GetProcAddress(
            setupapi, "SetupDiGetDeviceInterfacePropertyW");
}

static DEVPROPKEY key(const GUID *fmtid, ULONG pid)
{
    DEVPROPKEY k;
    k.fmtid = *fmtid;
    k.pid = pid;
    return k;
}

/* One property of a device, from its interface first, then its node: the value's size, or -1
 * when neither has it with that type. */
static long read_property(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface, SP_DEVINFO_DATA *node,
                          DEVPROPKEY k, DEVPROPTYPE want, BYTE *buf, DWORD size)
{
    DEVPROPTYPE type = 0;
    DWORD got = 0;
    if (interface_property != NULL &&
        interface_property(set, iface, &k, &type, buf, size, &got, 0) && type == want)
        return (long)got;
    type = 0;
    got = 0;
    if (SetupDiGetDevicePropertyW(set, node, &k, &type, buf, size, &got, 0) && type == want)
        return (long)got;
    return -1;
}

static int read_bool(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface, SP_DEVINFO_DATA *node,
                     ULONG pid)
{
    BYTE value = 0;
    return read_property(set, iface, node, key(&wfd_fmtid, pid), TYPE_BOOLEAN, &value, 1) == 1 &&
           value != 0;
}

static int read_mac(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface, SP_DEVINFO_DATA *node,
                    ULONG pid, unsigned char *out)
{
    BYTE value[6];
    if (read_property(set, iface, node, key(&wfd_fmtid, pid), TYPE_BINARY, value, 6) != 6)
        return 0;
    memcpy(out, value, 6);
    return 1;
}

/* UTF-16 to UTF-8 into out[size], truncated on a character boundary; always terminated. */
static void to_utf8(const WCHAR *text, char *out, int size)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, text, -1, out, size, NULL, NULL);
    if (n == 0) {
        /* Too long: convert what fits, dropping characters until it does. */
        int len = (int)wcslen(text);
        out[0] = '\0';
        while (len > 0) {
            len--;
            n = WideCharToMultiByte(CP_UTF8, 0, text, len, out, size - 1, NULL, NULL);
            if (n > 0) {
                out[n] = '\0';
                break;
            }
        }
    }
}

static void read_name(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface, SP_DEVINFO_DATA *node,
                      char *out, int size)
{
    WCHAR name[256];
    long got = read_property(set, iface, node, key(&device_fmtid, 14), TYPE_STRING,
                             (BYTE *)name, sizeof name - sizeof(WCHAR));
    if (got < 0)
        got = read_property(set, iface, node, key(&device_fmtid, 2), TYPE_STRING, (BYTE *)name,
                            sizeof name - sizeof(WCHAR));
    if (got < 0) {
        out[0] = '\0';
        return;
    }
    name[got / (long)sizeof(WCHAR)] = L'\0';
    to_utf8(name, out, size);
}

static void fill_device(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface, SP_DEVINFO_DATA *node,
                        const WCHAR *path, wfdx_device *d)
{
    memset(d, 0, sizeof *d);
    if (!read_mac(set, iface, node, PID_DEVICE_ADDRESS, d->address))
        (void)read_mac(set, iface, node, PID_DEVICE_ADDRESS_COPY, d->address);
    (void)read_mac(set, iface, node, PID_INTERFACE_ADDRESS, d->interface_address);
    d->connected = read_bool(set, iface, node, PID_IS_CONNECTED);
    d->visible = read_bool(set, iface, node, PID_IS_VISIBLE);
    d->legacy = read_bool(set, iface, node, PID_IS_LEGACY);
    read_name(set, iface, node, d->name, (int)sizeof d->name);
    to_utf8(path, d->id, (int)sizeof d->id);
}

DWORD wfdx_list_devices(wfdx_device *out, uint32_t capacity, uint32_t *count)
{
    HDEVINFO set;
    DWORD i, rc = ERROR_SUCCESS;
    uint32_t n = 0;
    if (count == NULL || (out == NULL && capacity > 0))
        return ERROR_INVALID_PARAMETER;
    plat_once(&lookup_once, lookup);
    set = SetupDiGetClassDevsW(&wfd_device_class, NULL, NULL, DIGCF_DEVICEINTERFACE);
    if (set == INVALID_HANDLE_VALUE)
        return GetLastError();
    for (i = 0;; i++) {
        SP_DEVICE_INTERFACE_DATA iface;
        SP_DEVINFO_DATA node;
        SP_DEVICE_INTERFACE_DETAIL_DATA_W *detail;
        DWORD needed = 0;
        iface.cbSize = sizeof iface;
        if (!SetupDiEnumDeviceInterfaces(set, NULL, &wfd_device_class, i, &iface)) {
            DWORD err = GetLastError();
            if (err != ERROR_NO_MORE_ITEMS)
                rc = err;
            break;
        }
        (void)SetupDiGetDeviceInterfaceDetailW(set, &iface, NULL, 0, &needed, NULL);
        if (needed < sizeof *detail)
            continue; /* removed meanwhile */
        detail = HeapAlloc(GetProcessHeap(), 0, needed);
        if (detail == NULL) {
            rc = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        detail->cbSize = sizeof *detail;
        node.cbSize = sizeof node;
        if (SetupDiGetDeviceInterfaceDetailW(set, &iface, detail, needed, NULL, &node)) {
            if (n < capacity)
                fill_device(set, &iface, &node, detail->DevicePath, &out[n]);
            n++;
        }
        HeapFree(GetProcessHeap(), 0, detail);
    }
    SetupDiDestroyDeviceInfoList(set);
    *count = n;
    return rc;
}

static void copy_ip(wfdx_ip *ip, const SOCKADDR_INET *sa)
{
    memset(ip, 0, sizeof *ip);
    if (sa->si_family == AF_INET) {
        ip->family = 4;
        memcpy(ip->bytes, &sa->Ipv4.sin_addr, 4);
    } else {
        ip->family = 6;
        memcpy(ip->bytes, &sa->Ipv6.sin6_addr, 16);
        ip->scope_id = sa->Ipv6.sin6_scope_id;
    }
}

/* A neighbour entry that names a host on the link: resolved, not multicast or broadcast. */
static int is_peer(const MIB_IPNET_ROW2 *row)
{
    const SOCKADDR_INET *sa = &row->Address;
    if (row->PhysicalAddressLength == 0 || row->State == NlnsUnreachable ||
        row->State == NlnsIncomplete)
        return 0;
    if (sa->si_family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&sa->Ipv4.sin_addr;
        return !(b[0] >= 224 || b[3] == 255 || b[3] == 0);
    }
    if (sa->si_family == AF_INET6)
        return ((const unsigned char *)&sa->Ipv6.sin6_addr)[0] != 0xff;
    return 0;
}

DWORD wfdx_get_interface(const unsigned char *guid, wfdx_iface *out)
{
    GUID g;
    NET_LUID luid;
    NET_IFINDEX index = 0;
    WCHAR alias[IF_MAX_STRING_SIZE + 1];
    MIB_IF_ROW2 row;
    MIB_UNICASTIPADDRESS_TABLE *unicast = NULL;
    MIB_IPNET_TABLE2 *neighbors = NULL;
    ULONG i;
    if (guid == NULL || out == NULL)
        return ERROR_INVALID_PARAMETER;
    memcpy(&g, guid, sizeof g);
    if (ConvertInterfaceGuidToLuid(&g, &luid) != NO_ERROR)
        return ERROR_NOT_FOUND;
    memset(out, 0, sizeof *out);
    if (ConvertInterfaceLuidToAlias(&luid, alias, IF_MAX_STRING_SIZE + 1) == NO_ERROR)
        to_utf8(alias, out->name, (int)sizeof out->name);
    if (ConvertInterfaceLuidToIndex(&luid, &index) == NO_ERROR)
        out->index = index;
    memset(&row, 0, sizeof row);
    row.InterfaceLuid = luid;
    if (GetIfEntry2(&row) == NO_ERROR)
        out->up = row.OperStatus == IfOperStatusUp;
    else
        return ERROR_NOT_FOUND; /* gone between the two calls */
    if (GetUnicastIpAddressTable(AF_UNSPEC, &unicast) == NO_ERROR) {
        for (i = 0; i < unicast->NumEntries && out->address_count < 16; i++)
            if (unicast->Table[i].InterfaceLuid.Value == luid.Value)
                copy_ip(&out->addresses[out->address_count++], &unicast->Table[i].Address);
        FreeMibTable(unicast);
    }
    if (GetIpNetTable2(AF_UNSPEC, &neighbors) == NO_ERROR) {
        for (i = 0; i < neighbors->NumEntries && out->neighbor_count < 8; i++)
            if (neighbors->Table[i].InterfaceLuid.Value == luid.Value &&
                is_peer(&neighbors->Table[i]))
                copy_ip(&out->neighbors[out->neighbor_count++], &neighbors->Table[i].Address);
        FreeMibTable(neighbors);
    }
    return ERROR_SUCCESS;
}

/* ---- link changes --------------------------------------------------------------------- */

static plat_mutex link_lock;
static plat_cond link_cv;
static plat_once_t link_once = PLAT_ONCE_INIT;
static uint64_t link_seq = 1; /* 1: a first wait (seen 0) returns at once */
static HANDLE notification;   /* registered on the first wait, kept for the process */
static int registering;

static void link_init(void)
{
    plat_mutex_init(&link_lock);
    plat_cond_init(&link_cv);
}

static VOID NETIOAPI_API_ interface_changed(PVOID context, PMIB_IPINTERFACE_ROW row,
                                            MIB_NOTIFICATION_TYPE type)
{
    (void)context;
    (void)row;
    (void)type;
    plat_once(&link_once, link_init);
    plat_mutex_lock(&link_lock);
    link_seq++;
    plat_cond_broadcast(&link_cv);
    plat_mutex_unlock(&link_lock);
}

DWORD wfdx_wait_link_change(uint64_t *seen, uint32_t timeout_ms)
{
    uint64_t deadline;
    DWORD rc = ERROR_TIMEOUT;
    if (seen == NULL)
        return ERROR_INVALID_PARAMETER;
    plat_once(&link_once, link_init);
    plat_mutex_lock(&link_lock);
    if (notification == NULL && !registering) {
        HANDLE h = NULL;
        registering = 1;
        plat_mutex_unlock(&link_lock); /* the callback may run before this returns */
        if (NotifyIpInterfaceChange(AF_UNSPEC, interface_changed, NULL, FALSE, &h) != NO_ERROR)
            h = NULL; /* no notifications: the caller's timeout is the poll */
        plat_mutex_lock(&link_lock);
        notification = h;
        registering = 0;
    }
    deadline = plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (link_seq == *seen) {
        if (plat_cond_timedwait(&link_cv, &link_lock, deadline))
            break;
    }
    if (link_seq != *seen) {
        *seen = link_seq;
        rc = ERROR_SUCCESS;
    }
    plat_mutex_unlock(&link_lock);
    return rc;
}

void wfdx_link_poke(void)
{
    interface_changed(NULL, NULL, (MIB_NOTIFICATION_TYPE)0);
}

/* ---- the system ----------------------------------------------------------------------- */

uint32_t wfdx_format_message(DWORD code, char *out, uint32_t size)
{
    WCHAR text[512];
    DWORD n;
    size_t len;
    if (out == NULL || size == 0)
        return 0;
    out[0] = '\0';
    n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                       text, 512, NULL);
    while (n > 0 && (text[n - 1] == L'\r' || text[n - 1] == L'\n' || text[n - 1] == L' ' ||
                     text[n - 1] == L'.'))
        n--;
    if (n == 0)
        return 0;
    text[n] = L'\0';
    to_utf8(text, out, (int)size);
    len = strlen(out);
    return (uint32_t)len;
}

int32_t wfdx_service_running(void)
{
    SC_HANDLE manager, service;
    SERVICE_STATUS status;
    int32_t running = -1;
    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (manager == NULL)
        return -1;
    service = OpenServiceW(manager, L"Wlansvc", SERVICE_QUERY_STATUS);
    if (service == NULL) {
        running = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? 0 : -1;
    } else {
        if (QueryServiceStatus(service, &status))
            running = status.dwCurrentState == SERVICE_RUNNING;
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    return running;
}

uint32_t wfdx_module_path(char *out, uint32_t size)
{
    WCHAR path[MAX_PATH];
    HMODULE module = GetModuleHandleW(L"wlanapi.dll");
    if (out == NULL || size == 0)
        return 0;
    out[0] = '\0';
    if (module == NULL || GetModuleFileNameW(module, path, MAX_PATH) == 0)
        return 0;
    path[MAX_PATH - 1] = L'\0';
    to_utf8(path, out, (int)size);
    return (uint32_t)strlen(out);
}
