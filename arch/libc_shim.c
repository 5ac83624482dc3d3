/* libc_shim.c — the libc functions the engine needs whose musl versions would reach a
 * `syscall` instruction (DESIGN.md §4): stdio output goes to the console (console_stdio.h), abort/assert end the
 * VM with a report, time comes from clock.c, and local time is UTC. musl's locking entry points
 * become no-ops: each core's runtime is single-threaded. A test checks the linked core with
 * `objdump -d | grep syscall`. */
#include "console_stdio.h"
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "kernel.h"

/* Targets of console_stdio.h: the FILE argument is always the console. */
int kiln_vfprintf(FILE *f, const char *fmt, va_list ap) {
    (void)f;
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n > 0) console_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

int kiln_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kiln_vfprintf(NULL, fmt, ap);
    va_end(ap);
    return n;
}

int kiln_fprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kiln_vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int kiln_fputc(int c, FILE *f) {
    (void)f;
    char ch = (char)c;
    console_write(&ch, 1);
    return c & 0xff;
}

int kiln_putchar(int c) { return kiln_fputc(c, NULL); }

size_t kiln_fwrite(const void *p, size_t size, size_t n, FILE *f) {
    (void)f;
    console_write(p, size * n);
    return n;
}

void abort(void) {
    kprintf("\nkiln: abort() called in the core\n");
    machine_exit(EXIT_CPU_FAULT);
}

void __assert_fail(const char *expr, const char *file, int line, const char *func) {
    kprintf("\nkiln: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    machine_exit(EXIT_CPU_FAULT);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    int64_t ns = clock_realtime_ns();
    tv->tv_sec = ns / 1000000000;
    tv->tv_usec = (ns % 1000000000) / 1000;
    return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int64_t ns = id == CLOCK_REALTIME ? clock_realtime_ns() : (int64_t)clock_ns();
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return 0;
}

/* UTC only: the guest has no time zone database. */
struct tm *localtime_r(const time_t *restrict t, struct tm *restrict tm) {
    int64_t secs = *t, days = secs / 86400, rem = secs % 86400;
    if (rem < 0) { rem += 86400; days--; }
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem / 60 % 60);
    tm->tm_sec = (int)(rem % 60);
    tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int mday = (int)(doy - (153 * mp + 2) / 5 + 1), mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t year = yoe + era * 400 + (mon <= 2);
    static const int cumdays[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    tm->tm_year = (int)(year - 1900);
    tm->tm_mon = mon - 1;
    tm->tm_mday = mday;
    tm->tm_yday = cumdays[mon - 1] + mday - 1 + (leap && mon > 2);
    tm->tm_isdst = 0;
    tm->tm_gmtoff = 0;
    tm->tm_zone = "UTC";
    return tm;
}

/* musl stdio locking: single-threaded per core. */
int __lockfile(FILE *f) { (void)f; return 0; }
void __unlockfile(FILE *f) { (void)f; }
