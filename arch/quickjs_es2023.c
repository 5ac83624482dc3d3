/* quickjs_es2023.c — Kiln's additions to QuickJS 2021-03-27 for ES2022–ES2024 built-ins that
 * the only QuickJS sources on our registries (npm `qjsc@0.3.0`) lack. fetch_quickjs.sh appends
 * `#include "quickjs_es2023.c"` to the fetched quickjs.c (so this file sees its internals) and
 * calls kiln_es2023_init from JS_NewContext; Error's `cause` is one line patched into
 * js_error_constructor (kiln_error_cause). Added, as the spec's algorithms:
 *   Array.prototype: at, findLast, findLastIndex, toReversed, toSorted, toSpliced, with
 *   %TypedArray%.prototype: at, findLast, findLastIndex, toReversed, toSorted, with
 *   String.prototype: at, isWellFormed, toWellFormed;  Object.hasOwn, Object.groupBy, Map.groupBy
 *   Promise.withResolvers;  WeakRef (held weakly through the engine's WeakMap records)
 *   symbols as WeakMap/WeakSet keys and WeakRef targets (kiln_can_be_held_weakly; the map code's
 *   lines are patched by fetch_quickjs.sh), Map/WeakMap.prototype.getOrInsert[Computed] (upsert)
 *   Array.prototype[Symbol.unscopables] gains the new Array methods.
 * Not added (see docs/ARCHITECTURE.md, "The JavaScript engine"): FinalizationRegistry, the
 * RegExp `d` flag, Atomics.waitAsync; syntax newer than ES2020 is lowered
 * by esbuild in `kiln build` (target es2020), top-level await by kiln build's async wrapper. */

#define KILN_MAX_ARRAY_LEN 4294967295LL /* 2^32 - 1 */
#define KILN_MAX_SAFE_INT 9007199254740991LL

/* ToIntegerOrInfinity(v) then the relative-index rule of at/with: k = v >= 0 ? v : len + v. */
static int kiln_relative_index(JSContext *ctx, int64_t *pk, JSValueConst v, int64_t len)
{
    int64_t rel;
    if (JS_ToInt64Sat(ctx, &rel, v))
        return -1;
    *pk = rel >= 0 ? rel : len + rel;
    return 0;
}

/* ArrayCreate(len): a RangeError past 2^32 - 1. */
static JSValue kiln_array_create(JSContext *ctx, int64_t len)
{
    if (len > KILN_MAX_ARRAY_LEN)
        return JS_ThrowRangeError(ctx, "invalid array length");
    return JS_NewArray(ctx);
}

static JSValue kiln_array_at(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int64_t len, k;
    JSValue obj = JS_ToObject(ctx, this_val), ret;
    if (JS_IsException(obj))
        return obj;
    if (js_get_length64(ctx, &len, obj) || kiln_relative_index(ctx, &k, argv[0], len)) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    ret = k < 0 || k >= len ? JS_UNDEFINED : JS_GetPropertyInt64(ctx, obj, k);
    JS_FreeValue(ctx, obj);
    return ret;
}

static JSValue kiln_typed_array_at(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int64_t k;
    int len = js_typed_array_get_length_internal(ctx, this_val);
    if (len < 0 || kiln_relative_index(ctx, &k, argv[0], len))
        return JS_EXCEPTION;
    if (k < 0 || k >= len)
        return JS_UNDEFINED;
    return JS_GetPropertyInt64(ctx, this_val, k);
}

static JSValue kiln_string_at(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int64_t k;
    JSValue val = JS_ToStringCheckObject(ctx, this_val), ret;
    JSString *p;
    if (JS_IsException(val))
        return val;
    p = JS_VALUE_GET_STRING(val);
    if (kiln_relative_index(ctx, &k, argv[0], p->len)) {
        JS_FreeValue(ctx, val);
        return JS_EXCEPTION;
    }
    if (k < 0 || k >= p->len)
        ret = JS_UNDEFINED;
    else
        ret = js_new_string_char(ctx, p->is_wide_char ? p->u.str16[k] : p->u.str8[k]);
    JS_FreeValue(ctx, val);
    return ret;
}

/* String.prototype.isWellFormed (magic 0) and toWellFormed (magic 1): lone surrogates. */
static JSValue kiln_string_well_formed(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int to)
{
    JSValue val = JS_ToStringCheckObject(ctx, this_val);
    JSString *p;
    uint32_t i, n;
    StringBuffer b;
    if (JS_IsException(val))
        return val;
    p = JS_VALUE_GET_STRING(val);
    n = p->len;
    if (!p->is_wide_char)
        return to ? val : (JS_FreeValue(ctx, val), JS_TRUE);
    for (i = 0; i < n; i++) {
        uint16_t c = p->u.str16[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && p->u.str16[i + 1] >= 0xDC00 && p->u.str16[i + 1] <= 0xDFFF) { i++; continue; }
        if (c >= 0xD800 && c <= 0xDFFF) break;
    }
    if (i >= n)
        return to ? val : (JS_FreeValue(ctx, val), JS_TRUE);
    if (!to) {
        JS_FreeValue(ctx, val);
        return JS_FALSE;
    }
    if (string_buffer_init2(ctx, &b, n, 1))
        goto fail;
    for (i = 0; i < n; i++) {
        uint16_t c = p->u.str16[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && p->u.str16[i + 1] >= 0xDC00 && p->u.str16[i + 1] <= 0xDFFF) {
            if (string_buffer_putc16(&b, c) || string_buffer_putc16(&b, p->u.str16[++i])) goto fail_buf;
        } else if (string_buffer_putc16(&b, c >= 0xD800 && c <= 0xDFFF ? 0xFFFD : c)) {
            goto fail_buf;
        }
    }
    JS_FreeValue(ctx, val);
    return string_buffer_end(&b);
 fail_buf:
    string_buffer_free(&b);
 fail:
    JS_FreeValue(ctx, val);
    return JS_EXCEPTION;
}

static JSValue kiln_object_hasOwn(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSAtom atom;
    int ret;
    JSValue obj = JS_ToObject(ctx, argv[0]); /* ToObject first, then ToPropertyKey */
    if (JS_IsException(obj))
        return obj;
    atom = JS_ValueToAtom(ctx, argv[1]);
    if (atom == JS_ATOM_NULL) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    ret = JS_GetOwnPropertyInternal(ctx, NULL, JS_VALUE_GET_OBJ(obj), atom);
    JS_FreeAtom(ctx, atom);
    JS_FreeValue(ctx, obj);
    return ret < 0 ? JS_EXCEPTION : JS_NewBool(ctx, ret);
}

/* findLast (magic 0) / findLastIndex (magic 1), for arrays and (with magic | 2) typed arrays. */
static JSValue kiln_find_last(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    JSValueConst args[3], this_arg = argc > 1 ? argv[1] : JS_UNDEFINED;
    JSValue obj, val, res;
    int64_t len, k;
    if (magic & 2) {
        int l = js_typed_array_get_length_internal(ctx, this_val);
        if (l < 0)
            return JS_EXCEPTION;
        len = l;
        obj = JS_DupValue(ctx, this_val);
    } else {
        obj = JS_ToObject(ctx, this_val);
        if (JS_IsException(obj))
            return obj;
        if (js_get_length64(ctx, &len, obj))
            goto fail;
    }
    if (check_function(ctx, argv[0]))
        goto fail;
    for (k = len - 1; k >= 0; k--) {
        JSValue index_val = JS_NewInt64(ctx, k);
        val = JS_GetPropertyInt64(ctx, obj, k);
        if (JS_IsException(val))
            goto fail;
        args[0] = val;
        args[1] = index_val;
        args[2] = obj;
        res = JS_Call(ctx, argv[0], this_arg, 3, args);
        if (JS_IsException(res)) {
            JS_FreeValue(ctx, val);
            goto fail;
        }
        if (JS_ToBoolFree(ctx, res)) {
            JS_FreeValue(ctx, obj);
            if (magic & 1) {
                JS_FreeValue(ctx, val);
                return index_val;
            }
            return val;
        }
        JS_FreeValue(ctx, val);
    }
    JS_FreeValue(ctx, obj);
    return (magic & 1) ? JS_NewInt32(ctx, -1) : JS_UNDEFINED;
 fail:
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

/* Copies obj[from .. from+count) to arr[to ..) as data properties (holes read as undefined). */
static int kiln_copy(JSContext *ctx, JSValueConst arr, int64_t to, JSValueConst obj, int64_t from, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        JSValue v = JS_GetPropertyInt64(ctx, obj, from + i);
        if (JS_IsException(v) || JS_DefinePropertyValueInt64(ctx, arr, to + i, v, JS_PROP_C_W_E | JS_PROP_THROW) < 0)
            return -1;
    }
    return 0;
}

/* Array.prototype.toReversed (magic 0), with (1) and toSorted (2): a new array of the same length. */
static JSValue kiln_array_copy(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    int64_t len, idx = -1, k;
    int with = magic == 1, forward = magic != 0;
    JSValue arr = JS_UNDEFINED, obj;
    if (magic == 2 && !JS_IsUndefined(argv[0]) && check_function(ctx, argv[0]))
        return JS_EXCEPTION;
    obj = JS_ToObject(ctx, this_val);
    if (JS_IsException(obj))
        return obj;
    if (js_get_length64(ctx, &len, obj) || (with && kiln_relative_index(ctx, &idx, argv[0], len)))
        goto fail;
    if (with && (idx < 0 || idx >= len)) {
        JS_ThrowRangeError(ctx, "invalid array index");
        goto fail;
    }
    arr = kiln_array_create(ctx, len);
    if (JS_IsException(arr))
        goto fail;
    for (k = 0; k < len; k++) {
        JSValue v = k == idx ? JS_DupValue(ctx, argv[1]) : JS_GetPropertyInt64(ctx, obj, forward ? k : len - 1 - k);
        if (JS_IsException(v) || JS_DefinePropertyValueInt64(ctx, arr, k, v, JS_PROP_C_W_E | JS_PROP_THROW) < 0)
            goto fail;
    }
    JS_FreeValue(ctx, obj);
    if (magic == 2) {
        JSValue r = js_array_sort(ctx, arr, 1, argv);
        if (JS_IsException(r)) {
            JS_FreeValue(ctx, arr);
            return r;
        }
        JS_FreeValue(ctx, r);
    }
    return arr;
 fail:
    JS_FreeValue(ctx, arr);
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

static JSValue kiln_array_toSpliced(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int64_t len, start, skip, insert, new_len, k;
    JSValue arr = JS_UNDEFINED, obj = JS_ToObject(ctx, this_val);
    if (JS_IsException(obj))
        return obj;
    if (js_get_length64(ctx, &len, obj) || JS_ToInt64Clamp(ctx, &start, argv[0], 0, len, len))
        goto fail;
    insert = argc > 2 ? argc - 2 : 0;
    if (argc == 0)
        skip = 0;
    else if (argc == 1)
        skip = len - start;
    else if (JS_ToInt64Clamp(ctx, &skip, argv[1], 0, len - start, 0))
        goto fail;
    new_len = len + insert - skip;
    if (new_len > KILN_MAX_SAFE_INT) {
        JS_ThrowTypeError(ctx, "invalid array length");
        goto fail;
    }
    arr = kiln_array_create(ctx, new_len);
    if (JS_IsException(arr) || kiln_copy(ctx, arr, 0, obj, 0, start))
        goto fail;
    for (k = 0; k < insert; k++)
        if (JS_DefinePropertyValueInt64(ctx, arr, start + k, JS_DupValue(ctx, argv[k + 2]), JS_PROP_C_W_E | JS_PROP_THROW) < 0)
            goto fail;
    if (kiln_copy(ctx, arr, start + insert, obj, start + skip, len - start - skip))
        goto fail;
    JS_FreeValue(ctx, obj);
    return arr;
 fail:
    JS_FreeValue(ctx, arr);
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

/* TypedArrayCreateSameType(exemplar, len): the intrinsic constructor of the exemplar's kind. */
static JSValue kiln_typed_array_same_type(JSContext *ctx, JSValueConst exemplar, int64_t len)
{
    JSValue n = JS_NewInt64(ctx, len);
    return js_typed_array_constructor(ctx, JS_UNDEFINED, 1, (JSValueConst *)&n, JS_VALUE_GET_OBJ(exemplar)->class_id);
}

/* %TypedArray%.prototype.toReversed (magic 0), toSorted (1), with (2). */
static JSValue kiln_typed_array_copy(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    int64_t idx = -1, k;
    JSValue arr, repl = JS_UNDEFINED;
    int len;
    if (magic == 1 && !JS_IsUndefined(argv[0]) && check_function(ctx, argv[0]))
        return JS_EXCEPTION;
    len = js_typed_array_get_length_internal(ctx, this_val);
    if (len < 0)
        return JS_EXCEPTION;
    if (magic == 2) {
        int cls = JS_VALUE_GET_OBJ(this_val)->class_id;
        if (kiln_relative_index(ctx, &idx, argv[0], len))
            return JS_EXCEPTION;
#ifdef CONFIG_BIGNUM
        if (cls == JS_CLASS_BIG_INT64_ARRAY || cls == JS_CLASS_BIG_UINT64_ARRAY) {
            int64_t b;
            repl = JS_ToBigInt64(ctx, &b, argv[1]) ? JS_EXCEPTION : JS_NewBigInt64(ctx, b);
        } else
#endif
            repl = JS_ToNumber(ctx, argv[1]);
        (void)cls;
        if (JS_IsException(repl))
            return repl;
        /* IsValidIntegerIndex after the conversion, which may have detached or shrunk it */
        if (typed_array_is_detached(ctx, JS_VALUE_GET_OBJ(this_val)) || idx < 0 || idx >= len ||
            idx >= js_typed_array_get_length_internal(ctx, this_val)) {
            JS_FreeValue(ctx, repl);
            return JS_ThrowRangeError(ctx, "invalid typed array index");
        }
    }
    arr = kiln_typed_array_same_type(ctx, this_val, len);
    if (JS_IsException(arr)) {
        JS_FreeValue(ctx, repl);
        return arr;
    }
    for (k = 0; k < len; k++) {
        JSValue v = k == idx ? JS_DupValue(ctx, repl) : JS_GetPropertyInt64(ctx, this_val, magic == 0 ? len - 1 - k : k);
        if (JS_IsException(v) || JS_SetPropertyInt64(ctx, arr, k, v) < 0)
            goto fail;
    }
    JS_FreeValue(ctx, repl);
    if (magic == 1) {
        JSValue r = js_typed_array_sort(ctx, arr, 1, argv);
        if (JS_IsException(r))
            goto fail;
        JS_FreeValue(ctx, r);
    }
    return arr;
 fail:
    JS_FreeValue(ctx, repl);
    JS_FreeValue(ctx, arr);
    return JS_EXCEPTION;
}

/* Object.groupBy (magic 0) and Map.groupBy (magic 1). */
static JSValue kiln_group_by(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    JSValue groups, iter = JS_UNDEFINED, next = JS_UNDEFINED, v = JS_UNDEFINED, key = JS_UNDEFINED, list;
    JSValueConst args[2];
    int64_t k;
    BOOL done;
    if (JS_IsUndefined(argv[0]) || JS_IsNull(argv[0]))
        return JS_ThrowTypeError(ctx, "groupBy: items is null or undefined");
    if (check_function(ctx, argv[1]))
        return JS_EXCEPTION;
    groups = magic ? js_map_constructor(ctx, JS_UNDEFINED, 0, NULL, 0) : JS_NewObjectProto(ctx, JS_NULL);
    if (JS_IsException(groups))
        return groups;
    iter = JS_GetIterator(ctx, argv[0], FALSE);
    if (JS_IsException(iter))
        goto fail;
    next = JS_GetProperty(ctx, iter, JS_ATOM_next);
    if (JS_IsException(next))
        goto fail;
    for (k = 0;; k++) {
        v = JS_IteratorNext(ctx, iter, next, 0, NULL, &done);
        if (JS_IsException(v))
            goto fail;
        if (done)
            break;
        if (k >= KILN_MAX_SAFE_INT) {
            JS_ThrowTypeError(ctx, "groupBy: too many elements");
            goto fail_close;
        }
        args[0] = v;
        args[1] = JS_NewInt64(ctx, k);
        key = JS_Call(ctx, argv[1], JS_UNDEFINED, 2, args);
        if (JS_IsException(key))
            goto fail_close;
        if (magic) {
            list = js_map_get(ctx, groups, 1, (JSValueConst *)&key, 0);
        } else {
            /* ToPropertyKey, kept as a value: the atom's string or symbol */
            JSAtom atom = JS_ValueToAtom(ctx, key);
            JS_FreeValue(ctx, key);
            key = atom == JS_ATOM_NULL ? JS_EXCEPTION : JS_AtomToValue(ctx, atom);
            JS_FreeAtom(ctx, atom);
            if (JS_IsException(key))
                goto fail_close;
            list = JS_GetPropertyValue(ctx, groups, JS_DupValue(ctx, key));
        }
        if (JS_IsException(list))
            goto fail_close;
        if (JS_IsUndefined(list)) {
            list = JS_NewArray(ctx);
            if (JS_IsException(list))
                goto fail_close;
            if (magic) {
                JSValueConst kv[2] = { key, list };
                JSValue r = js_map_set(ctx, groups, 2, kv, 0);
                if (JS_IsException(r)) { JS_FreeValue(ctx, list); goto fail_close; }
                JS_FreeValue(ctx, r);
            } else if (JS_SetPropertyValue(ctx, groups, JS_DupValue(ctx, key), JS_DupValue(ctx, list), JS_PROP_THROW) < 0) {
                JS_FreeValue(ctx, list);
                goto fail_close;
            }
        }
        JS_FreeValue(ctx, key);
        key = JS_UNDEFINED;
        {
            int64_t n;
            int r = js_get_length64(ctx, &n, list);
            if (r == 0)
                r = JS_SetPropertyInt64(ctx, list, n, v) < 0 ? -1 : 0;
            else
                JS_FreeValue(ctx, v);
            v = JS_UNDEFINED;
            JS_FreeValue(ctx, list);
            if (r < 0)
                goto fail;
        }
    }
    JS_FreeValue(ctx, next);
    JS_FreeValue(ctx, iter);
    return groups;
 fail_close:
    JS_IteratorClose(ctx, iter, TRUE);
 fail:
    JS_FreeValue(ctx, key);
    JS_FreeValue(ctx, v);
    JS_FreeValue(ctx, next);
    JS_FreeValue(ctx, iter);
    JS_FreeValue(ctx, groups);
    return JS_EXCEPTION;
}

static JSValue kiln_promise_withResolvers(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSValue funcs[2], promise, obj;
    if (!JS_IsObject(this_val))
        return JS_ThrowTypeErrorNotAnObject(ctx);
    promise = js_new_promise_capability(ctx, funcs, this_val);
    if (JS_IsException(promise))
        return promise;
    obj = JS_NewObject(ctx);
    if (JS_IsException(obj)) {
        JS_FreeValue(ctx, promise);
        JS_FreeValue(ctx, funcs[0]);
        JS_FreeValue(ctx, funcs[1]);
        return obj;
    }
    JS_DefinePropertyValueStr(ctx, obj, "promise", promise, JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "resolve", funcs[0], JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, obj, "reject", funcs[1], JS_PROP_C_W_E);
    return obj;
}

/* InstallErrorCause, called from js_error_constructor once the message is installed. */
static int kiln_error_cause(JSContext *ctx, JSValueConst obj, int argc, JSValueConst *argv, int magic)
{
    int i = magic == JS_AGGREGATE_ERROR ? 2 : 1, has;
    JSAtom cause;
    JSValue v;
    if (argc <= i || !JS_IsObject(argv[i]))
        return 0;
    cause = JS_NewAtom(ctx, "cause");
    has = JS_HasProperty(ctx, argv[i], cause);
    if (has > 0) {
        v = JS_GetProperty(ctx, argv[i], cause);
        if (JS_IsException(v))
            has = -1;
        else
            JS_DefinePropertyValue(ctx, obj, cause, v, JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    }
    JS_FreeAtom(ctx, cause);
    return has < 0 ? -1 : 0;
}

/* CanBeHeldWeakly (ES2023): an object, or a symbol that Symbol.for did not register. A symbol
 * key of a WeakMap/WeakSet/WeakRef is held strongly: the spec only allows collecting it. */
static BOOL kiln_can_be_held_weakly(JSValueConst v)
{
    if (JS_IsObject(v))
        return TRUE;
    return JS_VALUE_GET_TAG(v) == JS_TAG_SYMBOL && ((JSAtomStruct *)JS_VALUE_GET_PTR(v))->atom_type == JS_ATOM_TYPE_SYMBOL;
}

/* Map/WeakMap.prototype.getOrInsert (magic bit 0 clear) and getOrInsertComputed (bit 0 set;
 * MAGIC_WEAK for WeakMap), the upsert proposal: the value for `key`, inserting `value`, or the
 * callback's result for a missing key (which overwrites what the callback may have set). */
static JSValue kiln_map_get_or_insert(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    JSMapState *s = JS_GetOpaque2(ctx, this_val, JS_CLASS_MAP + (magic & MAGIC_WEAK));
    JSMapRecord *mr;
    JSValueConst key;
    JSValue value;
    if (!s)
        return JS_EXCEPTION;
    if ((magic & 1) && !JS_IsFunction(ctx, argv[1]))
        return JS_ThrowTypeError(ctx, "getOrInsertComputed: the callback is not a function");
    key = map_normalize_key(ctx, argv[0]);
    if (s->is_weak && !kiln_can_be_held_weakly(key))
        return JS_ThrowTypeError(ctx, "invalid value used as a weak map key");
    mr = map_find_record(ctx, s, key);
    if (mr)
        return JS_DupValue(ctx, mr->value);
    if (magic & 1) {
        value = JS_Call(ctx, argv[1], JS_UNDEFINED, 1, &key);
        if (JS_IsException(value))
            return value;
        mr = map_find_record(ctx, s, key);
        if (mr) {
            JS_FreeValue(ctx, mr->value);
            mr->value = JS_DupValue(ctx, value);
            return value;
        }
    } else {
        value = JS_DupValue(ctx, argv[1]);
    }
    mr = map_add_record(ctx, s, key);
    if (!mr) {
        JS_FreeValue(ctx, value);
        return JS_EXCEPTION;
    }
    mr->value = JS_DupValue(ctx, value);
    return value;
}

/* WeakRef: its target is the key of a one-record weak JSMapState, so the engine's WeakMap
 * machinery (reset_weak_ref when the target is freed) clears it; deref reads the record. */
static JSClassID kiln_weakref_class_id;

static void kiln_weakref_finalizer(JSRuntime *rt, JSValue val)
{
    JSMapState *s = JS_GetOpaque(val, kiln_weakref_class_id);
    struct list_head *el, *el1;
    if (!s)
        return;
    list_for_each_safe(el, el1, &s->records) {
        JSMapRecord *mr = list_entry(el, JSMapRecord, link);
        map_delete_record(rt, s, mr);
    }
    js_free_rt(rt, s->hash_table);
    js_free_rt(rt, s);
}

/* KeepDuringJob: a no-op job whose argument (the target) the job queue holds until it runs,
 * so a target stays alive until the current job and the jobs queued before it are done. */
static JSValue kiln_keep_during_job(JSContext *ctx, int argc, JSValueConst *argv)
{
    return JS_UNDEFINED;
}

static JSValue kiln_weakref_constructor(JSContext *ctx, JSValueConst new_target, int argc, JSValueConst *argv)
{
    JSMapState *s;
    JSValue obj;
    if (JS_IsUndefined(new_target))
        return JS_ThrowTypeError(ctx, "constructor requires 'new'");
    if (!kiln_can_be_held_weakly(argv[0]))
        return JS_ThrowTypeError(ctx, "WeakRef: invalid target");
    obj = js_create_from_ctor(ctx, new_target, kiln_weakref_class_id);
    if (JS_IsException(obj))
        return obj;
    s = js_mallocz(ctx, sizeof(*s));
    if (!s)
        goto fail;
    init_list_head(&s->records);
    s->is_weak = TRUE;
    s->hash_size = 1;
    s->record_count_threshold = 4;
    s->hash_table = js_malloc(ctx, sizeof(s->hash_table[0]));
    if (!s->hash_table) {
        js_free(ctx, s);
        goto fail;
    }
    init_list_head(&s->hash_table[0]);
    JS_SetOpaque(obj, s);
    if (!map_add_record(ctx, s, argv[0]) || JS_EnqueueJob(ctx, kiln_keep_during_job, 1, argv))
        goto fail;
    return obj;
 fail:
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

static JSValue kiln_weakref_deref(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSMapState *s = JS_GetOpaque2(ctx, this_val, kiln_weakref_class_id);
    if (!s)
        return JS_EXCEPTION;
    JSValueConst target;
    if (list_empty(&s->records))
        return JS_UNDEFINED;
    target = list_entry(s->records.next, JSMapRecord, link)->key;
    if (JS_EnqueueJob(ctx, kiln_keep_during_job, 1, &target))
        return JS_EXCEPTION;
    return JS_DupValue(ctx, target);
}

static const JSCFunctionListEntry kiln_array_proto_funcs[] = {
    JS_CFUNC_DEF("at", 1, kiln_array_at ),
    JS_CFUNC_MAGIC_DEF("findLast", 1, kiln_find_last, 0 ),
    JS_CFUNC_MAGIC_DEF("findLastIndex", 1, kiln_find_last, 1 ),
    JS_CFUNC_MAGIC_DEF("toReversed", 0, kiln_array_copy, 0 ),
    JS_CFUNC_MAGIC_DEF("toSorted", 1, kiln_array_copy, 2 ),
    JS_CFUNC_DEF("toSpliced", 2, kiln_array_toSpliced ),
    JS_CFUNC_MAGIC_DEF("with", 2, kiln_array_copy, 1 ),
};

static const JSCFunctionListEntry kiln_typed_array_proto_funcs[] = {
    JS_CFUNC_DEF("at", 1, kiln_typed_array_at ),
    JS_CFUNC_MAGIC_DEF("findLast", 1, kiln_find_last, 2 ),
    JS_CFUNC_MAGIC_DEF("findLastIndex", 1, kiln_find_last, 3 ),
    JS_CFUNC_MAGIC_DEF("toReversed", 0, kiln_typed_array_copy, 0 ),
    JS_CFUNC_MAGIC_DEF("toSorted", 1, kiln_typed_array_copy, 1 ),
    JS_CFUNC_MAGIC_DEF("with", 2, kiln_typed_array_copy, 2 ),
};

static const JSCFunctionListEntry kiln_string_proto_funcs[] = {
    JS_CFUNC_DEF("at", 1, kiln_string_at ),
    JS_CFUNC_MAGIC_DEF("isWellFormed", 0, kiln_string_well_formed, 0 ),
    JS_CFUNC_MAGIC_DEF("toWellFormed", 0, kiln_string_well_formed, 1 ),
};

static const JSCFunctionListEntry kiln_object_funcs[] = {
    JS_CFUNC_DEF("hasOwn", 2, kiln_object_hasOwn ),
    JS_CFUNC_MAGIC_DEF("groupBy", 2, kiln_group_by, 0 ),
};

static const JSCFunctionListEntry kiln_map_funcs[] = {
    JS_CFUNC_MAGIC_DEF("groupBy", 2, kiln_group_by, 1 ),
};

static const JSCFunctionListEntry kiln_map_proto_funcs[] = {
    JS_CFUNC_MAGIC_DEF("getOrInsert", 2, kiln_map_get_or_insert, 0 ),
    JS_CFUNC_MAGIC_DEF("getOrInsertComputed", 2, kiln_map_get_or_insert, 1 ),
};

static const JSCFunctionListEntry kiln_weakmap_proto_funcs[] = {
    JS_CFUNC_MAGIC_DEF("getOrInsert", 2, kiln_map_get_or_insert, MAGIC_WEAK ),
    JS_CFUNC_MAGIC_DEF("getOrInsertComputed", 2, kiln_map_get_or_insert, MAGIC_WEAK | 1 ),
};

static const JSCFunctionListEntry kiln_promise_funcs[] = {
    JS_CFUNC_DEF("withResolvers", 0, kiln_promise_withResolvers ),
};

static const JSCFunctionListEntry kiln_weakref_proto_funcs[] = {
    JS_CFUNC_DEF("deref", 0, kiln_weakref_deref ),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "WeakRef", JS_PROP_CONFIGURABLE ),
};

static void kiln_add_funcs_to_ctor(JSContext *ctx, int class_id, const JSCFunctionListEntry *tab, int len)
{
    JSValue ctor = JS_GetProperty(ctx, ctx->class_proto[class_id], JS_ATOM_constructor);
    JS_SetPropertyFunctionList(ctx, ctor, tab, len);
    JS_FreeValue(ctx, ctor);
}

static void kiln_es2023_init(JSContext *ctx)
{
    static const char unscopables[] = "at\0findLast\0findLastIndex\0toReversed\0toSorted\0toSpliced\0";
    JSRuntime *rt = ctx->rt;
    JSValue ta_proto, u, proto, ctor;
    const char *p;

    JS_SetPropertyFunctionList(ctx, ctx->class_proto[JS_CLASS_ARRAY], kiln_array_proto_funcs, countof(kiln_array_proto_funcs));
    u = JS_GetProperty(ctx, ctx->class_proto[JS_CLASS_ARRAY], JS_ATOM_Symbol_unscopables);
    for (p = unscopables; *p; p += strlen(p) + 1)
        JS_DefinePropertyValueStr(ctx, u, p, JS_TRUE, JS_PROP_C_W_E);
    JS_FreeValue(ctx, u);
    ta_proto = JS_GetPrototype(ctx, ctx->class_proto[JS_CLASS_UINT8_ARRAY]);
    JS_SetPropertyFunctionList(ctx, ta_proto, kiln_typed_array_proto_funcs, countof(kiln_typed_array_proto_funcs));
    JS_FreeValue(ctx, ta_proto);
    JS_SetPropertyFunctionList(ctx, ctx->class_proto[JS_CLASS_STRING], kiln_string_proto_funcs, countof(kiln_string_proto_funcs));
    kiln_add_funcs_to_ctor(ctx, JS_CLASS_OBJECT, kiln_object_funcs, countof(kiln_object_funcs));
    kiln_add_funcs_to_ctor(ctx, JS_CLASS_MAP, kiln_map_funcs, countof(kiln_map_funcs));
    JS_SetPropertyFunctionList(ctx, ctx->class_proto[JS_CLASS_MAP], kiln_map_proto_funcs, countof(kiln_map_proto_funcs));
    JS_SetPropertyFunctionList(ctx, ctx->class_proto[JS_CLASS_WEAKMAP], kiln_weakmap_proto_funcs, countof(kiln_weakmap_proto_funcs));
    JS_SetPropertyFunctionList(ctx, ctx->promise_ctor, kiln_promise_funcs, countof(kiln_promise_funcs));

    if (kiln_weakref_class_id == 0)
        JS_NewClassID(&kiln_weakref_class_id);
    if (!JS_IsRegisteredClass(rt, kiln_weakref_class_id)) {
        JSClassDef def = { .class_name = "WeakRef", .finalizer = kiln_weakref_finalizer };
        JS_NewClass(rt, kiln_weakref_class_id, &def);
    }
    proto = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, proto, kiln_weakref_proto_funcs, countof(kiln_weakref_proto_funcs));
    JS_SetClassProto(ctx, kiln_weakref_class_id, JS_DupValue(ctx, proto));
    ctor = JS_NewCFunction2(ctx, (JSCFunction *)kiln_weakref_constructor, "WeakRef", 1, JS_CFUNC_constructor, 0);
    JS_SetConstructor(ctx, ctor, proto);
    JS_FreeValue(ctx, proto);
    JS_DefinePropertyValueStr(ctx, ctx->global_obj, "WeakRef", ctor, JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
}
