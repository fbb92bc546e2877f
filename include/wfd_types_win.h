/* wfd_types_win.h: cdef-only, for Windows. The Windows type names wfd.h needs, exactly as cffi
 * predeclares them on Windows (redeclaring them there is harmless), so that the same cdef also
 * parses off Windows when build_ffi.py cross-builds for Windows; plus GUID, which cffi does not
 * predeclare: the SDK's own definition (guiddef.h). `unsigned long` is 32 bits on Windows. */
typedef unsigned long DWORD;
typedef DWORD *PDWORD;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef void *PVOID;
typedef unsigned char UCHAR;
typedef struct _GUID {
    unsigned long Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
