/* bootinfo.c — memory map and command line from whichever boot protocol started us.
 * Linux boot protocol (Documentation/arch/x86/zero-page.rst): e820_entries at 0x1e8, e820 table
 * at 0x2d0 (20-byte entries), cmd_line_ptr at 0x228 (+ ext_cmd_line_ptr at 0x0c8).
 * PVH (xen/include/public/arch-x86/hvm/start_info.h): hvm_start_info magic 0x336ec578,
 * cmdline_paddr at +24, memmap_paddr at +40 and memmap_entries at +48 (version >= 1). */
#include <string.h>
#include "kernel.h"
#include "layout.h"

#define E820_RAM 1
#define MAX_REGIONS 32
#define PVH_MAGIC 0x336ec578

static char cmdline[CMDLINE_MAX];
static struct mem_region regions[MAX_REGIONS];
static size_t nregions;

static void add_region(uint64_t base, uint64_t size, uint32_t type) {
    if (type == E820_RAM && size && nregions < MAX_REGIONS) regions[nregions++] = (struct mem_region){ base, size };
}

static void copy_cmdline(uint64_t paddr) {
    if (!paddr || paddr >= 0x100000000ull) return;
    const char *src = (const char *)paddr;
    size_t i = 0;
    while (i < CMDLINE_MAX - 1 && src[i]) { cmdline[i] = src[i]; i++; }
    cmdline[i] = 0;
}

void bootinfo_parse(void) {
    const uint8_t *p = (const uint8_t *)boot_info;
    if (boot_kind == BOOT_PVH) {
        if (*(const uint32_t *)p != PVH_MAGIC) { kprintf("kiln: bad PVH start info magic\n"); machine_exit(EXIT_CPU_FAULT); }
        uint32_t version = *(const uint32_t *)(p + 4);
        copy_cmdline(*(const uint64_t *)(p + 24));
        if (version >= 1) {
            const uint8_t *m = (const uint8_t *)*(const uint64_t *)(p + 40);
            uint32_t n = *(const uint32_t *)(p + 48);
            for (uint32_t i = 0; i < n; i++, m += 24)
                add_region(*(const uint64_t *)m, *(const uint64_t *)(m + 8), *(const uint32_t *)(m + 16));
        }
    } else {
        copy_cmdline(*(const uint32_t *)(p + 0x228) | (uint64_t) * (const uint32_t *)(p + 0x0c8) << 32);
        uint8_t n = p[0x1e8];
        const uint8_t *e = p + 0x2d0;
        for (uint8_t i = 0; i < n && i < 128; i++, e += 20)
            add_region(*(const uint64_t *)e, *(const uint64_t *)(e + 8), *(const uint32_t *)(e + 16));
    }
}

const char *boot_cmdline(void) { return cmdline; }

size_t boot_mem_regions(const struct mem_region **out) { *out = regions; return nregions; }

/* True when `name` appears as a kernel parameter (`name` or `name=...`) before any `--`. */
bool cmdline_has_param(const char *name) {
    size_t len = strlen(name);
    for (const char *s = cmdline; *s;) {
        while (*s == ' ') s++;
        const char *tok = s;
        while (*s && *s != ' ') s++;
        size_t n = (size_t)(s - tok);
        if (n == 2 && tok[0] == '-' && tok[1] == '-') return false;
        if (n >= len && memcmp(tok, name, len) == 0 && (n == len || tok[len] == '=')) return true;
    }
    return false;
}
