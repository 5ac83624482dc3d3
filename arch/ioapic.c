/* ioapic.c — the I/O APIC at 0xFEC00000 (82093AA datasheet §3): IOREGSEL at +0x00 selects a
 * register, IOWIN at +0x10 reads or writes it. Register 0x01 holds the version and the highest
 * redirection entry; entry `pin` is the 64-bit pair 0x10 + 2*pin (low) and 0x11 + 2*pin (high).
 * Each access is an MMIO trap (~20 µs under PVM, PVM.md §8), so pins are programmed once, when
 * the kernel subscribes to a device interrupt — never on the boot path. */
#include "kernel.h"

#define IOAPIC_MMIO 0xFEC00000ul
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPICVER 0x01
#define IOREDTBL(pin) (0x10 + 2 * (pin))

static int max_pin = -1; /* read from IOAPICVER on first use */

static uint32_t ioapic_read(uint32_t reg) {
    *(volatile uint32_t *)(IOAPIC_MMIO + IOREGSEL) = reg;
    return *(volatile uint32_t *)(IOAPIC_MMIO + IOWIN);
}

static void ioapic_write(uint32_t reg, uint32_t v) {
    *(volatile uint32_t *)(IOAPIC_MMIO + IOREGSEL) = reg;
    *(volatile uint32_t *)(IOAPIC_MMIO + IOWIN) = v;
}

int ioapic_pins(void) {
    if (process_table) return IRQ_PINS; /* the tender's control page has a bit per pin */
    if (max_pin < 0) max_pin = (int)((ioapic_read(IOAPICVER) >> 16) & 0xff);
    return max_pin + 1;
}

/* Fixed delivery (000), physical destination mode, active high, edge triggered, unmasked,
 * to the LAPIC with `apic_id`. The high word (destination) is written before the low word
 * clears the mask, so the entry never fires half-programmed. */
void ioapic_route(int pin, uint8_t vector, uint8_t apic_id) {
    ioapic_write(IOREDTBL(pin) + 1, (uint32_t)apic_id << 24);
    ioapic_write(IOREDTBL(pin), vector);
}
