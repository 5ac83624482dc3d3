/* kiln_test262.c — runs test262 tests in the guest's engine built for the host: the same patched
 * QuickJS sources and configuration as kiln-core-bigint.elf (quickjs_es2023.c, CONFIG_BIGNUM), without
 * booting a VM per test. Used by bench/test262.ts, not by `kiln build`; built with
 * `make -C arch build/kiln-test262`. Reads one test a line from stdin, "PATH\tMODE" (MODE is
 * script or module; PATH holds the harness and the test, already joined), runs it in a fresh
 * runtime with print and a $262 (createRealm, evalScript, detachArrayBuffer, gc, global), runs
 * its jobs, and writes one line: "ok" or "error NAME: MESSAGE", then the lines it printed as
 * "print TEXT". A test running past 10 s of CPU is interrupted (an InternalError). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "quickjs.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (buf && fread(buf, 1, n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; *len = n; }
    return buf;
}

static void one_line(char *s) { for (; *s; s++) if (*s == '\n' || *s == '\r') *s = ' '; }

static JSValue js_print(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    const char *s = argc > 0 ? JS_ToCString(ctx, argv[0]) : NULL;
    if (!s) return JS_EXCEPTION;
    char *c = strdup(s);
    one_line(c);
    printf("print %s\n", c);
    free(c);
    JS_FreeCString(ctx, s);
    return JS_UNDEFINED;
}

static JSValue add_262(JSContext *ctx);

static JSValue js_create_realm(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    JSContext *c = JS_NewContext(JS_GetRuntime(ctx));
    if (!c) return JS_ThrowOutOfMemory(ctx);
    JSValue r = add_262(c);
    JS_FreeContext(c); /* the realm lives while its objects do */
    return r;
}

static JSValue js_eval_script(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!s) return JS_EXCEPTION;
    JSValue r = JS_Eval(ctx, s, len, "<evalScript>", JS_EVAL_TYPE_GLOBAL);
    JS_FreeCString(ctx, s);
    return r;
}

static JSValue js_detach(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    JS_DetachArrayBuffer(ctx, argv[0]);
    return JS_UNDEFINED;
}

static JSValue js_gc(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    JS_RunGC(JS_GetRuntime(ctx));
    return JS_UNDEFINED;
}

/* Installs print and $262 in ctx's global object; returns a new reference to $262. */
static JSValue add_262(JSContext *ctx) {
    JSValue g = JS_GetGlobalObject(ctx), o = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, g, "print", JS_NewCFunction(ctx, js_print, "print", 1));
    JS_SetPropertyStr(ctx, o, "createRealm", JS_NewCFunction(ctx, js_create_realm, "createRealm", 0));
    JS_SetPropertyStr(ctx, o, "evalScript", JS_NewCFunction(ctx, js_eval_script, "evalScript", 1));
    JS_SetPropertyStr(ctx, o, "detachArrayBuffer", JS_NewCFunction(ctx, js_detach, "detachArrayBuffer", 1));
    JS_SetPropertyStr(ctx, o, "gc", JS_NewCFunction(ctx, js_gc, "gc", 0));
    JS_SetPropertyStr(ctx, o, "global", JS_DupValue(ctx, g));
    JS_SetPropertyStr(ctx, g, "$262", JS_DupValue(ctx, o));
    JS_FreeValue(ctx, g);
    return o;
}

/* Module imports resolve against the importing file's directory (test262's _FIXTURE files). */
static JSModuleDef *load_module(JSContext *ctx, const char *name, void *opaque) {
    size_t len;
    char *src = read_file(name, &len);
    if (!src) { JS_ThrowReferenceError(ctx, "cannot load module %s", name); return NULL; }
    JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    free(src);
    if (JS_IsException(fn)) return NULL;
    JSModuleDef *m = JS_VALUE_GET_PTR(fn);
    JS_FreeValue(ctx, fn);
    return m;
}

static clock_t deadline;
static int interrupt(JSRuntime *rt, void *opaque) { return clock() > deadline; }

static void report_error(JSContext *ctx) {
    JSValue e = JS_GetException(ctx);
    JSValue name = JS_IsObject(e) ? JS_GetPropertyStr(ctx, e, "name") : JS_UNDEFINED;
    const char *n = JS_IsString(name) ? JS_ToCString(ctx, name) : NULL;
    const char *m = JS_ToCString(ctx, e);
    char *msg = strdup(m ? m : "?");
    one_line(msg);
    printf("error %s: %s\n", n ? n : "(not an Error)", msg);
    free(msg);
    if (n) JS_FreeCString(ctx, n);
    if (m) JS_FreeCString(ctx, m);
    JS_FreeValue(ctx, name);
    JS_FreeValue(ctx, e);
}

static void run(const char *path, int module) {
    size_t len;
    char *src = read_file(path, &len);
    if (!src) { printf("error Harness: cannot read %s\n", path); return; }
    JSRuntime *rt = JS_NewRuntime();
    JS_SetMaxStackSize(rt, 1 << 20);
    JSContext *ctx = JS_NewContext(rt);
    JS_FreeValue(ctx, add_262(ctx));
    JS_SetModuleLoaderFunc(rt, NULL, load_module, NULL);
    deadline = clock() + 10 * CLOCKS_PER_SEC;
    JS_SetInterruptHandler(rt, interrupt, NULL);
    JSValue r = JS_Eval(ctx, src, len, path, module ? JS_EVAL_TYPE_MODULE : JS_EVAL_TYPE_GLOBAL);
    int failed = JS_IsException(r);
    if (failed) report_error(ctx);
    JS_FreeValue(ctx, r);
    for (;;) {
        JSContext *c;
        int j = JS_ExecutePendingJob(rt, &c);
        if (j == 0) break;
        if (j < 0 && !failed) { failed = 1; report_error(c); }
    }
    if (!failed) printf("ok\n");
    fflush(stdout);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    free(src);
}

int main(void) {
    char line[8192];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    while (fgets(line, sizeof line, stdin)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        run(line, strncmp(tab + 1, "module", 6) == 0);
        printf("end\n");
        fflush(stdout);
    }
    return 0;
}
