/* wfd_types_win.h: cdef-only, on Windows. cffi predeclares DWORD, HANDLE, PVOID, PDWORD, PHANDLE
 * and UCHAR there, but not GUID; this is the SDK's own definition (guiddef.h), where
 * `unsigned long` is 32 bits. */
typedef struct _GUID {
    unsigned long Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
