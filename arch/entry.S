/* entry.S — the two boot entries and the platform-mode probe.
 * Linux 64-bit boot protocol (Kiln VMM, Firecracker): long mode, RSI = boot_params.
 * PVH (QEMU -kernel, Firecracker): 32-bit protected mode, EBX = hvm_start_info (Xen PVH ABI).
 * Both load the image's page tables and GDT, then probe for nested PVM (PVM.md §5): write the
 * VIF MSR; a #GP (VT-x KVM) or a silently ignored write (QEMU TCG) leaves us at ring 0, while
 * on kvm_pvm the next instruction already runs natively at CPL 3 (`cs & 3 == 3`).
 * Until then every instruction may run in KVM's emulator: integer only, as few as possible.
 * The process platform's tender (arch/tender/) enters at process_entry instead, found through
 * the "Kiln" note: already in 64-bit user mode, RDI = the tender's call table, RSI = the zero
 * page the VMM wrote (process.h); it makes no privileged instruction. */
#include "process.h"
#define MSR_PVM_VIF     0x4b564d10
#define PVM_VIF_NO_KPTI 0x400
#define MSR_EFER        0xc0000080
#define EFER_LME        0x100
#define BOOT_LINUX      1
#define BOOT_PVH        2

        .section .note.pvh, "a"
        .balign 4
        .long 4                         /* namesz: "Xen\0" */
        .long 8                         /* descsz: QEMU reads a 64-bit value in an ELF64 */
        .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .quad pvh_entry

        .section .note.kiln, "a"
        .balign 4
        .long 5                         /* namesz: "Kiln\0" */
        .long 16                        /* descsz: u64 entry, u32 ABI, u32 0 */
        .long KILN_NOTE_PROCESS_ENTRY
        .asciz "Kiln"
        .balign 4
        .quad process_entry
        .long KILN_PROCESS_ABI, 0

        .section .data
        .balign 16
        /* The GDT lives in writable data: ltr marks the TSS descriptor busy. */
        .globl gdt_rw
gdt_rw: .quad 0
        .quad 0x00af9b000000ffff
        .quad 0x00cf93000000ffff
        .quad 0, 0
gdt_rw_end:
        .globl gdt_ptr
gdt_ptr:
        .word gdt_rw_end - gdt_rw - 1
        .quad gdt_rw
early_idt_ptr:
        .word 14 * 16 - 1               /* vectors 0..13: only #GP (13) is present */
        .quad early_idt
        .globl boot_ticks, boot_kind, boot_info, platform_pvm, probe_faulted
boot_ticks:       .quad 0
boot_info:      .quad 0
boot_kind:      .long 0
platform_pvm:   .long 0
probe_faulted:  .long 0

        .section .bss
        .balign 4096
        .globl vif_page
vif_page:
        .skip 4096                      /* struct pvm_vif: u8 if_, u8 pending, u64 cr2 at +8 */
early_idt:
        .skip 14 * 16
        .balign 16
        .globl boot_stack, boot_stack_top
boot_stack:
        .skip 512 * 1024
boot_stack_top:

        .section .text.entry, "ax"
        .code32
        .globl pvh_entry
pvh_entry:
        cld
        mov %ebx, %esi                  /* hvm_start_info */
        rdtsc
        mov %eax, boot_ticks
        mov %edx, boot_ticks + 4
        lgdt gdt_ptr
        mov %cr4, %eax
        or $0x20, %eax                  /* CR4.PAE */
        mov %eax, %cr4
        mov $boot_pml4, %eax
        mov %eax, %cr3
        mov $MSR_EFER, %ecx
        rdmsr
        or $EFER_LME, %eax
        wrmsr
        mov %cr0, %eax
        or $0x80000001, %eax            /* PG | PE */
        mov %eax, %cr0
        ljmp $0x08, $pvh64

        .code64
pvh64:
        mov $0x10, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %ss
        mov %esi, %esi
        mov %rsi, boot_info
        movl $BOOT_PVH, boot_kind
        jmp common64

        .globl entry64
entry64:
        cld
        mov %rsi, boot_info             /* boot_params ("zero page") */
        rdtsc
        mov %eax, boot_ticks
        mov %edx, boot_ticks + 4
        movl $BOOT_LINUX, boot_kind
        mov $boot_pml4, %eax
        mov %rax, %cr3
        lgdt gdt_ptr

common64:
        lea boot_stack_top(%rip), %rsp
        /* early IDT: one interrupt gate, vector 13 (#GP) -> early_gp */
        lea early_gp(%rip), %rax
        mov %ax, early_idt + 13 * 16
        movl $0x8e000008, early_idt + 13 * 16 + 2   /* selector 0x08, present, type 0xe */
        shr $16, %rax
        mov %ax, early_idt + 13 * 16 + 6
        shr $16, %rax
        mov %eax, early_idt + 13 * 16 + 8
        lidt early_idt_ptr
        /* the probe */
        mov $MSR_PVM_VIF, %ecx
        lea vif_page(%rip), %rax
        or $PVM_VIF_NO_KPTI, %eax
        xor %edx, %edx
        wrmsr
        mov %cs, %eax
        and $3, %eax
        mov %eax, platform_pvm
        jnz 1f
        /* ring 0: caches on (CR0.CD/NW may be left set from reset), x87/SSE on */
        mov %cr0, %rax
        and $~((1 << 30) | (1 << 29) | (1 << 2)), %rax  /* clear CD, NW, EM */
        or $(1 << 1), %rax                              /* MP */
        mov %rax, %cr0
        mov %cr4, %rax
        or $((1 << 9) | (1 << 10)), %rax                /* OSFXSR, OSXMMEXCPT */
        mov %rax, %cr4
1:      fninit
        xor %ebp, %ebp
        call kmain
2:      hlt
        jmp 2b

/* The process platform: no descriptor tables, paging or MSRs to set up (the tender did what the
 * host allows); the core's own stack, then C. */
        .globl process_entry
process_entry:
        cld
        mov %rdi, process_table(%rip)
        mov %rsi, boot_info(%rip)
        movl $BOOT_LINUX, boot_kind(%rip)
        lea boot_stack_top(%rip), %rsp
        xor %ebp, %ebp
        call process_start
3:      ud2
        jmp 3b

/* #GP during the probe: VT-x KVM refuses the unknown MSR. Skip the 2-byte wrmsr. */
early_gp:
        movl $1, probe_faulted
        add $8, %rsp                    /* error code */
        addq $2, (%rsp)
        iretq
