/*
 * Criteria: every path must exist and hold a value equal to the required one.
 * A missing path never matches, not even a required null: "payload.x": null asks for an
 * explicit null, as lodash's isEqual(undefined, null) is false in the push service.
 */
#include "criteria.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

/* Deeper than any parser in mqpush nests (events 64, configuration 32): compare no further. */
#define MAX_EQUAL_DEPTH 128

struct entry {
    struct mqp_path *path;
    json_object *value; /* one reference held; NULL is a required JSON null */
};

struct mqp_criteria {
    size_t n;
    struct entry e[];
};

/*
 * json-c 0.16 keeps integers as int64 or, above INT64_MAX, uint64; get_int64() clamps the latter
 * to INT64_MAX, so a non-negative result is re-read as uint64 to compare exactly.
 */
static bool int_equal(json_object *a, json_object *b)
{
    int64_t ia = json_object_get_int64(a), ib = json_object_get_int64(b);

    if (ia < 0 || ib < 0)
        return ia == ib;
    return json_object_get_uint64(a) == json_object_get_uint64(b);
}

/* Integer vs double by value: 1 == 1.0, but 2^53 + 1 != 2^53 as a double. */
static bool int_double_equal(json_object *i, json_object *d)
{
    double dv = json_object_get_double(d);
    int64_t iv = json_object_get_int64(i);

    if (!isfinite(dv))
        return false;
    if (iv < 0) {
        /* Range checks first: converting an out-of-range double to an integer is undefined. */
        if (dv < (double)INT64_MIN || dv >= 0)
            return false;
        return (double)(int64_t)dv == dv && (int64_t)dv == iv;
    }
    if (dv < 0 || dv >= 0x1p64)
        return false;
    return (double)(uint64_t)dv == dv && (uint64_t)dv == json_object_get_uint64(i);
}

static bool equal(json_object *a, json_object *b, int depth)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

    if (depth > MAX_EQUAL_DEPTH)
        return false;
    if (ta == json_type_int && tb == json_type_double)
        return int_double_equal(a, b);
    if (ta == json_type_double && tb == json_type_int)
        return int_double_equal(b, a);
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return !json_object_get_boolean(a) == !json_object_get_boolean(b);
    case json_type_int:
        return int_equal(a, b);
    case json_type_double:
        return json_object_get_double(a) == json_object_get_double(b);
    case json_type_string: {
        int la = json_object_get_string_len(a), lb = json_object_get_string_len(b);

        return la == lb &&
               memcmp(json_object_get_string(a), json_object_get_string(b), (size_t)la) == 0;
    }
    case json_type_array: {
        size_t n = json_object_array_length(a);

        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), depth + 1))
                return false;
        return true;
    }
    case json_type_object: {
        /* json-c keeps one value per key, so equal sizes plus a-in-b means the same key set. */
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object_object_foreach(a, key, va)
        {
            json_object *vb;

            if (!json_object_object_get_ex(b, key, &vb) || !equal(va, vb, depth + 1))
                return false;
        }
        return true;
    }
    }
    return false;
}

bool mqp_json_equal(json_object *a, json_object *b)
{
    return equal(a, b, 0);
}

/* Push-service rule: correlationId "" or null is "no constraint", not "must be empty". */
static bool is_unconstrained(const char *key, json_object *value)
{
    if (strcmp(key, "correlationId") != 0)
        return false;
    return value == NULL ||
           (json_object_is_type(value, json_type_string) && json_object_get_string_len(value) == 0);
}

void mqp_criteria_free(struct mqp_criteria *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mqp_path_free(c->e[i].path);
        json_object_put(c->e[i].value);
    }
    free(c);
}

int mqp_criteria_compile(json_object *spec, struct mqp_criteria **out, char *err, size_t errlen)
{
    struct mqp_criteria *c = NULL;
    char perr[160];
    size_t n = 0;
    int rc = -1;

    *out = NULL;
    if (spec && !json_object_is_type(spec, json_type_object)) {
        if (err && errlen)
            snprintf(err, errlen, "criteria must be an object");
        goto out;
    }
    if (spec)
        n = (size_t)json_object_object_length(spec);
    if (n > MQP_CRITERIA_MAX_ENTRIES) {
        if (err && errlen)
            snprintf(err, errlen, "more than %d criteria", MQP_CRITERIA_MAX_ENTRIES);
        goto out;
    }
    c = calloc(1, sizeof(*c) + n * sizeof(c->e[0]));
    if (!c) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (spec) {
        json_object_object_foreach(spec, key, value)
        {
            struct entry *e = &c->e[c->n];

            if (is_unconstrained(key, value))
                continue;
            if (mqp_path_compile(key, &e->path, perr, sizeof(perr)) < 0) {
                if (err && errlen)
                    snprintf(err, errlen, "%.128s: %s", key, perr);
                goto out;
            }
            e->value = json_object_get(value);
            c->n++;
        }
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    mqp_criteria_free(c);
    return rc;
}

bool mqp_criteria_match(const struct mqp_criteria *c, json_object *event)
{
    if (!c)
        return true;
    for (size_t i = 0; i < c->n; i++) {
        int found;
        json_object *v = mqp_path_get(c->e[i].path, event, &found);

        if (!found || !equal(v, c->e[i].value, 0))
            return false;
    }
    return true;
}
