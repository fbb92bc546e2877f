/* wfd_types_posix.h: the Windows type names that wfd.h needs, for platforms without <windows.h>.
 *
 * Read by build_ffi.py (as a cdef) and compiled into the simulator module, off Windows only.
 * Sizes follow Windows' LLP64 model on every platform: DWORD is 32 bits (never `unsigned long`,
 * which is 64 bits on Linux and macOS), HANDLE and PVOID are pointer-sized, GUID is 16 bytes.
 * On Windows these names come from <windows.h> (C side) and from cffi's predeclared Windows
 * types (cdef side), plus wfd_types_win.h for GUID.
 */
typedef uint32_t DWORD;
typedef DWORD *PDWORD;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef void *PVOID;
typedef unsigned char UCHAR;
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    unsigned char Data4[8];
} GUID;
