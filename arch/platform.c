/* platform.c — the primitives that differ between the three platform modes, and nothing else.
 * ring 0 (VT-x KVM, QEMU TCG, Firecracker): cli/sti/hlt, MMIO by plain loads and stores.
 * PVM (nested kvm_pvm, PVM.md §1 step 4): the interrupt flag is a byte in the VIF page; enabling
 * checks the hypervisor's "pending" byte and rings the port-0x80 doorbell; halting needs the
 * flag set first. The gap between setting the flag and `hlt` is closed by trap.c, which moves
 * an interrupted RIP inside [halt_pvm_begin, halt_pvm_end) past the `hlt` (PVM.md §8).
 * process (the tender, arch/tender/): no privileged instruction at all. Interrupts are bits in
 * the control page that only the loop reads, so there is no interrupt flag; halting is the
 * tender's wait; registers go over the tender's channel, except virtio's InterruptStatus/ACK and
 * QueueNotify, which are control-page words (process.h). */
#include "kernel.h"
#include "layout.h"
#include "process.h"
#include "x86.h"

const struct kiln_process_table *process_table; /* set by process_entry (entry.S) */

struct pvm_vif { volatile uint8_t if_, pending; uint8_t pad[6]; volatile uint64_t cr2; };
extern struct pvm_vif vif_page;
extern char halt_pvm_begin[], halt_pvm_end[];
void pvm_safe_halt(void);
void ring0_safe_halt(void);

__asm__(".text\n"
        "pvm_safe_halt:\n"
        "halt_pvm_begin:\n"
        "  movb $1, vif_page(%rip)\n"
        "  cmpb $0, vif_page+1(%rip)\n"
        "  je 1f\n"
        "  outb %al, $0x80\n"
        "1: hlt\n"
        "halt_pvm_end:\n"
        "  ret\n"
        "ring0_safe_halt:\n"
        "  sti\n" /* the interrupt shadow makes sti;hlt atomic */
        "  hlt\n"
        "  ret\n");

const char *platform_name(void) { return process_table ? "process" : platform_pvm ? "pvm" : "ring0"; }

TRAP_SAFE void irq_disable(void) {
    if (process_table) return;
    if (platform_pvm) { vif_page.if_ = 0; __asm__ volatile("" ::: "memory"); }
    else __asm__ volatile("cli" ::: "memory");
}

TRAP_SAFE void irq_enable(void) {
    if (process_table) return;
    if (platform_pvm) {
        __asm__ volatile("" ::: "memory");
        vif_page.if_ = 1;
        __asm__ volatile("" ::: "memory");
        if (vif_page.pending) outb(0x80, 0);
    } else {
        __asm__ volatile("sti" ::: "memory");
    }
}

/* Interrupts off (irq_disable) on entry; returns after an interrupt or the deadline. Ring 0 and
 * PVM arm the LAPIC one-shot timer and halt with interrupts enabled (no lost-wakeup window);
 * the process platform waits in the tender, which returns as soon as an irq bit is set. */
void cpu_idle(int64_t timeout_ns) {
    if (process_table) { process_table->wait(timeout_ns); return; }
    if (timeout_ns >= 0) lapic_timer_arm((uint64_t)timeout_ns);
    if (platform_pvm) pvm_safe_halt();
    else ring0_safe_halt();
}

TRAP_SAFE bool cpu_in_halt_window(uint64_t rip) {
    return platform_pvm && rip >= (uint64_t)halt_pvm_begin && rip < (uint64_t)halt_pvm_end;
}

TRAP_SAFE uint64_t cpu_halt_window_end(void) { return (uint64_t)halt_pvm_end; }

/* ---- device registers ---- */

TRAP_SAFE static volatile uint32_t *control_word(uint32_t byte_offset) { return process_table->control + byte_offset / 4; }

/* The virtio slot of `addr` and the register offset in it, when addr is in the virtio-mmio area. */
static bool virtio_reg(uint64_t addr, uint32_t *slot, uint32_t *reg) {
    if (addr < VIRTIO_MMIO_BASE || addr >= VIRTIO_MMIO_BASE + (uint64_t)VIRTIO_MMIO_SLOT_SIZE * CONTROL_SLOTS) return false;
    *slot = (uint32_t)((addr - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_SLOT_SIZE);
    *reg = (uint32_t)((addr - VIRTIO_MMIO_BASE) % VIRTIO_MMIO_SLOT_SIZE);
    return true;
}

/* `width` is 1, 2 or 4 and addr is naturally aligned (ops.c checks). */
uint32_t mmio_read(uint64_t addr, uint32_t width) {
    if (process_table) {
        uint32_t slot, reg;
        if (width == 4 && virtio_reg(addr, &slot, &reg) && reg == VIRTIO_MMIO_INTERRUPT_STATUS)
            return __atomic_load_n(control_word(CONTROL_STATUS + 4 * slot), __ATOMIC_SEQ_CST);
        return process_table->reg_read(REG_MMIO_READ, addr, (int)width);
    }
    if (width == 1) return *(volatile uint8_t *)addr;
    if (width == 2) return *(volatile uint16_t *)addr;
    return *(volatile uint32_t *)addr;
}

void mmio_write(uint64_t addr, uint32_t width, uint32_t v) {
    if (process_table) {
        uint32_t slot, reg;
        if (width == 4 && virtio_reg(addr, &slot, &reg)) {
            if (reg == VIRTIO_MMIO_INTERRUPT_ACK) {
                __atomic_fetch_and(control_word(CONTROL_STATUS + 4 * slot), ~v, __ATOMIC_SEQ_CST);
                return;
            }
            if (reg == VIRTIO_MMIO_QUEUE_NOTIFY && v < 32) {
                __atomic_fetch_or(control_word(CONTROL_NOTIFY + 4 * slot), 1u << v, __ATOMIC_SEQ_CST);
                process_table->notify();
                return;
            }
        }
        process_table->reg_write(REG_MMIO_WRITE, addr, (int)width, v);
        return;
    }
    if (width == 1) *(volatile uint8_t *)addr = (uint8_t)v;
    else if (width == 2) *(volatile uint16_t *)addr = (uint16_t)v;
    else *(volatile uint32_t *)addr = v;
}

/* The word irq.c keeps its pending mask in: the control page's on the process platform (the VMM
 * sets bits there), else a core variable the interrupt handler sets. */
TRAP_SAFE volatile uint32_t *irq_pending_word(void) {
    static volatile uint32_t local;
    return process_table ? control_word(CONTROL_IRQ_PENDING) : &local;
}
