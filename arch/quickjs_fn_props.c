/* Kiln: a function object's `length` and `name` without two property definitions. Included at the
 * end of quickjs.c by arch/fetch_quickjs.sh, which renames QuickJS's js_function_set_properties to
 * *_uncached. Every function QuickJS makes — a closure, an arrow, a C function such as a promise's
 * resolving functions — starts with the empty shape of its prototype and gets `length` then `name`
 * through the generic JS_DefineProperty path (and, when no such function is alive, makes those
 * shapes again). A context here keeps, per prototype, the empty shape and the shape with both
 * properties, referenced so they stay alive and are never changed in place (QuickJS clones a shape
 * others share before changing it), and moves a fresh function from one to the other directly.
 * The context holds them as it holds its array_shape: JS_MarkContext marks them for the cycle
 * collector (a shape references its prototype, a C function its context) and JS_FreeContext frees
 * them (kiln_fn_shapes_free).
 * Each of the four function prototypes (Function, AsyncFunction, GeneratorFunction,
 * AsyncGeneratorFunction) has its slot; a function with any other prototype (a derived class's
 * constructor) goes the generic way. */

/* The slot of the function prototype `proto` (Function, AsyncFunction, GeneratorFunction,
 * AsyncGeneratorFunction), or -1. */
static int kiln_fn_slot(JSContext *ctx, JSObject *proto)
{
    static const int classes[KILN_FN_SHAPES - 1] = { JS_CLASS_ASYNC_FUNCTION, JS_CLASS_GENERATOR_FUNCTION, JS_CLASS_ASYNC_GENERATOR_FUNCTION };
    int i;
    if (proto && JS_VALUE_GET_TAG(ctx->function_proto) == JS_TAG_OBJECT && proto == JS_VALUE_GET_OBJ(ctx->function_proto))
        return 0;
    for (i = 0; i < KILN_FN_SHAPES - 1; i++) {
        JSValueConst v = ctx->class_proto[classes[i]];
        if (proto && JS_VALUE_GET_TAG(v) == JS_TAG_OBJECT && proto == JS_VALUE_GET_OBJ(v))
            return i + 1;
    }
    return -1;
}

static void js_function_set_properties(JSContext *ctx, JSValueConst func_obj, JSAtom name, int len)
{
    JSObject *p = JS_VALUE_GET_OBJ(func_obj);
    JSShape *sh = p->shape, *to;
    JSShapeProperty *pr;
    int slot = kiln_fn_slot(ctx, sh->proto);

    if (slot < 0) {
        js_function_set_properties_uncached(ctx, func_obj, name, len);
        return;
    }
    to = ctx->kiln_fn_to[slot];
    if (ctx->kiln_fn_from[slot] == sh) {
        if (to->prop_size != sh->prop_size) {
            JSProperty *np = js_realloc_rt(ctx->rt, p->prop, sizeof(p->prop[0]) * to->prop_size);
            if (!np)
                goto generic; /* the generic way reports the failure */
            p->prop = np;
        }
        p->shape = js_dup_shape(to);
        js_free_shape(ctx->rt, sh);
        p->prop[0].u.value = JS_NewInt32(ctx, len);
        p->prop[1].u.value = JS_AtomToString(ctx, name);
        return;
    }
 generic:
    /* Held while the properties are added, so QuickJS clones it rather than changing it in place
     * (the prototype's empty shape often has no other user). */
    js_dup_shape(sh);
    js_function_set_properties_uncached(ctx, func_obj, name, len);
    to = p->shape;
    pr = get_shape_prop(to);
    /* Remember the step if it went from an empty shared shape to exactly [length, name]. */
    if (!ctx->kiln_fn_from[slot] && sh->is_hashed && sh->prop_count == 0 && to->is_hashed && to->prop_count == 2 &&
        to->deleted_prop_count == 0 && pr[0].atom == JS_ATOM_length && pr[1].atom == JS_ATOM_name &&
        pr[0].flags == JS_PROP_CONFIGURABLE && pr[1].flags == JS_PROP_CONFIGURABLE && to->proto == sh->proto) {
        ctx->kiln_fn_from[slot] = sh; /* takes the reference held above */
        ctx->kiln_fn_to[slot] = js_dup_shape(to);
        return;
    }
    js_free_shape(ctx->rt, sh);
}

/* JS_FreeContext, next to array_shape: the kept shapes go. */
static void kiln_fn_shapes_free(JSContext *ctx)
{
    int i;
    for (i = 0; i < KILN_FN_SHAPES; i++) {
        if (ctx->kiln_fn_from[i])
            js_free_shape(ctx->rt, ctx->kiln_fn_from[i]);
        if (ctx->kiln_fn_to[i])
            js_free_shape(ctx->rt, ctx->kiln_fn_to[i]);
        ctx->kiln_fn_from[i] = ctx->kiln_fn_to[i] = NULL;
    }
}
