/* wfdx_channel.h: the constants and the record of the completion channels (include/shim.h).
 *
 * Plain C read twice: by cffi's cdef (build_ffi.py, between wfdsim.h and shim.h) and by the
 * modules' own C (src/shim/shim.c includes it), so the layout Python unpacks is the one C
 * writes. wfdx_item is 40 bytes without padding; _native.py unpacks it as "=QQII16s".
 */
#define WFDX_MAX_CHANNELS 1024          /* channel numbers are 1 .. WFDX_MAX_CHANNELS - 1 */
#define WFDX_ALREADY_COMPLETE 0xFFFFFFFF /* wfdx_cancel_queued: the completion is queued */

/* One queued completion: the callback's arguments, the GUID as its 16 bytes in memory. */
typedef struct {
    uint64_t token;
    uint64_t session;
    uint32_t error;
    uint32_t reason;
    unsigned char guid[16];
} wfdx_item;
