/* pagetables.S — the guest's static page tables: an identity map of the first 4 GiB.
 * Every present entry at every level has U/S=1 (bit 2): the nested PVM hypervisor runs the guest
 * natively only through such entries (PVM.md §1 step 2); harmless at ring 0 without SMEP/SMAP.
 * 2 MiB pages, except the first 2 MiB which use 4 KiB pages so that page 0 is unmapped and a
 * NULL dereference faults. 3–4 GiB (boot timer, virtio-mmio, IOAPIC, LAPIC) is uncached. */
#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_US  0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080
#define TABLE   (PTE_P | PTE_RW | PTE_US)
#define LARGE   (PTE_P | PTE_RW | PTE_US | PTE_PS)

        .section .data.pagetables, "aw"
        .balign 4096
        .globl boot_pml4
boot_pml4:
        .quad boot_pdpt + TABLE
        .fill 511, 8, 0
boot_pdpt:
        .quad boot_pd0 + TABLE, boot_pd1 + TABLE, boot_pd2 + TABLE, boot_pd3 + TABLE
        .fill 508, 8, 0
boot_pd0:
        .quad boot_pt0 + TABLE
        .set i, 1
        .rept 511
        .quad (i << 21) | LARGE
        .set i, i + 1
        .endr
boot_pd1:
        .rept 512
        .quad (i << 21) | LARGE
        .set i, i + 1
        .endr
boot_pd2:
        .rept 512
        .quad (i << 21) | LARGE
        .set i, i + 1
        .endr
boot_pd3:
        .rept 512
        .quad (i << 21) | LARGE | PTE_PCD | PTE_PWT
        .set i, i + 1
        .endr
boot_pt0:
        .quad 0                         /* page 0 unmapped: NULL faults */
        .set j, 1
        .rept 511
        .quad (j << 12) | TABLE
        .set j, j + 1
        .endr
