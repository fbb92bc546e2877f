/* wfd.h: the Wi-Fi Direct legacy API of wlanapi.h (Windows 8 / Server 2012 and later).
 *
 * Declared here exactly as the Windows SDK declares it, because mingw-w64's wlanapi.h does not
 * declare these functions, and because this file is read twice: as C by both compiled modules
 * (the real binding links Wlanapi.lib; the simulator defines the same seven symbols), and as a
 * cffi cdef by build_ffi.py. It therefore contains declarations only, no preprocessor
 * conditionals. Two deliberate differences from the SDK text, both ABI-neutral:
 *   - WFD_API_VERSION is spelled as its value (cffi's cdef accepts integer literals only);
 *   - the callback returns `void` where the SDK writes the macro `VOID`.
 * The type names (DWORD, HANDLE, GUID, ...) come from <windows.h> or wfd_types_posix.h.
 */

#define WFD_API_VERSION_1_0 0x00000001
#define WFD_API_VERSION 0x00000001

/* windot11.h */
typedef UCHAR DOT11_MAC_ADDRESS[6];
typedef DOT11_MAC_ADDRESS *PDOT11_MAC_ADDRESS;

typedef void (WINAPI *WFD_OPEN_SESSION_COMPLETE_CALLBACK)(
    HANDLE hSessionHandle,
    PVOID pvContext,
    GUID guidSessionInterface,
    DWORD dwError,
    DWORD dwReasonCode);

DWORD WINAPI WFDOpenHandle(
    DWORD dwClientVersion,
    PDWORD pdwNegotiatedVersion,
    PHANDLE phClientHandle);

DWORD WINAPI WFDCloseHandle(
    HANDLE hClientHandle);

DWORD WINAPI WFDStartOpenSession(
    HANDLE hClientHandle,
    PDOT11_MAC_ADDRESS pDeviceAddress,
    PVOID pvContext,
    WFD_OPEN_SESSION_COMPLETE_CALLBACK pfnCallback,
    PHANDLE phSessionHandle);

DWORD WINAPI WFDCancelOpenSession(
    HANDLE hSessionHandle);

DWORD WINAPI WFDOpenLegacySession(
    HANDLE hClientHandle,
    PDOT11_MAC_ADDRESS pLegacyMacAddress,
    HANDLE *phSessionHandle,
    GUID *pGuidSessionInterface);

DWORD WINAPI WFDCloseSession(
    HANDLE hSessionHandle);

DWORD WINAPI WFDUpdateDeviceVisibility(
    PDOT11_MAC_ADDRESS pDeviceAddress);
