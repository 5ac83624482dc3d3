/* process_guest.S — tiny hostile and friendly guests for the process platform's tests
 * (packages/vmm/src/process/machine.test.ts), one per GUEST_* value, built by `make -C arch`
 * into build/test/process-<name>.elf. Each enters like the core (process.h: RDI = the tender's
 * table, RSI = the zero page) and then does one thing a test checks the VMM survives. */
#include "../process.h"

#define T_CONTROL 8
#define T_CONSOLE_WRITE 16
#define T_EXIT 24
#define T_REG_READ 56
#define T_REG_WRITE 64
#define T_NOTIFY 72
#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_exit_group 231

        .section .note.kiln, "a"
        .balign 4
        .long 5, 16, KILN_NOTE_PROCESS_ENTRY
        .asciz "Kiln"
        .balign 4
        .quad guest_entry
        .long KILN_PROCESS_ABI, 0

        .section .rodata
hello:  .ascii "hello from a process guest\n"
hello_end:
path:   .asciz "/etc/hostname"
        .balign 16
garbage:
        .fill 16, 1, 0xff
        .balign 16
/* A valid request (an MMIO read of the virtio magic value at slot 0) repeated: a flood. */
flood:
        .rept 4096
        .byte REG_MMIO_READ, 4
        .short 0
        .long 0
        .quad 0xc0001000
        .endr
flood_end:

        .section .bss
        .balign 16
buf:    .skip 256

        .text
        .globl guest_entry
guest_entry:
        mov %rdi, %r12                  /* the table, callee-saved */
#if GUEST == 1  /* hello: print, signal the boot timer, read the rng's magic, exit 7 */
        lea hello(%rip), %rdi
        mov $(hello_end - hello), %esi
        call *T_CONSOLE_WRITE(%r12)
        mov $REG_MMIO_WRITE, %edi
        mov $0xc0000000, %esi
        mov $1, %edx
        mov $123, %ecx
        call *T_REG_WRITE(%r12)
        mov $7, %edi
        call *T_EXIT(%r12)
#elif GUEST == 2  /* syscall: open and read a host file, print it */
        lea path(%rip), %rdi
        xor %esi, %esi
        mov $SYS_open, %eax
        syscall
        mov %eax, %edi
        lea buf(%rip), %rsi
        mov $256, %edx
        mov $SYS_read, %eax
        syscall
        mov %rax, %rdx
        mov $1, %edi
        lea buf(%rip), %rsi
        mov $SYS_write, %eax
        syscall
        mov $0, %edi
        call *T_EXIT(%r12)
#elif GUEST == 3  /* garbage: a malformed frame straight onto the channel, then wait for the reply */
        mov $FD_CHANNEL, %edi
        lea garbage(%rip), %rsi
        mov $16, %edx
        mov $SYS_write, %eax
        syscall
        mov $FD_CHANNEL, %edi
        lea buf(%rip), %rsi
        mov $4, %edx
        mov $SYS_read, %eax
        syscall
        mov $0, %edi
        call *T_EXIT(%r12)
#elif GUEST == 4  /* flood: valid requests without ever reading a reply */
1:      mov $FD_CHANNEL, %edi
        lea flood(%rip), %rsi
        mov $(flood_end - flood), %edx
        mov $SYS_write, %eax
        syscall
        jmp 1b
#elif GUEST == 5  /* half: half a request, then the process ends */
        mov $FD_CHANNEL, %edi
        lea flood(%rip), %rsi
        mov $8, %edx
        mov $SYS_write, %eax
        syscall
        mov $0, %edi
        mov $SYS_exit_group, %eax
        syscall
#elif GUEST == 6  /* spin forever */
1:      jmp 1b
#elif GUEST == 7  /* control: garbage over the whole control page, a notify, then exit 3 */
        mov T_CONTROL(%r12), %rdi
        mov $-1, %eax
        mov $(CONTROL_SIZE / 4), %ecx
        rep stosl
        call *T_NOTIFY(%r12)
        mov $3, %edi
        call *T_EXIT(%r12)
#elif GUEST == 8  /* privileged: hlt in user mode is #GP, SIGSEGV */
        hlt
#endif
2:      jmp 2b
