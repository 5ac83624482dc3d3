/* bootchart.c — boot phase timings in the manner of OSv's bootchart: each phase records the
 * clock tick (TSC, or the tender's ns) when it ends; `kiln.bootchart` on the command line prints them when the app starts. */
#include "kernel.h"
#include "x86.h"

#define MAX_PHASES 16
static struct { const char *name; uint64_t ticks; } phases[MAX_PHASES];
static int nphases;

void bootchart_mark(const char *name) {
    if (nphases < MAX_PHASES) phases[nphases++] = (typeof(phases[0])){ name, clock_ticks() };
}

static void print_ms(const char *label, uint64_t ns, uint64_t delta_ns) {
    kprintf("  %-10s %4lu.%03lu ms  (+%lu.%03lu ms)\n", label, ns / 1000000, ns / 1000 % 1000, delta_ns / 1000000,
            delta_ns / 1000 % 1000);
}

void bootchart_print(void) {
    kprintf("kiln bootchart: platform %s, boot %s, tsc %lu kHz (%s), heap %lu KiB\n", platform_name(),
            boot_kind == BOOT_PVH ? "pvh" : "linux64", tsc_khz(), clock_source(), heap_size() / 1024);
    uint64_t prev = 0;
    for (int i = 0; i < nphases; i++) {
        uint64_t ns = ticks_to_ns(phases[i].ticks - boot_ticks);
        print_ms(phases[i].name, ns, ns - prev);
        prev = ns;
    }
}
