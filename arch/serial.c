/* serial.c — console output on the 16550 UART at COM1 (0x3f8), the one device every VMM has.
 * A whole buffer goes out with one `rep outsb`: one VM exit per write instead of one per byte,
 * which matters in PVM mode where each port access traps (~20 µs, PVM.md §2). VMMs accept THR
 * writes without initialising the UART, so no setup writes are spent at boot. The process
 * platform's tender writes the bytes to its console fd instead. */
#include "kernel.h"
#include "layout.h"
#include "process.h"
#include "x86.h"

TRAP_SAFE void console_write(const char *s, size_t n) {
    if (process_table) { process_table->console_write(s, n); return; } /* straight to the console fd */
    while (n > 0) {
        size_t chunk = n > 4096 ? 4096 : n; /* KVM moves string I/O a page at a time */
        outsb(SERIAL_PORT, s, chunk);
        s += chunk;
        n -= chunk;
    }
}
