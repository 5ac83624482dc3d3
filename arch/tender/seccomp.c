/* seccomp.c — the allowlist the guest runs under (Solo5 spt's shape): every call the tender's
 * guest-facing side makes, each pinned to the fds it needs, nothing else. Any other call, and
 * any call from another ABI (x32, i386), never runs: the filter traps it (SIGSYS, which fault.c
 * reports as a fault, exit 99) or, for another ABI, kills the process outright.
 *   read          FD_CHANNEL (replies), FD_WAKE, the timerfd
 *   write         FD_CONSOLE, FD_DIAG, FD_CHANNEL (requests), FD_NOTIFY
 *   epoll_pwait   the wait epoll, the console epoll
 *   timerfd_settime  the timerfd
 *   clock_gettime    any clock (the vDSO's fallback)
 *   arch_prctl    ARCH_SET_FS only (the core's TLS base)
 *   exit_group    any code
 *   rt_sigreturn  only while profiling: the end of sampler.c's SIGPROF handler
 * Spec: Documentation/userspace-api/seccomp_filter.rst; the list is in docs/ARCHITECTURE.md. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <asm/prctl.h>
#include "tender.h"

#define X32_SYSCALL_BIT 0x40000000u
#define MAX_INSNS 96

static struct sock_filter prog[MAX_INSNS];
static unsigned n;

static void emit(struct sock_filter f) { if (n < MAX_INSNS) prog[n++] = f; }
#define LD(off) emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define RET(v) emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))

/* if (nr == sys && low32(arg0) in vals) allow; the accumulator holds nr on entry and on exit. */
static void allow_arg0(unsigned sys, const int *vals, unsigned count) {
    /* jeq sys ? next : skip the block (1 load + count tests + 1 allow + 1 reload) */
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sys, 0, (uint8_t)(count + 3)));
    LD(offsetof(struct seccomp_data, args[0]));
    for (unsigned i = 0; i < count; i++)
        emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)vals[i], (uint8_t)(count - i), 0));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0)); /* no match: skip the allow */
    RET(SECCOMP_RET_ALLOW);
    LD(offsetof(struct seccomp_data, nr));
}

static void allow(unsigned sys) {
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sys, 0, 1));
    RET(SECCOMP_RET_ALLOW);
}

bool tender_seccomp_install(bool sampling) {
    n = 0;
    LD(offsetof(struct seccomp_data, arch));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    RET(SECCOMP_RET_KILL_PROCESS);
    LD(offsetof(struct seccomp_data, nr));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
    RET(SECCOMP_RET_KILL_PROCESS);
    const int reads[] = { FD_CHANNEL, FD_WAKE, tender_fds.timer };
    const int writes[] = { FD_CONSOLE, FD_DIAG, FD_CHANNEL, FD_NOTIFY };
    const int epolls[] = { tender_fds.wait_epoll, tender_fds.out_epoll >= 0 ? tender_fds.out_epoll : tender_fds.wait_epoll };
    const int timers[] = { tender_fds.timer };
    const int fs[] = { ARCH_SET_FS };
    allow_arg0(SYS_read, reads, 3);
    allow_arg0(SYS_write, writes, 4);
    allow_arg0(SYS_epoll_pwait, epolls, 2);
    allow_arg0(SYS_timerfd_settime, timers, 1);
    allow_arg0(SYS_arch_prctl, fs, 1);
    allow(SYS_clock_gettime);
    allow(SYS_exit_group);
    if (sampling) allow(SYS_rt_sigreturn);
    RET(SECCOMP_RET_TRAP);
    if (n >= MAX_INSNS) { errno = E2BIG; return false; }
    struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}
