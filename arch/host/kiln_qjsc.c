/* kiln_qjsc.c — the host bytecode compiler used by `kiln build`.
 * Built from the same QuickJS sources with the same configuration as the guest engine
 * (bytecode is not portable across configurations), it compiles one bundled script as a global
 * script and writes JS_WriteObject bytecode. A syntax error prints "name:line: message", exit 1.
 * usage: kiln-qjsc -o OUT [-n NAME] INPUT.js */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quickjs.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) { cap = (n + 65536 + 1) * 2; char *b = realloc(buf, cap); if (!b) { free(buf); fclose(f); return NULL; } buf = b; }
        size_t r = fread(buf + n, 1, 65536, f);
        n += r;
        if (r < 65536) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    const char *out = NULL, *name = NULL, *in = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) name = argv[++i];
        else if (argv[i][0] != '-' && !in) in = argv[i];
        else { fprintf(stderr, "kiln-qjsc: unexpected argument %s\nusage: kiln-qjsc -o OUT [-n NAME] INPUT.js\n", argv[i]); return 2; }
    }
    if (!out || !in) { fprintf(stderr, "usage: kiln-qjsc -o OUT [-n NAME] INPUT.js\n"); return 2; }
    if (!name) name = in;
    size_t len;
    char *src = read_file(in, &len);
    if (!src) { fprintf(stderr, "kiln-qjsc: cannot read %s: %s\n", in, strerror(errno)); return 1; }
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    JSValue obj = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(obj)) {
        JSValue e = JS_GetException(ctx);
        const char *msg = JS_ToCString(ctx, e);
        JSValue stack = JS_GetPropertyStr(ctx, e, "stack");
        const char *st = JS_IsString(stack) ? JS_ToCString(ctx, stack) : NULL;
        fprintf(stderr, "%s\n%s", msg ? msg : "compile error", st ? st : "");
        return 1;
    }
    size_t bc_len;
    uint8_t *bc = JS_WriteObject(ctx, &bc_len, obj, JS_WRITE_OBJ_BYTECODE);
    if (!bc) { fprintf(stderr, "kiln-qjsc: cannot serialise the bytecode\n"); return 1; }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(bc, 1, bc_len, f) != bc_len || fclose(f) != 0) { fprintf(stderr, "kiln-qjsc: cannot write %s: %s\n", out, strerror(errno)); return 1; }
    js_free(ctx, bc);
    JS_FreeValue(ctx, obj);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    free(src);
    return 0;
}
