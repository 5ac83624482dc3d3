/* calls.c — the call table the tender hands the guest core (process.h struct kiln_process_table).
 * Every function here runs on the guest's stack with the guest's %fs, so it uses raw system
 * calls (sys.h) and no libc state, except clock_gettime, whose vDSO path touches neither (it is
 * called once during setup so musl has resolved the vDSO symbol before the guest runs). Each
 * system call made here is one the seccomp filter allows, pinned to its fd (seccomp.c). */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <asm/prctl.h>
#include "sys.h"
#include "tender.h"

#define EINTR 4
#define EAGAIN 11

struct tender_fds tender_fds = { -1, -1, -1 };
static bool timer_armed;

void tender_diag(const char *s) {
    long n = 0;
    while (s[n]) n++;
    sys3(SYS_write, FD_DIAG, (long)s, n);
}

/* Writes all of [p, p+n) to fd; false if the fd failed (closed reader, VMM gone). */
static bool write_all(int fd, const void *p, long n, bool may_block) {
    const char *s = p;
    while (n > 0) {
        long r = sys3(SYS_write, fd, (long)s, n);
        if (r > 0) { s += r; n -= r; continue; }
        if (r == -EINTR) continue;
        if (r == -EAGAIN && may_block && tender_fds.out_epoll >= 0) {
            struct epoll_event ev;
            sys6(SYS_epoll_pwait, tender_fds.out_epoll, (long)&ev, 1, -1, 0, 8);
            continue;
        }
        return false;
    }
    return true;
}

static bool read_all(int fd, void *p, long n) {
    char *d = p;
    while (n > 0) {
        long r = sys3(SYS_read, fd, (long)d, n);
        if (r > 0) { d += r; n -= r; continue; }
        if (r == -EINTR) continue;
        return false; /* EOF or error: the VMM is gone */
    }
    return true;
}

static void console_write(const char *s, size_t n) {
    write_all(FD_CONSOLE, s, (long)n, true); /* a console nobody reads drops the rest */
}

static __attribute__((noreturn)) void channel_lost(void) {
    tender_diag("kiln-tender: the VMM closed the register channel\n");
    sys1(SYS_exit_group, TENDER_EXIT_CHANNEL);
    __builtin_unreachable();
}

void tender_channel_send(const struct reg_request *r) {
    if (!write_all(FD_CHANNEL, r, REG_REQUEST_SIZE, false)) channel_lost();
}

static uint32_t request(int op, uint64_t addr, int width, uint32_t value) {
    struct reg_request r = { .op = (uint8_t)op, .width = (uint8_t)width, .value = value, .addr = addr };
    uint32_t reply;
    tender_channel_send(&r);
    if (!read_all(FD_CHANNEL, &reply, REG_REPLY_SIZE)) channel_lost();
    return reply;
}

static uint32_t reg_read(int op, uint64_t addr, int width) {
    return request(op == REG_PIO_READ ? REG_PIO_READ : REG_MMIO_READ, addr, width, 0);
}

static void reg_write(int op, uint64_t addr, int width, uint32_t value) {
    request(op == REG_PIO_WRITE ? REG_PIO_WRITE : REG_MMIO_WRITE, addr, width, value);
}

__attribute__((noreturn)) void tender_exit(int code) {
    request(REG_PIO_WRITE, DEBUG_EXIT_PORT, 1, (uint32_t)code & 0xff); /* the VMM's debug-exit device records the outcome */
    sys1(SYS_exit_group, code & 0xff);
    __builtin_unreachable();
}

static int64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts); /* the vDSO: no system call, no errno on success */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static int64_t monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static int64_t realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

/* Returns when an interrupt may be pending (FD_WAKE was written) or timeout_ns has passed. The
 * VMM sets the control page's bit before it writes FD_WAKE, and the eventfd stays readable until
 * read here, so an interrupt raised after the guest last looked is never slept through. */
static void wait(int64_t timeout_ns) {
    if (timeout_ns == 0) return;
    if (timeout_ns > 0) {
        struct itimerspec it = { .it_value = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 } };
        sys4(SYS_timerfd_settime, tender_fds.timer, 0, (long)&it, 0);
        timer_armed = true;
    } else if (timer_armed) {
        struct itimerspec off = { 0 };
        sys4(SYS_timerfd_settime, tender_fds.timer, 0, (long)&off, 0);
        timer_armed = false;
    }
    struct epoll_event ev[2];
    long n;
    do n = sys6(SYS_epoll_pwait, tender_fds.wait_epoll, (long)ev, 2, -1, 0, 8);
    while (n == -EINTR); /* the profiler's SIGPROF: epoll is never restarted by SA_RESTART */
    for (long i = 0; i < n; i++) {
        uint64_t count;
        if (ev[i].data.fd == FD_WAKE) sys3(SYS_read, FD_WAKE, (long)&count, 8);
        else { sys3(SYS_read, tender_fds.timer, (long)&count, 8); timer_armed = false; }
    }
}

static void notify(void) {
    uint64_t one = 1;
    sys3(SYS_write, FD_NOTIFY, (long)&one, 8); /* EAGAIN only if the counter is saturated: the VMM will look anyway */
}

static void set_tls_base(uint64_t base) { sys2(SYS_arch_prctl, ARCH_SET_FS, (long)base); }

void (*tender_fault_handler)(const struct kiln_fault *);
static void set_fault_handler(void (*h)(const struct kiln_fault *)) { tender_fault_handler = h; }

struct kiln_process_table tender_table = {
    .magic = KILN_TABLE_MAGIC,
    .abi = KILN_PROCESS_ABI,
    .console_write = console_write,
    .exit = tender_exit,
    .monotonic_ns = monotonic_ns,
    .realtime_ns = realtime_ns,
    .wait = wait,
    .reg_read = reg_read,
    .reg_write = reg_write,
    .notify = notify,
    .set_tls_base = set_tls_base,
    .set_fault_handler = set_fault_handler,
};

void tender_calls_init(volatile uint32_t *control) {
    tender_table.control = control;
    (void)monotonic_ns();
    (void)realtime_ns();
}
