/* kernel.h — declarations shared by the files of the guest core, one section per file.
 * The core is xv6-sized: boot, platform primitives, traps, clock, LAPIC timer, console,
 * memory, device interrupts and DMA memory, the QuickJS engine host and its native ops, and the event loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORETURN __attribute__((noreturn))
/* Code that may run in interrupt context must not touch SSE/x87 state. */
#define TRAP_SAFE __attribute__((target("general-regs-only")))

/* entry.S */
extern uint64_t boot_ticks;    /* clock_ticks() at the first instruction */
extern uint64_t boot_info;     /* boot_params (Linux) or hvm_start_info (PVH) */
extern uint32_t boot_kind;     /* BOOT_LINUX or BOOT_PVH */
extern uint32_t platform_pvm;  /* nonzero: running natively under nested PVM */
extern uint32_t probe_faulted; /* the VIF MSR write raised #GP (VT-x KVM) */
extern int kiln_fault_in_op;     /* kiln.fault=op: the first console write page-faults (main.c) */
/* Reads page 0 (unmapped): a #PF for kiln.fault, inlined so the report names the caller. */
static inline __attribute__((always_inline)) void fault_null_page(void) {
    volatile uintptr_t null_page = 8;
    (void)*(volatile uint64_t *)null_page;
}
extern char boot_stack[], boot_stack_top[];
extern char __image_start[], __bss_start[], __bss_end[], __payload_start[];
enum { BOOT_LINUX = 1, BOOT_PVH = 2 };

/* platform.c: the primitives that differ between ring 0, PVM (PVM.md §4, §5) and the process
 * platform (process.h); process_table is non-NULL on the process platform. */
struct kiln_process_table;
extern const struct kiln_process_table *process_table;
const char *platform_name(void);
void irq_disable(void);
void irq_enable(void);
void cpu_idle(int64_t timeout_ns); /* with interrupts disabled: wait for an interrupt or timeout (<0: none) */
bool cpu_in_halt_window(uint64_t rip);
uint64_t cpu_halt_window_end(void);
uint32_t mmio_read(uint64_t addr, uint32_t width);  /* width 1, 2 or 4, aligned */
void mmio_write(uint64_t addr, uint32_t width, uint32_t v);
volatile uint32_t *irq_pending_word(void);

/* tls.c: the thread pointer musl's compiled code expects in %fs */
void tls_init(void);

/* serial.c: 16550 console on COM1 */
void console_write(const char *s, size_t n);

/* kprint.c: minimal formatted output, safe in trap context */
void kprintf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int kvsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap);

/* bootinfo.c: memory map and command line from the boot protocol */
struct mem_region { uint64_t base, size; };
void bootinfo_parse(void);
const char *boot_cmdline(void);
bool cmdline_has_param(const char *name);
size_t boot_mem_regions(const struct mem_region **regions);

/* payload.c: the segment kiln build appends (bytecode, symbols; docs/ARCHITECTURE.md) */
enum { PAYLOAD_BYTECODE = 1, PAYLOAD_SYMBOLS = 2, PAYLOAD_BOOTFS = 3 };
bool payload_valid(void);
const void *payload_section(uint32_t kind, size_t *size);
uint64_t payload_end(void);
const char *symbol_for(uint64_t addr, uint64_t *offset);

/* malloc.c: the per-core heap allocator (malloc/free/realloc for QuickJS and libc) */
void heap_init(uint64_t base, uint64_t size);
size_t heap_size(void);
size_t heap_used(void);

/* clock.c: calibrated TSC clock and the CMOS wall clock; the tender's clocks on the process platform */
void clock_init(void);
uint64_t clock_ticks(void); /* TSC, or the tender's monotonic ns on the process platform */
uint64_t clock_ns(void); /* monotonic ns since the first instruction */
uint64_t tsc_khz(void);
uint64_t lapic_timer_khz(void); /* from CPUID 0x40000010 EBX when the VMM reports it, else 0 */
const char *clock_source(void);
uint64_t ticks_to_ns(uint64_t ticks);
int64_t clock_realtime_ns(void);

/* lapic.c: local APIC (x2APIC MSRs or xAPIC MMIO) and its one-shot timer */
void lapic_init(void);
void lapic_timer_arm(uint64_t ns);
void lapic_eoi(void);
enum { VEC_TIMER = 0x20, VEC_SPURIOUS = 0xff };

/* ioapic.c: the I/O APIC's redirection table (programmed only when a driver subscribes) */
int ioapic_pins(void);
void ioapic_route(int pin, uint8_t vector, uint8_t apic_id);

/* irq.c: device interrupts — IOAPIC pin p arrives as vector VEC_IRQ_BASE + p, sets a pending bit */
enum { VEC_IRQ_BASE = 0x30, IRQ_PINS = 24 };
void irq_raise(unsigned pin);      /* interrupt context */
uint32_t irq_take_pending(void);   /* the loop: fetch and clear the pending mask */
bool irq_any_pending(void);
bool irq_any_subscribed(void);
bool irq_subscribe(unsigned pin);

/* dma.c: zeroed, aligned, never-moving device memory from the heap; RAM range checks */
uint64_t dma_alloc(size_t size, size_t align);
bool dma_free(uint64_t addr);
bool phys_is_ram(uint64_t addr, uint64_t size);

/* trap.c: IDT, TSS, exceptions and interrupts; the tender's fault reports on the process platform */
void trap_init(void);

/* bootchart.c: OSv-style boot phase timings, printed when the command line has kiln.bootchart */
void bootchart_mark(const char *phase);
void bootchart_print(void);

/* power.c: leaving the VM */
void NORETURN machine_exit(int code);
/* The core's own exit codes (docs/ARCHITECTURE.md "Exit codes"; packages/common/src/exit_codes.ts,
 * compared by tests/core/layout.test.ts). EXIT_NO_HEAP: the RAM after the image is too small for
 * the heap or the JS runtime. */
enum { EXIT_CPU_FAULT = 99, EXIT_OUT_OF_MEMORY = 98, EXIT_NO_HEAP = 97, EXIT_JS_ERROR = 1 };

/* engine.c, ops.c, loop.c: the JavaScript side, declared in engine.h */
