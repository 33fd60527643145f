/*
 * Map projections, compiled once per configuration into a tree of (key, path | nested map).
 * Applying one walks the tree, resolving each path against the event; values are shared with
 * the event by reference count, so a projection costs one object per map level, not a copy.
 */
#include "projection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

/* Event members a top-level map carries along, as the push service does. */
static const char *const carried_keys[] = {"correlationId", "context"};
#define N_CARRIED (sizeof(carried_keys) / sizeof(carried_keys[0]))

struct node {
    char *key;
    struct mqp_path *path;      /* a leaf, or ... */
    struct mqp_projection *sub; /* ... a nested map */
};

struct mqp_projection {
    /* The map names a carried key itself: its own value wins over the event's member. */
    bool maps_carried[N_CARRIED];
    size_t n;
    struct node nodes[];
};

struct compile_state {
    size_t n_keys;
    char *err;
    size_t errlen;
};

void mqp_projection_free(struct mqp_projection *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->nodes[i].key);
        mqp_path_free(p->nodes[i].path);
        mqp_projection_free(p->nodes[i].sub);
    }
    free(p);
}

/*
 * Errors name the offending key relative to the map ("nested.k: ..."); prefix holds the keys
 * of the enclosing levels.
 */
static int compile(json_object *map, int depth, const char *prefix, struct compile_state *cs,
                   struct mqp_projection **out)
{
    struct mqp_projection *p = NULL;
    char perr[160], where[192];
    size_t n;
    int rc = -1;

    *out = NULL;
    if (!json_object_is_type(map, json_type_object)) {
        if (cs->err && cs->errlen)
            snprintf(cs->err, cs->errlen, "%s%smap must be an object", prefix, *prefix ? ": " : "");
        goto out;
    }
    if (depth > MQP_PROJECTION_MAX_DEPTH) {
        if (cs->err && cs->errlen)
            snprintf(cs->err, cs->errlen, "%s: maps nested deeper than %d", prefix,
                     MQP_PROJECTION_MAX_DEPTH);
        goto out;
    }
    n = (size_t)json_object_object_length(map);
    cs->n_keys += n;
    if (cs->n_keys > MQP_PROJECTION_MAX_KEYS) {
        if (cs->err && cs->errlen)
            snprintf(cs->err, cs->errlen, "map has more than %d keys", MQP_PROJECTION_MAX_KEYS);
        goto out;
    }
    p = calloc(1, sizeof(*p) + n * sizeof(p->nodes[0]));
    if (!p)
        goto oom;
    json_object_object_foreach(map, key, value)
    {
        struct node *nd = &p->nodes[p->n];

        /* where only labels error messages; a cut label is acceptable. */
        if (snprintf(where, sizeof(where), "%s%s%.128s", prefix, *prefix ? "." : "", key) < 0)
            goto out;
        nd->key = strdup(key);
        if (!nd->key)
            goto oom;
        p->n++;
        if (json_object_is_type(value, json_type_string)) {
            if (mqp_path_compile(json_object_get_string(value), &nd->path, perr, sizeof(perr)) <
                0) {
                if (cs->err && cs->errlen)
                    snprintf(cs->err, cs->errlen, "%s: %s", where, perr);
                goto out;
            }
        } else if (json_object_is_type(value, json_type_object)) {
            if (compile(value, depth + 1, where, cs, &nd->sub) < 0)
                goto out;
        } else {
            if (cs->err && cs->errlen)
                snprintf(cs->err, cs->errlen, "%s: must be a path string or a nested map", where);
            goto out;
        }
        if (depth == 1)
            for (size_t i = 0; i < N_CARRIED; i++)
                if (strcmp(key, carried_keys[i]) == 0)
                    p->maps_carried[i] = true;
    }
    *out = p;
    p = NULL;
    rc = 0;
    goto out;
oom:
    if (cs->err && cs->errlen)
        snprintf(cs->err, cs->errlen, "out of memory");
out:
    mqp_projection_free(p);
    return rc;
}

int mqp_projection_compile(json_object *map, struct mqp_projection **out, char *err, size_t errlen)
{
    struct compile_state cs = {.err = err, .errlen = errlen};

    return compile(map, 1, "", &cs, out);
}

/* Adds val (one reference, consumed even on failure) under key. */
static int add(json_object *dst, const char *key, json_object *val, unsigned opts)
{
    if (json_object_object_add_ex(dst, key, val, opts | JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
        json_object_put(val);
        return -1;
    }
    return 0;
}

/*
 * Adds the members of p to dst. check_existing: dst held members before the call, and those
 * are kept; otherwise every key is new (a map's keys are unique), which spares a lookup.
 */
static int apply_members(const struct mqp_projection *p, json_object *event, json_object *dst,
                         bool check_existing, unsigned key_opts)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct node *nd = &p->nodes[i];
        json_object *val;

        if (check_existing && json_object_object_get_ex(dst, nd->key, NULL))
            continue;
        if (nd->path) {
            int found;

            val = mqp_path_get(nd->path, event, &found);
            if (!found)
                continue;
            if (add(dst, nd->key, json_object_get(val), key_opts) < 0)
                return -1;
        } else {
            val = json_object_new_object();
            if (!val)
                return -1;
            /* A nested map whose paths all miss still yields {}: the key is configured. */
            if (apply_members(nd->sub, event, val, false, key_opts) < 0 ||
                add(dst, nd->key, val, key_opts) < 0) {
                json_object_put(val);
                return -1;
            }
        }
    }
    return 0;
}

int mqp_projection_apply_into(const struct mqp_projection *p, json_object *event, json_object *dst,
                              bool borrow_keys)
{
    unsigned key_opts = borrow_keys ? JSON_C_OBJECT_ADD_CONSTANT_KEY : 0;
    bool check_existing;

    if (!p || !json_object_is_type(dst, json_type_object))
        return -1;
    check_existing = json_object_object_length(dst) > 0;
    for (size_t i = 0; i < N_CARRIED; i++) {
        json_object *val;

        if (p->maps_carried[i] || !json_object_is_type(event, json_type_object) ||
            !json_object_object_get_ex(event, carried_keys[i], &val))
            continue;
        if (check_existing && json_object_object_get_ex(dst, carried_keys[i], NULL))
            continue;
        if (add(dst, carried_keys[i], json_object_get(val), JSON_C_OBJECT_ADD_CONSTANT_KEY) < 0)
            return -1;
    }
    return apply_members(p, event, dst, check_existing, key_opts);
}

json_object *mqp_projection_apply(const struct mqp_projection *p, json_object *event)
{
    json_object *dst = json_object_new_object();

    if (dst && mqp_projection_apply_into(p, event, dst, false) < 0) {
        json_object_put(dst);
        dst = NULL;
    }
    return dst;
}
