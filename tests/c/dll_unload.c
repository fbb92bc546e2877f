/* dll_unload.c: a Windows client that loads and unloads wlanapi.dll around its calls, as
 * capability probes and samples do (LoadLibrary, GetProcAddress, FreeLibrary), run against the
 * simulator built as wlanapi.dll under Wine (tools/wine-test).
 *
 * The simulator's worker threads outlive a session (they idle before ending): if FreeLibrary
 * unmapped the DLL under them, the next instruction they ran would crash the process. The DLL
 * pins itself while it has workers (src/common/platform.c, plat_pin_module). Each cycle opens
 * a client and a session, closes them and unloads; then it checks the module is still mapped.
 * Also: WFDOpenHandle while the service is stopped fails with ERROR_SERVICE_NOT_ACTIVE.
 *
 *   x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iinclude tests/c/dll_unload.c -o dll_unload.exe
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>

#include "wfd.h"

typedef DWORD(WINAPI *open_handle_fn)(DWORD, PDWORD, PHANDLE);
typedef DWORD(WINAPI *close_handle_fn)(HANDLE);
typedef DWORD(WINAPI *start_open_fn)(HANDLE, PDOT11_MAC_ADDRESS, PVOID,
                                     WFD_OPEN_SESSION_COMPLETE_CALLBACK, PHANDLE);
typedef DWORD(WINAPI *close_session_fn)(HANDLE);
typedef void (*set_service_fn)(int);

static volatile LONG completions;

static VOID WINAPI on_complete(HANDLE session, PVOID context, GUID guid, DWORD error,
                               DWORD reason)
{
    (void)session;
    (void)context;
    (void)guid;
    (void)reason;
    if (error == 0)
        InterlockedIncrement(&completions);
}

static FARPROC need(HMODULE module, const char *name)
{
    FARPROC fn = GetProcAddress(module, name);
    if (fn == NULL) {
        printf("wlanapi.dll has no %s\n", name);
        ExitProcess(2);
    }
    return fn;
}

#define CYCLES 6

int main(void)
{
    DOT11_MAC_ADDRESS tv = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}; /* a default peer, 20 ms */
    int cycle, ok = 0;
    for (cycle = 1; cycle <= CYCLES; cycle++) {
        HMODULE module = LoadLibraryW(L"wlanapi.dll");
        open_handle_fn open_handle;
        close_handle_fn close_handle;
        start_open_fn start_open;
        close_session_fn close_session;
        HANDLE client = NULL, session = NULL;
        DWORD version = 0, rc;
        LONG before = completions;
        int waited;
        if (module == NULL) {
            printf("cycle %d: LoadLibrary failed: %lu\n", cycle, GetLastError());
            return 1;
        }
        open_handle = (open_handle_fn)(void (*)(void))need(module, "WFDOpenHandle");
        close_handle = (close_handle_fn)(void (*)(void))need(module, "WFDCloseHandle");
        start_open = (start_open_fn)(void (*)(void))need(module, "WFDStartOpenSession");
        close_session = (close_session_fn)(void (*)(void))need(module, "WFDCloseSession");
        if (cycle == 1) { /* a capability probe: a stopped service refuses the handle */
            set_service_fn set_service =
                (set_service_fn)(void (*)(void))need(module, "wfdsim_set_service_running");
            set_service(0);
            rc = open_handle(WFD_API_VERSION_1_0, &version, &client);
            set_service(1);
            if (rc != ERROR_SERVICE_NOT_ACTIVE) {
                printf("WFDOpenHandle with the service stopped returned %lu, not 1062\n", rc);
                return 1;
            }
            printf("WFDOpenHandle with the service stopped: ERROR_SERVICE_NOT_ACTIVE (1062)\n");
        }
        rc = open_handle(WFD_API_VERSION_1_0, &version, &client);
        if (rc == 0)
            rc = start_open(client, &tv, NULL, on_complete, &session);
        for (waited = 0; rc == 0 && completions == before && waited < 5000; waited += 5)
            Sleep(5);
        if (rc != 0 || completions == before) {
            printf("cycle %d: the open failed (%lu) or never completed\n", cycle, rc);
            return 1;
        }
        close_session(session);
        close_handle(client);
        FreeLibrary(module); /* the simulator's workers are still running (idling) */
        Sleep(50);           /* ... and run on here: a crash if their code was unmapped */
        if (GetModuleHandleW(L"wlanapi.dll") == NULL) {
            printf("cycle %d: wlanapi.dll was unloaded while its workers ran\n", cycle);
            return 1;
        }
        ok++;
    }
    Sleep(1500); /* past the workers' idle time: they end inside the pinned DLL */
    printf("%d of %d load/unload cycles ran; the DLL stayed mapped while its workers ran\n", ok,
           CYCLES);
    return ok == CYCLES ? 0 : 1;
}
