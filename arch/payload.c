/* payload.c — the segment `kiln build` appends at __payload_start (docs/ARCHITECTURE.md):
 * header "KILNPAY1", version 1, section table, then the app bytecode and the core's symbol
 * table. Every offset is checked against the payload's own size before use. */
#include <string.h>
#include "kernel.h"

struct section { uint32_t kind, reserved, offset, size; };
struct header { char magic[8]; uint32_t version, count; uint64_t total; struct section sections[]; };
struct symbol { uint64_t addr; uint32_t name, size; };

#define HDR ((const struct header *)__payload_start)
#define MAX_SECTIONS 16

bool payload_valid(void) {
    const struct header *h = HDR;
    if (memcmp(h->magic, "KILNPAY1", 8) != 0 || h->version != 1 || h->count > MAX_SECTIONS) return false;
    if (h->total < sizeof *h + h->count * sizeof(struct section) || h->total > (1ull << 32)) return false;
    for (uint32_t i = 0; i < h->count; i++) {
        const struct section *s = &h->sections[i];
        if ((uint64_t)s->offset + s->size > h->total) return false;
    }
    return true;
}

TRAP_SAFE const void *payload_section(uint32_t kind, size_t *size) {
    const struct header *h = HDR;
    for (uint32_t i = 0; i < h->count && i < MAX_SECTIONS; i++) {
        if (h->sections[i].kind == kind) {
            *size = h->sections[i].size;
            return __payload_start + h->sections[i].offset;
        }
    }
    return NULL;
}

uint64_t payload_end(void) { return (uint64_t)__payload_start + HDR->total; }

/* Nearest symbol at or below addr, by binary search over the sorted table. */
TRAP_SAFE const char *symbol_for(uint64_t addr, uint64_t *offset) {
    size_t size;
    const uint8_t *sec = payload_section(PAYLOAD_SYMBOLS, &size);
    if (!sec || size < 4) return NULL;
    uint32_t count = *(const uint32_t *)sec;
    if (4 + (uint64_t)count * sizeof(struct symbol) > size) return NULL;
    const struct symbol *syms = (const struct symbol *)(sec + 4);
    const char *names = (const char *)(syms + count);
    size_t names_size = size - 4 - count * sizeof(struct symbol);
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (syms[mid].addr <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return NULL;
    const struct symbol *s = &syms[lo - 1];
    if (s->name >= names_size || (s->size && addr - s->addr >= s->size + 4096)) return NULL;
    *offset = addr - s->addr;
    return names + s->name;
}
