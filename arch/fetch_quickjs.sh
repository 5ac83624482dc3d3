#!/usr/bin/env bash
# Fetch the QuickJS 2021-03-27 sources from the npm registry package `qjsc` (its deps/ folder),
# check the tarball against the pinned integrity, and patch them: the configuration for a
# freestanding guest (no CONFIG_ATOMICS: it needs OS threads), and Kiln's ES2022-ES2024 built-ins
# (quickjs_es2023.c, included at the end of quickjs.c; kiln_es2023_init runs in JS_NewContext,
# kiln_error_cause in the Error constructor), and the profiler's descriptor (quickjs_profile.c,
# included after it: offsets of QuickJS's private structures, profile.h). No newer QuickJS sources are on the npm registry or
# in Debian bookworm (docs/ARCHITECTURE.md, "The JavaScript engine"). Nothing fetched is committed.
set -euo pipefail
out=${1:?usage: fetch_quickjs.sh OUTDIR}
version=0.3.0
integrity='sha512-a7+cU6/IVcZbIejffdt/wZVMX6LL2MDL3HQ9Zb5Gm23G9DvBMS/z9GHFxz39bAvp2PvMOM+ypSOAyokt2DdZ2w=='
# Sources patched by an older version of this script are fetched again.
[ -f "$out/quickjs.c" ] && grep -q 'quickjs_profile.c' "$out/quickjs.c" && grep -q 'Kiln: ES2015 ClassEscape' "$out/libregexp.c" \
  && grep -q 'Kiln: symbols as weak keys' "$out/quickjs.c" && grep -q 'Kiln: class static block' "$out/quickjs.c" && grep -q 'Kiln: fields named get/set' "$out/quickjs.c" && grep -q 'quickjs_fn_props.c' "$out/quickjs.c" && exit 0
rm -rf "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "qjsc@$version" >/dev/null)
tgz="$tmp/qjsc-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "fetch_quickjs: qjsc@$version integrity mismatch: got $got" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/deps/quickjs_2021_03_27
mkdir -p "$out"
cp -r "$tmp/package/deps/quickjs_2021_03_27/." "$out/"
# CONFIG_ATOMICS pulls in pthreads; the guest has no OS threads.
sed -i 's|^#define CONFIG_ATOMICS$|/* CONFIG_ATOMICS disabled by Kiln: no OS threads in the guest */|' "$out/quickjs.c"
grep -q 'CONFIG_ATOMICS disabled by Kiln' "$out/quickjs.c" || { echo "fetch_quickjs: patch failed" >&2; exit 1; }
# Replaces one whole line (a fixed string that must match exactly once) of a source file.
replace_line() { # FILE OLD-LINE NEW-LINE
  [ "$(grep -cxF -- "$2" "$1")" = 1 ] || { echo "fetch_quickjs: line not found once in $1: $2" >&2; exit 1; }
  OLD="$2" NEW="$3" awk '{ print ($0 == ENVIRON["OLD"] ? ENVIRON["NEW"] : $0) }' "$1" >"$1.new"
  mv "$1.new" "$1"
}
# In a unicode-mode class, `\-` is a ClassEscape (ES2015 21.2.1; fast-xml-parser's XML name
# patterns use it): QuickJS 2021 refused it as an invalid escape.
replace_line "$out/libregexp.c" \
  '                if (ret == -2 && *p != '"'\\0'"' && strchr("^$\\.*+?()[]{}|/", *p)) {' \
  '                if (ret == -2 && *p != '"'\\0'"' && (strchr("^$\\.*+?()[]{}|/", *p) || (inclass && *p == '"'-'"'))) { /* Kiln: ES2015 ClassEscape */'
# Replaces a run of whole lines (fixed text, which must occur exactly once) of a source file.
replace_text() { # FILE OLD-TEXT NEW-TEXT
  FILE="$1" OLD="$2" NEW="$3" python3 -c 'import os, sys
f, old, new = os.environ["FILE"], os.environ["OLD"] + "\n", os.environ["NEW"] + "\n"
s = open(f).read()
if s.count(old) != 1: sys.exit("fetch_quickjs: text not found once in %s: %s" % (f, old.splitlines()[0]))
open(f, "w").write(s.replace(old, new))'
}
# ES2022 class static blocks, `static { ... }`, as QuickJS 2023 compiles them: the block runs in
# the class's static-fields initializer (this = the class), in source order with the static
# fields. esbuild's keepNames needs them to leave private members unlowered (build.ts).
replace_text "$out/quickjs.c" '        if (is_static)
            emit_op(s, OP_swap);
        start_ptr = s->token.ptr;' '        if (is_static)
            emit_op(s, OP_swap);
        if (is_static && s->token.val == '"'{'"') { /* Kiln: class static block */
            ClassFieldsDef *cf = &class_fields[1];
            emit_op(s, OP_swap); /* undoes the one above: a block defines nothing on the class */
            if (!cf->fields_init_fd && emit_class_init_start(s, cf))
                goto fail;
            s->cur_func = cf->fields_init_fd;
            if (js_parse_block(s))
                goto fail;
            s->cur_func = s->cur_func->parent;
            continue;
        }
        start_ptr = s->token.ptr;'
# The class's inner name binding is initialized before the static fields and blocks run (ES2022
# ClassDefinitionEvaluation; QuickJS 2021 did it after, so `static x = C` threw "C is not initialized").
replace_text "$out/quickjs.c" '    /* initialize the static fields */
    if (class_fields[1].fields_init_fd != NULL) {
        ClassFieldsDef *cf = &class_fields[1];
        emit_op(s, OP_dup);
        emit_class_init_end(s, cf);
        emit_op(s, OP_call_method);
        emit_u16(s, 0);
        emit_op(s, OP_drop);
    }
    
    if (class_name != JS_ATOM_NULL) {
        /* store the class name in the scoped class name variable (it
           is independent from the class statement variable
           definition) */
        emit_op(s, OP_dup);
        emit_op(s, OP_scope_put_var_init);
        emit_atom(s, class_name);
        emit_u16(s, fd->scope_level);
    }' '    if (class_name != JS_ATOM_NULL) { /* Kiln: the inner binding before the static initializers */
        emit_op(s, OP_dup);
        emit_op(s, OP_scope_put_var_init);
        emit_atom(s, class_name);
        emit_u16(s, fd->scope_level);
    }

    /* initialize the static fields */
    if (class_fields[1].fields_init_fd != NULL) {
        ClassFieldsDef *cf = &class_fields[1];
        emit_op(s, OP_dup);
        emit_class_init_end(s, cf);
        emit_op(s, OP_call_method);
        emit_u16(s, 0);
        emit_op(s, OP_drop);
    }'
replace_text "$out/quickjs.c" 'static __exception int js_parse_class(JSParseState *s, BOOL is_class_expr,' 'static __exception int js_parse_block(JSParseState *s); /* Kiln: class static blocks */
static __exception int js_parse_class(JSParseState *s, BOOL is_class_expr,'
# Class fields named get, set or async (`set = (k, v) => ...`, Hono's Context): the name is an
# identifier when `=` or `;` follows it, as after `:` `,` `}` `(` (ES2022 FieldDefinition).
replace_text "$out/quickjs.c" '            /* get x(), set x() */
            name = JS_DupAtom(s->ctx, s->token.u.ident.atom);
            if (next_token(s))
                goto fail1;
            if (s->token.val == '"':'"' || s->token.val == '"','"' ||
                s->token.val == '"'}'"' || s->token.val == '"'('"') {' '            /* get x(), set x() */
            name = JS_DupAtom(s->ctx, s->token.u.ident.atom);
            if (next_token(s))
                goto fail1;
            if (s->token.val == '"':'"' || s->token.val == '"','"' ||
                s->token.val == '"'}'"' || s->token.val == '"'('"' ||
                s->token.val == '"'='"' || s->token.val == '"';'"') { /* Kiln: fields named get/set */'
replace_text "$out/quickjs.c" '                   peek_token(s, TRUE) != '"'\\n'"') {
            name = JS_DupAtom(s->ctx, s->token.u.ident.atom);
            if (next_token(s))
                goto fail1;
            if (s->token.val == '"':'"' || s->token.val == '"','"' ||
                s->token.val == '"'}'"' || s->token.val == '"'('"') {' '                   peek_token(s, TRUE) != '"'\\n'"') {
            name = JS_DupAtom(s->ctx, s->token.u.ident.atom);
            if (next_token(s))
                goto fail1;
            if (s->token.val == '"':'"' || s->token.val == '"','"' ||
                s->token.val == '"'}'"' || s->token.val == '"'('"' ||
                s->token.val == '"'='"' || s->token.val == '"';'"') { /* Kiln: fields named async */'
# A function's `length` and `name` by a shape step kept per prototype (quickjs_fn_props.c says why).
replace_text "$out/quickjs.c" '                             const char *filename, int flags, int scope_idx);
    void *user_opaque;
};' '                             const char *filename, int flags, int scope_idx);
    void *user_opaque;
#define KILN_FN_SHAPES 4
    JSShape *kiln_fn_from[KILN_FN_SHAPES], *kiln_fn_to[KILN_FN_SHAPES]; /* Kiln: quickjs_fn_props.c */
};
static void kiln_fn_shapes_free(JSContext *ctx); /* Kiln: quickjs_fn_props.c */'
replace_line "$out/quickjs.c" 'static void js_function_set_properties(JSContext *ctx, JSValueConst func_obj,' \
  'static void js_function_set_properties(JSContext *ctx, JSValueConst func_obj, JSAtom name, int len); /* Kiln: quickjs_fn_props.c */
static void js_function_set_properties_uncached(JSContext *ctx, JSValueConst func_obj,'
replace_line "$out/quickjs.c" '    js_free_shape_null(ctx->rt, ctx->array_shape);' '    js_free_shape_null(ctx->rt, ctx->array_shape);
    kiln_fn_shapes_free(ctx); /* Kiln */'
replace_text "$out/quickjs.c" '    if (ctx->array_shape)
        mark_func(rt, &ctx->array_shape->header);' '    if (ctx->array_shape)
        mark_func(rt, &ctx->array_shape->header);
    for (i = 0; i < KILN_FN_SHAPES; i++) { /* Kiln: quickjs_fn_props.c, held like array_shape */
        if (ctx->kiln_fn_from[i])
            mark_func(rt, &ctx->kiln_fn_from[i]->header);
        if (ctx->kiln_fn_to[i])
            mark_func(rt, &ctx->kiln_fn_to[i]->header);
    }'
# Kiln's built-ins: each anchor must match exactly once.
patch_after() { # ANCHOR-LINE (a fixed string matching one whole line) TEXT
  [ "$(grep -cxF -- "$1" "$out/quickjs.c")" = 1 ] || { echo "fetch_quickjs: anchor not found once: $1" >&2; exit 1; }
  ANCHOR="$1" TEXT="$2" awk '{ print } $0 == ENVIRON["ANCHOR"] { print ENVIRON["TEXT"] }' "$out/quickjs.c" >"$out/quickjs.c.new"
  mv "$out/quickjs.c.new" "$out/quickjs.c"
}
patch_after '#include "libregexp.h"' 'static void kiln_es2023_init(JSContext *ctx); /* Kiln: quickjs_es2023.c */
static int kiln_error_cause(JSContext *ctx, JSValueConst obj, int argc, JSValueConst *argv, int magic);
static BOOL kiln_can_be_held_weakly(JSValueConst v);'
# ES2023 symbols as WeakMap/WeakSet keys (and WeakRef targets): a key that CanBeHeldWeakly
# (an object, or a symbol not from Symbol.for) is accepted; a symbol key is held strongly (a
# symbol cannot be collected while the map can reach it through the record), an object as before.
replace_line "$out/quickjs.c" \
  '    if (s->is_weak && !JS_IsObject(key))' \
  '    if (s->is_weak && !kiln_can_be_held_weakly(key)) /* Kiln: symbols as weak keys */'
replace_line "$out/quickjs.c" \
  '    mr->empty = FALSE;' \
  '    mr->empty = FALSE; if (s->is_weak && !JS_IsObject(key)) { JS_DupValue(ctx, key); } else /* Kiln */'
replace_line "$out/quickjs.c" \
  '        delete_weak_ref(rt, mr);' \
  '        if (JS_IsObject(mr->key)) delete_weak_ref(rt, mr); else JS_FreeValueRT(rt, mr->key); /* Kiln */'
replace_line "$out/quickjs.c" \
  '                    delete_weak_ref(rt, mr);' \
  '                    { if (JS_IsObject(mr->key)) delete_weak_ref(rt, mr); else JS_FreeValueRT(rt, mr->key); } /* Kiln */'
patch_after '    JS_AddIntrinsicPromise(ctx);' '    kiln_es2023_init(ctx);'
# InstallErrorCause: after the message, before AggregateError's errors list (the line before
# error_list's). The awk holds one line back to insert before it.
anchor='        JSValue error_list = iterator_to_array(ctx, argv[0]);'
[ "$(grep -cxF -- "$anchor" "$out/quickjs.c")" = 1 ] || { echo "fetch_quickjs: anchor not found once: $anchor" >&2; exit 1; }
ANCHOR="$anchor" awk 'NR > 1 { if ($0 == ENVIRON["ANCHOR"]) print "    if (kiln_error_cause(ctx, obj, argc, argv, magic))\n        goto exception;"; print prev }
  { prev = $0 } END { print prev }' "$out/quickjs.c" >"$out/quickjs.c.new"
mv "$out/quickjs.c.new" "$out/quickjs.c"
echo '#include "quickjs_es2023.c" /* Kiln */' >>"$out/quickjs.c"
echo '#include "quickjs_profile.c" /* Kiln: the profiler descriptor */' >>"$out/quickjs.c"
echo '#include "quickjs_fn_props.c" /* Kiln: function length and name */' >>"$out/quickjs.c"
grep -q 'kiln_error_cause(ctx, obj' "$out/quickjs.c" || { echo "fetch_quickjs: patch failed" >&2; exit 1; }
echo "fetch_quickjs: QuickJS $(cat "$out/VERSION") in $out"
