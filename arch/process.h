/* process.h — the process platform's ABI between the guest core and the tender (arch/tender/),
 * and the parts of it the VMM shares (packages/vmm/src/process/abi.ts mirrors these numbers; a
 * test compares the two). Contract in docs/ARCHITECTURE.md "The process platform".
 * The tender finds the core's process entry in an ELF note (name "Kiln", type
 * KILN_NOTE_PROCESS_ENTRY, desc: u64 entry, u32 ABI version, u32 0) and calls it with the System V
 * ABI: entry(const struct kiln_process_table *table, uint64_t zero_page). */
#pragma once

#define KILN_PROCESS_ABI 1
#define KILN_NOTE_PROCESS_ENTRY 1
#define KILN_TABLE_MAGIC 0x3154504bu /* "KPT1" */

/* The control page: shared memory between the VMM and the guest (the page after guest RAM in
 * the RAM memfd). Every word is accessed atomically by both sides. */
#define CONTROL_IRQ_PENDING 0   /* u32: bit p = IOAPIC pin p raised (VMM ORs, guest exchanges) */
#define CONTROL_NOTIFY 64       /* u32[32]: slot i, bit q = QueueNotify(q) (guest ORs, VMM exchanges) */
#define CONTROL_STATUS 192      /* u32[32]: slot i's virtio InterruptStatus (VMM ORs, guest loads / ANDs on ACK) */
#define CONTROL_SLOTS 32
#define CONTROL_SIZE 4096
/* The profiler's ring (profile.h struct kiln_profile_ring), when `kiln run --profile` asks the
 * tender to sample (--profile-hz, --profile-desc, --profile-ring): at this offset after RAM in
 * the RAM memfd, a 64-byte header then --profile-ring data bytes. */
#define PROFILE_RING_OFFSET CONTROL_SIZE
#define PROFILE_HZ_MAX 10000
#define PROFILE_RING_MIN 65536
#define PROFILE_RING_MAX (64 << 20)
#define REG_REQUEST_SIZE 16
#define REG_REPLY_SIZE 4

/* Register channel ops (the frame is struct reg_request below). */
#define REG_HELLO 0
#define REG_PIO_READ 1
#define REG_PIO_WRITE 2
#define REG_MMIO_READ 3
#define REG_MMIO_WRITE 4

/* The fds the VMM hands the tender (every other fd is closed before the guest runs). */
#define FD_CONSOLE 1
#define FD_DIAG 2
#define FD_CHANNEL 3
#define FD_RAM 4
#define FD_WAKE 5
#define FD_NOTIFY 6
#define FD_FIRST_FREE 7

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/* The register channel (fd 3, a stream socket): each request is 16 bytes, each reply 4 bytes
 * (the value read; 0 for writes). The tender waits for the reply to every request, so the VMM
 * sees accesses in program order. Op 0 (HELLO) is sent once, before the first guest
 * instruction, with value = KILN_PROCESS_ABI; it has no reply. */
struct reg_request {
    uint8_t op, width; /* width 1, 2 or 4 */
    uint16_t reserved; /* 0 */
    uint32_t value;    /* for writes */
    uint64_t addr;     /* port or guest-physical address */
};

/* What the tender tells the core's fault handler: the general registers in the order of trap.c's
 * trap frame, the x86 trap number and error code the kernel reported, and for SIGSYS the call. */
struct kiln_fault {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t trapno, error, rip, cs, rflags, rsp, ss;
    uint64_t addr;    /* si_addr: the faulting address (SIGSEGV, SIGBUS) */
    int32_t signal;   /* SIGSEGV, SIGILL, SIGFPE, SIGBUS or SIGSYS */
    int32_t syscall;  /* SIGSYS: the refused system call's number */
};

/* The calls the tender offers the core. Each may be called from the core's own stack and with
 * the core's %fs: the tender's side uses no TLS and no libc state. */
struct kiln_process_table {
    uint32_t magic, abi;
    volatile uint32_t *control;                              /* the control page */
    void (*console_write)(const char *s, size_t n);          /* to the console fd, all of it */
    __attribute__((noreturn)) void (*exit)(int code);        /* debug-exit write to the VMM, then exit_group */
    int64_t (*monotonic_ns)(void);                           /* CLOCK_MONOTONIC */
    int64_t (*realtime_ns)(void);                            /* CLOCK_REALTIME */
    void (*wait)(int64_t timeout_ns);                        /* until an irq is pending or timeout (<0: none) */
    uint32_t (*reg_read)(int op, uint64_t addr, int width);  /* REG_PIO_READ / REG_MMIO_READ */
    void (*reg_write)(int op, uint64_t addr, int width, uint32_t value);
    void (*notify)(void);                                    /* a notify word was set: wake the VMM */
    void (*set_tls_base)(uint64_t fs_base);
    void (*set_fault_handler)(void (*handler)(const struct kiln_fault *));
};
#endif
