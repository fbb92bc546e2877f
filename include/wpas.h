/* wpas.h: the wpa_supplicant backend's own calls (wifidirect.wpas), beside the seven WFD
 * functions it implements over wpa_supplicant's P2P control interface (src/wpas/). Read as C and
 * as a cffi cdef (declarations only, literal sizes). Strings are UTF-8.
 */

/* A P2P device seen by discovery (P2P_PEER FIRST / NEXT-<address>). */
typedef struct {
    unsigned char address[6];      /* its P2P device address */
    char name[64];                 /* device_name */
    int32_t paired;                /* a persistent group with it is stored */
} wpas_peer;

/* Use the wpa_supplicant whose control sockets are in ctrl_dir (NULL: $WIFIDIRECT_WPAS_CTRL, else
 * /var/run/wpa_supplicant, else /run/wpa_supplicant): finds the socket of a P2P-capable
 * interface (p2p-dev-* first). 0, or ERROR_SERVICE_NOT_ACTIVE / ERROR_ACCESS_DENIED /
 * ERROR_NOT_SUPPORTED with the reason in wpas_why(). Safe to call again (another directory). */
DWORD wpas_configure(const char *ctrl_dir);
/* What wpas_configure found, or why it found nothing, into out (size bytes); its length. */
uint32_t wpas_why(char *out, uint32_t size);
/* Our P2P device address (after a successful wpas_configure). */
DWORD wpas_own_address(unsigned char *out);

/* Timeouts in milliseconds (0 keeps a value): a session's formation (default 30000), one
 * request's reply (default 3000), a visibility update's targeted discovery (default 5000). */
void wpas_set_timeouts(uint32_t formation_ms, uint32_t reply_ms, uint32_t visibility_ms);
/* As group owner, a session's group is removed no sooner than settle_ms after the peer joined
 * (default 1000): the peer's wpa_supplicant finishes its side a moment after ours; a group
 * removed before then is a formation failure there, and it refuses invitations for 10 s. */
void wpas_set_settle(uint32_t settle_ms);

/* Discovery: P2P_FIND for timeout_s seconds (0: until stopped), the devices seen so far, stop. */
DWORD wpas_find_start(uint32_t timeout_s);
DWORD wpas_find_peers(wpas_peer *out, uint32_t capacity, uint32_t *count);
DWORD wpas_find_stop(void);

/* Pair: P2P_CONNECT <address> pbc|<pin> keypad persistent, wait up to timeout_ms for the group,
 * then remove the group (the pairing stays, as a persistent group; saved with SAVE_CONFIG when
 * wpa_supplicant's update_config is 1). pin NULL: push button. 0, ERROR_TIMEOUT,
 * ERROR_NOT_FOUND (never seen), ERROR_NOT_AUTHENTICATED (the peer refused), ... */
DWORD wpas_pair(const unsigned char *address, const char *pin, uint32_t timeout_ms);
/* Forget every persistent group with that peer (REMOVE_NETWORK, SAVE_CONFIG if enabled);
 * ERROR_NOT_FOUND when none. */
DWORD wpas_unpair(const unsigned char *address);
/* Whether wpa_supplicant saves its configuration (update_config=1): 1, 0, -1 unknown. */
int32_t wpas_saves_config(void);
