/* main.c — kmain: the boot sequence of the core after entry.S, one line per subsystem, ending
 * in the event loop (as xv6's main ends in scheduler()).
 * entry.S has loaded our page tables and GDT and chosen the platform mode (ring 0 or PVM), or
 * the process platform's tender has entered at process_entry (process.h). */
#include "kernel.h"
#include "engine.h"
#include "layout.h"
#include "process.h"

/* `kiln.fault=pf|ud|de` on the command line raises that CPU exception on purpose, so tests can
 * check the fault report (vector, registers, symbolized RIP, exit code 99) on every platform;
 * `kiln.fault=op` raises a page fault in the first console write instead, under the app's
 * JavaScript (the VMM then adds the JavaScript stack to the report). */
int kiln_fault_in_op;

static void __attribute__((noinline)) fault_selftest(void) {
    const char *c = boot_cmdline(), *p = NULL;
    for (const char *s = c; *s; s++)
        if ((s == c || s[-1] == ' ') && __builtin_memcmp(s, "kiln.fault=", 11) == 0) { p = s + 11; break; }
    if (!p) return;
    if (p[0] == 'o' && p[1] == 'p') kiln_fault_in_op = 1;
    if (p[0] == 'p' && p[1] == 'f') fault_null_page();
    if (p[0] == 'u' && p[1] == 'd') __asm__ volatile("ud2");
    if (p[0] == 'd' && p[1] == 'e') __asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::: "rax", "rcx", "rdx");
}

void NORETURN kmain(void);

/* The process platform's entry from entry.S: check the tender's table before the first call
 * through it (a mismatch cannot even be printed), start the clock, then the common boot. */
void NORETURN process_start(void);
void NORETURN process_start(void) {
    if (process_table->magic != KILN_TABLE_MAGIC || process_table->abi != KILN_PROCESS_ABI) __builtin_trap();
    boot_ticks = (uint64_t)process_table->monotonic_ns();
    kmain();
}

void NORETURN kmain(void) {
    bootchart_mark("entry");   /* page tables, GDT, platform probe: entry.S */
    tls_init();                /* %fs for musl: canary, errno, locale */
    bootinfo_parse();          /* memory map and command line */
    trap_init();               /* TSS with IST stacks, IDT: faults now print a report */
    fault_selftest();          /* kiln.fault=pf|ud|de: check the fault report on this platform */
    bootchart_mark("traps");
    clock_init();              /* calibrated TSC */
    if (!process_table) lapic_init(); /* one-shot timer for the event loop (the tender's wait has its own) */
    bootchart_mark("clock");
    if (!payload_valid()) { kprintf("kiln: this image has no valid payload (build it with `kiln build`)\n"); machine_exit(EXIT_JS_ERROR); }
    const struct mem_region *r;
    size_t n = boot_mem_regions(&r);
    uint64_t heap_start = (payload_end() + 4095) & ~4095ull, heap_top = 0;
    for (size_t i = 0; i < n; i++)   /* the RAM region holding the image, clipped to the mapped 3 GiB */
        if (r[i].base <= heap_start && heap_start < r[i].base + r[i].size) heap_top = r[i].base + r[i].size;
    if (heap_top > MMIO_GAP_START) heap_top = MMIO_GAP_START;
    if (heap_top <= heap_start + HEAP_MIN_BYTES) { kprintf("kiln: not enough memory for the heap (RAM ends at %lu KiB)\n", heap_top / 1024); machine_exit(EXIT_NO_HEAP); }
    heap_init(heap_start, heap_top - heap_start);
    bootchart_mark("memory");
    JSContext *ctx = engine_init(); /* QuickJS runtime and context */
    ops_install(ctx);          /* the native ops, as __kiln_ops */
    bootchart_mark("engine");
    engine_run_app(ctx);       /* load and run the app's bytecode */
    loop_run(ctx);             /* promise jobs, interrupts and timers until the program ends */
}
