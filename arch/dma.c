/* dma.c — memory shared with devices, and views of physical memory for the kernel.
 * DMA buffers come from the core's heap (malloc.c): RAM is identity-mapped, so the address a
 * driver gets is the guest-physical address a device uses, and a heap block never moves.
 * Blocks are zeroed and aligned; a small table maps each aligned address back to its heap
 * block, so op_dma_free accepts only addresses op_dma_alloc returned (no double free). */
#include <stdlib.h>
#include <string.h>
#include "kernel.h"

#include "layout.h"

struct dma_block { uint64_t addr; void *raw; };
static struct dma_block *blocks;
static size_t nblocks, cap;

/* `align` must be a power of two; 0 means 16. Returns 0 when out of memory. */
uint64_t dma_alloc(size_t size, size_t align) {
    if (align < 16) align = 16;
    if (nblocks == cap) {
        size_t ncap = cap ? cap * 2 : 32;
        struct dma_block *nb = realloc(blocks, ncap * sizeof *nb);
        if (!nb) return 0;
        blocks = nb;
        cap = ncap;
    }
    size_t total;
    if (__builtin_add_overflow(size, align, &total)) return 0;
    void *raw = malloc(total);
    if (!raw) return 0;
    uint64_t addr = ((uint64_t)raw + align - 1) & ~(uint64_t)(align - 1);
    memset((void *)addr, 0, size);
    blocks[nblocks++] = (struct dma_block){ addr, raw };
    return addr;
}

bool dma_free(uint64_t addr) {
    for (size_t i = nblocks; i-- > 0;) {
        if (blocks[i].addr != addr) continue;
        free(blocks[i].raw);
        blocks[i] = blocks[--nblocks];
        return true;
    }
    return false;
}

/* Whether [addr, addr + size) lies inside one RAM region of the boot memory map, in the
 * identity-mapped part (below MMIO_GAP_START, 3 GiB: pagetables.S) and past the unmapped page 0. */
bool phys_is_ram(uint64_t addr, uint64_t size) {
    uint64_t end;
    if (__builtin_add_overflow(addr, size, &end) || addr < 4096 || end > MMIO_GAP_START) return false;
    const struct mem_region *r;
    size_t n = boot_mem_regions(&r);
    for (size_t i = 0; i < n; i++)
        if (addr >= r[i].base && end <= r[i].base + r[i].size) return true;
    return false;
}
