/* tls.c — the thread pointer musl expects in %fs: compiled musl code reads the stack canary at
 * %fs:0x28, errno at self+0x34 and the locale at self+0xa8 (struct pthread of musl 1.2.3 on
 * x86-64, checked against libc.a's __errno_location and __ctype_get_mb_cur_max). musl's own
 * __init_tp would make syscalls, so the core fills the few fields itself: self, canary, and a
 * "C" locale (all categories NULL). */
#include "kernel.h"
#include "process.h"
#include "x86.h"

#define MSR_FS_BASE 0xc0000100
#define TP_SELF 0x00
#define TP_CANARY 0x28
#define TP_LOCALE 0xa8

static uint64_t thread_block[64] __attribute__((aligned(64)));
static const void *c_locale[6]; /* struct __locale_struct: six category pointers, NULL = "C" */

void tls_init(void) {
    thread_block[TP_SELF / 8] = (uint64_t)thread_block;
    thread_block[TP_CANARY / 8] = rdtsc() * 0x9e3779b97f4a7c15ull;
    thread_block[TP_LOCALE / 8] = (uint64_t)c_locale;
    if (process_table) process_table->set_tls_base((uint64_t)thread_block); /* arch_prctl in the tender */
    else wrmsr(MSR_FS_BASE, (uint64_t)thread_block);
}
