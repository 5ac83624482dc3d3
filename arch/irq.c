/* irq.c — device interrupts. IOAPIC pin p is routed to vector VEC_IRQ_BASE + p on core 0; the
 * interrupt handler (trap.c) only sets bit p of a pending mask and sends the LAPIC EOI. The
 * event loop (loop.c) takes the mask and hands each pin to the kernel's JS handler, so drivers
 * run in the loop, never in interrupt context. Pins are routed edge-triggered: the device side
 * (Kiln's irqfd, QEMU's virtio-mmio line) produces a new edge for each new interrupt, and a
 * virtio driver acknowledges InterruptStatus before it reads the used rings. On the process
 * platform the VMM sets the bits in the control page itself (platform.c irq_pending_word). */
#include "kernel.h"

static uint32_t subscribed;

TRAP_SAFE void irq_raise(unsigned pin) {
    __atomic_fetch_or(irq_pending_word(), 1u << pin, __ATOMIC_SEQ_CST);
}

uint32_t irq_take_pending(void) { return __atomic_exchange_n(irq_pending_word(), 0, __ATOMIC_SEQ_CST); }

bool irq_any_pending(void) { return __atomic_load_n(irq_pending_word(), __ATOMIC_SEQ_CST) != 0; }

bool irq_any_subscribed(void) { return subscribed != 0; }

/* Routes IOAPIC pin `pin` to this core. Returns false when the IOAPIC has no such pin or the
 * pin is past the vectors reserved for device interrupts. Subscribing twice is harmless. */
bool irq_subscribe(unsigned pin) {
    if (pin >= IRQ_PINS || (int)pin >= ioapic_pins()) return false;
    if (subscribed & (1u << pin)) return true;
    if (!process_table) ioapic_route((int)pin, (uint8_t)(VEC_IRQ_BASE + pin), 0 /* core 0's APIC id */);
    subscribed |= 1u << pin;
    return true;
}
