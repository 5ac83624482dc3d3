/* fault.c — CPU faults of the guest on the process platform. The kernel reports them as signals
 * (SIGSEGV for #PF and #GP — a privileged instruction —, SIGILL, SIGFPE, SIGBUS) and the seccomp
 * filter's refusals as SIGSYS. The handler runs on its own stack, turns the signal's context into
 * a struct kiln_fault and calls the core's fault handler (trap.c process_fault), which prints the
 * same report as on a VM and exits with code 99. Before the core registered one, or if it
 * returns, the tender prints a short report itself. Handlers never return to the guest. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include "sys.h"
#include "tender.h"

#define EXIT_CPU_FAULT 99

extern void (*tender_fault_handler)(const struct kiln_fault *);
static char fault_stack[64 * 1024] __attribute__((aligned(16)));

/* TLS-free formatting into a fixed line (no libc in a signal handler on the guest's %fs). */
struct line { char b[160]; int n; };
static void put(struct line *l, const char *s) { while (*s && l->n < (int)sizeof l->b) l->b[l->n++] = *s++; }
static void put_dec(struct line *l, uint64_t v) {
    char d[24];
    int i = 0;
    do d[i++] = (char)('0' + v % 10); while ((v /= 10) && i < 24);
    while (i && l->n < (int)sizeof l->b) l->b[l->n++] = d[--i];
}
static void put_hex(struct line *l, uint64_t v) {
    put(l, "0x");
    for (int i = 15; i >= 0 && l->n < (int)sizeof l->b; i--) l->b[l->n++] = "0123456789abcdef"[(v >> (4 * i)) & 15];
}

static void on_fault(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    greg_t *g = uc->uc_mcontext.gregs;
    struct kiln_fault f = {
        .r15 = g[REG_R15], .r14 = g[REG_R14], .r13 = g[REG_R13], .r12 = g[REG_R12], .r11 = g[REG_R11],
        .r10 = g[REG_R10], .r9 = g[REG_R9], .r8 = g[REG_R8], .rbp = g[REG_RBP], .rdi = g[REG_RDI],
        .rsi = g[REG_RSI], .rdx = g[REG_RDX], .rcx = g[REG_RCX], .rbx = g[REG_RBX], .rax = g[REG_RAX],
        .trapno = g[REG_TRAPNO], .error = g[REG_ERR], .rip = g[REG_RIP], .cs = g[REG_CSGSFS] & 0xffff,
        .rflags = g[REG_EFL], .rsp = g[REG_RSP], .ss = 0x2b,
        .addr = (uint64_t)si->si_addr, .signal = sig, .syscall = sig == SIGSYS ? si->si_syscall : -1,
    };
    if (sig == SIGSYS) f.trapno = 0xff; /* not an exception vector: trap.c names the call instead */
    if (tender_fault_handler) tender_fault_handler(&f); /* does not return when the core is sane */
    struct line l = { .n = 0 };
    put(&l, "\nkiln-tender: the guest took signal ");
    put_dec(&l, (uint64_t)sig);
    if (sig == SIGSYS) { put(&l, " (system call "); put_dec(&l, (uint64_t)f.syscall); put(&l, " refused)"); }
    else { put(&l, " (trap "); put_dec(&l, f.trapno); put(&l, ")"); }
    put(&l, " at rip ");
    put_hex(&l, f.rip);
    put(&l, " before its core registered a fault handler\n");
    sys3(SYS_write, FD_CONSOLE, (long)l.b, l.n);
    tender_exit(EXIT_CPU_FAULT);
}

void tender_faults_init(void) {
    stack_t ss = { .ss_sp = fault_stack, .ss_size = sizeof fault_stack };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK; /* a fault inside the handler is fatal: the kernel kills the process */
    sigfillset(&sa.sa_mask);
    const int sigs[] = { SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGSYS, SIGTRAP };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed console or channel is an error return, not a death */
}
