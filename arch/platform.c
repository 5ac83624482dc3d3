/* platform.c — the privileged primitives that differ between the two platform modes.
 * ring 0 (VT-x KVM, QEMU TCG, Firecracker): cli/sti/hlt.
 * PVM (nested kvm_pvm, PVM.md §1 step 4): the interrupt flag is a byte in the VIF page; enabling
 * checks the hypervisor's "pending" byte and rings the port-0x80 doorbell; halting needs the
 * flag set first. The gap between setting the flag and `hlt` is closed by trap.c, which moves
 * an interrupted RIP inside [halt_pvm_begin, halt_pvm_end) past the `hlt` (PVM.md §8). */
#include "kernel.h"
#include "x86.h"

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

const char *platform_name(void) { return platform_pvm ? "pvm" : "ring0"; }

TRAP_SAFE void irq_disable(void) {
    if (platform_pvm) { vif_page.if_ = 0; __asm__ volatile("" ::: "memory"); }
    else __asm__ volatile("cli" ::: "memory");
}

TRAP_SAFE void irq_enable(void) {
    if (platform_pvm) {
        __asm__ volatile("" ::: "memory");
        vif_page.if_ = 1;
        __asm__ volatile("" ::: "memory");
        if (vif_page.pending) outb(0x80, 0);
    } else {
        __asm__ volatile("sti" ::: "memory");
    }
}

void cpu_safe_halt(void) {
    if (platform_pvm) pvm_safe_halt();
    else ring0_safe_halt();
}

TRAP_SAFE bool cpu_in_halt_window(uint64_t rip) {
    return platform_pvm && rip >= (uint64_t)halt_pvm_begin && rip < (uint64_t)halt_pvm_end;
}

TRAP_SAFE uint64_t cpu_halt_window_end(void) { return (uint64_t)halt_pvm_end; }
