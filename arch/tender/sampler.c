/* sampler.c — the process platform's profiler sampler (`kiln run --profile`): a POSIX timer sends
 * SIGPROF to the guest's thread HZ times a second; the handler, on the signal stack, takes one
 * sample of the interrupted guest with profile_capture.h — RIP and the frame-pointer chain of the
 * core, QuickJS's frame list — and appends it to the ring the VMM shares with us (the pages
 * after the control page in the RAM memfd, process.h PROFILE_RING_OFFSET). Guest RAM is mapped
 * at guest-physical = virtual addresses here, so reading the guest is a range check and a load.
 * The handler makes no system call but the vDSO's clock and its return (rt_sigreturn, which
 * seccomp.c allows only when sampling), touches no TLS and returns to the guest: a sample
 * costs the guest the signal delivery and the walk, a few microseconds. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include "../profile_capture.h"
#include "tender.h"

static struct kiln_capture_env env;

static const void *map_guest(void *ctx, uint64_t gpa, uint64_t len) {
    (void)ctx;
    return tender_in_ram(gpa, len) ? (const void *)(uintptr_t)gpa : NULL;
}

static void on_sample(int sig, siginfo_t *si, void *uc_) {
    (void)sig, (void)si;
    const greg_t *g = ((ucontext_t *)uc_)->uc_mcontext.gregs;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call, no errno on success */
    kiln_capture_sample(&env, (uint64_t)g[REG_RIP], (uint64_t)g[REG_RBP], (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

const char *tender_sampler_start(const struct tender_profile *p, void *ring) {
    env = (struct kiln_capture_env){ .map = map_guest, .desc_addr = p->desc, .text_lo = p->text_lo, .text_hi = p->text_hi, .ring = ring };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sample;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART; /* the calls' reads and writes resume; wait() retries its epoll */
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0) return "sigaction(SIGPROF)";
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGPROF };
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) return "timer_create";
    long period = 1000000000L / (long)p->hz;
    struct timespec every = { period / 1000000000L, period % 1000000000L };
    struct itimerspec it = { .it_interval = every, .it_value = every };
    if (timer_settime(timer, 0, &it, NULL) != 0) return "timer_settime";
    return NULL;
}
