/* tender.h — what the tender's files share: the fds it waits on, set up by tender.c before the
 * guest runs and used by calls.c and fault.c while it runs, and the seccomp filter's inputs. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "../layout.h"
#include "../process.h"
#include "../profile.h"

struct tender_fds {
    int timer;       /* timerfd for wait()'s deadline */
    int wait_epoll;  /* epoll over FD_WAKE and timer */
    int out_epoll;   /* epoll over FD_CONSOLE for EPOLLOUT, or -1 (a file or terminal never blocks) */
};
extern struct tender_fds tender_fds;

/* calls.c */
extern struct kiln_process_table tender_table;
void tender_calls_init(volatile uint32_t *control);
void tender_channel_send(const struct reg_request *r);
__attribute__((noreturn)) void tender_exit(int code);
void tender_diag(const char *s); /* one line on FD_DIAG, TLS-free */

/* tender.c: [gpa, gpa+size) lies inside guest RAM (mapped at the same virtual addresses) */
bool tender_in_ram(uint64_t gpa, uint64_t size);

/* sampler.c: profiling (`--profile-hz`); NULL or the call that failed */
struct tender_profile { uint64_t hz, desc, ring_size, text_lo, text_hi; };
const char *tender_sampler_start(const struct tender_profile *p, void *ring);

/* fault.c */
void tender_faults_init(void);

/* seccomp.c: false when the host refuses the filter (errno set); `sampling` adds rt_sigreturn */
bool tender_seccomp_install(bool sampling);

/* Exit codes of a tender that stops before the guest runs (docs/ARCHITECTURE.md "The process platform"). */
enum { TENDER_EXIT_USAGE = 2, TENDER_EXIT_ABI = 3, TENDER_EXIT_SETUP = 4, TENDER_EXIT_CONFINE = 5, TENDER_EXIT_CHANNEL = 6 };
