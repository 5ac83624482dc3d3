/* console_stdio.h — force-included into the guest build of QuickJS: its few stdio calls
 * (debug dumps, regexp errors) go to the console through libc_shim.c instead of musl's
 * stdout/stderr FILEs, whose write path ends in a `syscall` instruction. */
#pragma once
#include <stdarg.h>
#include <stdio.h>
#undef stdout
#undef stderr
#define stdout ((FILE *)0)
#define stderr ((FILE *)0)
#define printf kiln_printf
#define fprintf kiln_fprintf
#define vfprintf kiln_vfprintf
#define fputc kiln_fputc
#define putchar kiln_putchar
#define fwrite kiln_fwrite
int kiln_printf(const char *fmt, ...);
int kiln_fprintf(FILE *f, const char *fmt, ...);
int kiln_vfprintf(FILE *f, const char *fmt, va_list ap);
int kiln_fputc(int c, FILE *f);
int kiln_putchar(int c);
size_t kiln_fwrite(const void *p, size_t size, size_t n, FILE *f);
