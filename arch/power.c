/* power.c — leaving the VM. isa-debug-exit (port 0xf4) ends the VM with the code on QEMU and
 * Kiln's VMM; without it, the i8042 reset (0xfe to port 0x64) ends Firecracker; if both are
 * ignored, the core reports it and halts with interrupts off. The process platform's tender
 * sends the debug-exit write to the VMM, then ends the process. */
#include "kernel.h"
#include "layout.h"
#include "process.h"
#include "x86.h"

TRAP_SAFE void NORETURN machine_exit(int code) {
    if (process_table) process_table->exit(code); /* the same debug-exit write, over the channel */
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    outb(0x64, 0xfe);
    kprintf("kiln: no exit device answered (exit code %d); halting\n", code);
    for (;;) {
        irq_disable();
        __asm__ volatile("hlt");
    }
}
