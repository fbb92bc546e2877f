/* backend.h: what every backend module provides beside the seven WFD functions: the paired
 * Wi-Fi Direct devices, the network interface of a session, link changes and the system's state.
 * Read as C and as a cffi cdef (declarations only, literal sizes). Each backend defines these
 * functions in its own C: the simulator from its peers and sessions (src/wfdsim/system.c),
 * Windows through SetupAPI and IP Helper (src/wlanapi/system.c). All strings are UTF-8.
 */

/* One paired Wi-Fi Direct device (DEVPKEY_WiFiDirect_* on Windows). */
typedef struct {
    unsigned char address[6];           /* DEVPKEY_WiFiDirect_DeviceAddress */
    unsigned char interface_address[6]; /* DEVPKEY_WiFiDirect_InterfaceAddress (0 if unknown) */
    int32_t connected;                  /* DEVPKEY_WiFiDirect_IsConnected */
    int32_t visible;                    /* DEVPKEY_WiFiDirect_IsVisible */
    int32_t legacy;                     /* DEVPKEY_WiFiDirect_IsLegacyDevice */
    char name[256];                     /* the name the system shows */
    char id[512];                       /* the system's identifier of the device */
} wfdx_device;

/* An IP address: family 4 (the first 4 bytes) or 6, and an IPv6 scope (interface index). */
typedef struct {
    int32_t family;
    unsigned char bytes[16];
    uint32_t scope_id;
} wfdx_ip;

/* The network interface of a session, found by its interface GUID. */
typedef struct {
    char name[256];           /* the interface's alias (Windows) or name */
    uint32_t index;           /* its index (socket scope ids) */
    int32_t up;               /* operationally up */
    uint32_t address_count;
    wfdx_ip addresses[16];    /* its own unicast addresses */
    uint32_t neighbor_count;
    wfdx_ip neighbors[8];     /* addresses of the other side seen on it (neighbour table) */
} wfdx_iface;

/* The paired devices: up to `capacity` into `out`, and how many there are into *count (call
 * again with more room when *count > capacity). */
DWORD wfdx_list_devices(wfdx_device *out, uint32_t capacity, uint32_t *count);
/* The interface with that GUID (its 16 bytes in memory order); ERROR_NOT_FOUND if none. */
DWORD wfdx_get_interface(const unsigned char *guid, wfdx_iface *out);
/* Wait up to timeout_ms for a change that may have taken a session's link down (or up) since
 * the caller's *seen (0 at first): 0 and *seen updated when something changed, ERROR_TIMEOUT
 * (1460) when nothing did. */
DWORD wfdx_wait_link_change(uint64_t *seen, uint32_t timeout_ms);
/* Wake every wfdx_wait_link_change now, as if a link had changed. */
void wfdx_link_poke(void);
/* The system's text for a Win32 code into `out` (at most `size` bytes with its NUL); returns its
 * length, 0 where the system has none. */
uint32_t wfdx_format_message(DWORD code, char *out, uint32_t size);
/* Whether the Wi-Fi Direct service runs: 1, 0, or -1 when it cannot be told. */
int32_t wfdx_service_running(void);
/* The file the WFD functions come from (the loaded wlanapi.dll on Windows) into `out`; returns
 * its length, 0 where there is no such file (the simulator is compiled into its module). */
uint32_t wfdx_module_path(char *out, uint32_t size);
