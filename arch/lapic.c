/* lapic.c — the local APIC: x2APIC through MSRs when CPUID offers it (KVM, PVM: each access
 * traps to the in-kernel LAPIC), xAPIC through MMIO at 0xFEE00000 otherwise (QEMU 7.2 TCG).
 * Only the one-shot timer is used: the event loop arms it for the next deadline, then halts.
 * The timer counts at 1 GHz with divide-by-1 under KVM and QEMU (one tick per ns), unless the
 * VMM reports another frequency in CPUID leaf 0x40000010 EBX (kHz). */
#include "kernel.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define XAPIC_MMIO 0xFEE00000ul
#define REG_EOI 0x0b0
#define REG_SVR 0x0f0
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_TIMER_ICR 0x380
#define REG_TIMER_DCR 0x3e0
#define LVT_MASKED (1u << 16)

static bool x2apic;
static uint64_t timer_khz = 1000000;

TRAP_SAFE static void lapic_write(uint32_t reg, uint32_t v) {
    if (x2apic) wrmsr(0x800 + (reg >> 4), v);
    else *(volatile uint32_t *)(XAPIC_MMIO + reg) = v;
}

void lapic_init(void) {
    uint32_t r[4];
    cpuid(1, 0, r);
    x2apic = r[2] & (1u << 21);
    uint64_t base = rdmsr(MSR_APIC_BASE);
    uint64_t want = base | APIC_BASE_EN | (x2apic ? APIC_BASE_EXTD : 0);
    if (want != base) wrmsr(MSR_APIC_BASE, want);
    if (lapic_timer_khz()) timer_khz = lapic_timer_khz(); /* read by clock_init, which runs first */
    lapic_write(REG_SVR, 0x100 | VEC_SPURIOUS);
    lapic_write(REG_LVT_LINT0, LVT_MASKED); /* KVM wires LINT0 to the PIC (ExtINT) on the BSP */
    lapic_write(REG_LVT_LINT1, LVT_MASKED);
    lapic_write(REG_TIMER_DCR, 0xb);        /* divide by 1 */
    lapic_write(REG_LVT_TIMER, VEC_TIMER);  /* one-shot */
}

void lapic_timer_arm(uint64_t ns) {
    uint64_t ticks = ns * timer_khz / 1000000;
    if (ticks == 0) ticks = 1;
    if (ticks > 0xffffffffu) ticks = 0xffffffffu; /* the loop re-arms after an early wake */
    lapic_write(REG_TIMER_ICR, (uint32_t)ticks);
}

TRAP_SAFE void lapic_eoi(void) { lapic_write(REG_EOI, 0); }
