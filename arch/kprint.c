/* kprint.c — a small printf for the core's own messages (boot chart, fault reports).
 * Integer conversions only (%d %i %u %x %X %p %s %c %%, with l/ll/z, width, '0', '-',
 * and %.*s), no floating point, so it is safe in trap context and before SSE is on. */
#include <stdarg.h>
#include "kernel.h"

struct out { char *buf; size_t size, len; };

TRAP_SAFE static void put(struct out *o, char c) {
    if (o->len + 1 < o->size) o->buf[o->len] = c;
    o->len++;
}

TRAP_SAFE static void put_num(struct out *o, uint64_t v, int base, bool upper, bool neg, int width, char pad, bool left) {
    char tmp[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do { tmp[n++] = digits[v % base]; v /= base; } while (v);
    if (neg) tmp[n++] = '-';
    int fill = width > n ? width - n : 0;
    if (!left) while (fill-- > 0) put(o, pad);
    while (n) put(o, tmp[--n]);
    if (left) while (fill-- > 0) put(o, ' ');
}

TRAP_SAFE int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put(&o, *fmt); continue; }
        fmt++;
        bool left = false; char pad = ' '; int width = 0, prec = -1, lng = 0;
        for (;; fmt++) {
            if (*fmt == '-') left = true;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') { prec = va_arg(ap, int); fmt++; }
            else { prec = 0; while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0'); }
        }
        while (*fmt == 'l' || *fmt == 'z') { lng++; fmt++; }
        switch (*fmt) {
        case 'd': case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0, width, pad, left);
            break;
        }
        case 'u': put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, false, width, pad, left); break;
        case 'x': case 'X': put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, *fmt == 'X', false, width, pad, left); break;
        case 'p': put(&o, '0'); put(&o, 'x'); put_num(&o, (uint64_t)va_arg(ap, void *), 16, false, false, 16, '0', false); break;
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t n = 0;
            while (s[n] && (prec < 0 || (int)n < prec)) n++;
            int fill = width > (int)n ? width - (int)n : 0;
            if (!left) while (fill-- > 0) put(&o, ' ');
            for (size_t i = 0; i < n; i++) put(&o, s[i]);
            if (left) while (fill-- > 0) put(&o, ' ');
            break;
        }
        case '%': put(&o, '%'); break;
        default: put(&o, '%'); if (*fmt) put(&o, *fmt); else fmt--; break;
        }
    }
    if (size) buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

TRAP_SAFE void kprintf(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}
