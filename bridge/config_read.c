/*
 * The bridge.json reader's shared steps: reporting problems with their JSON paths (all of
 * them, up to a limit) and reading typed values, used by config.c and the channel sections.
 */
#include "config.h"
#include "config_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRIDGE_CONFIG_MAX_ERRORS 100

/* Append "<path>: <message>"; past BRIDGE_CONFIG_MAX_ERRORS only count (see finish_report). */
static void append(struct bridge_config_ctx *x, const char *path, const char *msg)
{
    size_t len = strlen(path) + strlen(msg) + 3;
    char *line = malloc(len), **grown;

    if (line == NULL)
        return;
    grown = realloc(x->errs->msgs, (x->errs->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        free(line);
        return;
    }
    snprintf(line, len, "%s: %s", path, msg);
    x->errs->msgs = grown;
    x->errs->msgs[x->errs->n++] = line;
}

void bridge_config__report(struct bridge_config_ctx *x, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    x->n++;
    if (x->errs == NULL || x->n_listed >= BRIDGE_CONFIG_MAX_ERRORS)
        return;
    x->n_listed++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    append(x, path, msg);
}

void bridge_config__finish_report(struct bridge_config_ctx *x)
{
    char msg[64];

    if (x->errs == NULL || x->n <= x->n_listed)
        return;
    snprintf(msg, sizeof(msg), "%zu more errors not listed", x->n - x->n_listed);
    append(x, "$", msg);
}

void bridge_config__check_keys(struct bridge_config_ctx *x, json_object *obj, const char *path,
                               const char *const *known)
{
    json_object_object_foreach(obj, key, val)
    {
        size_t i;
        bool ok = false;

        (void)val;
        for (i = 0; known[i]; i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            bridge_config__report(x, path, "unknown key \"%s\"", key);
    }
}

json_object *bridge_config__get_object(struct bridge_config_ctx *x, json_object *obj,
                                       const char *key, const char *path)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    if (!json_object_is_type(v, json_type_object)) {
        bridge_config__report(x, path, "must be an object");
        return NULL;
    }
    return v;
}

/* *out: copy of the non-empty string at key, NULL when absent or wrong (then reported). */
void bridge_config__get_string(struct bridge_config_ctx *x, json_object *obj, const char *key,
                               const char *path, char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return;
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        bridge_config__report(x, path, "must be a non-empty string");
        return;
    }
    /* C strings end at the first NUL: "a\u0000b" would silently become "a". */
    if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
        bridge_config__report(x, path, "must not contain NUL characters");
        return;
    }
    *out = strdup(json_object_get_string(v));
    if (*out == NULL)
        bridge_config__report(x, path, "out of memory");
}

/*
 * *out = the integer at key when it lies in [min, max]; unchanged when absent. JSON Schema's
 * "integer" is a number without a fractional part, so 1e3 and 8192.0 count as integers too
 * (json-c parses them as doubles).
 */
void bridge_config__get_uint(struct bridge_config_ctx *x, json_object *obj, const char *key,
                             const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
    json_object *v;
    bool ok = false;
    uint64_t n = 0;

    if (!json_object_object_get_ex(obj, key, &v))
        return;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);

        ok = i >= 0;
        n = (uint64_t)i;
    } else if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);

        /* NaN and infinities fail the comparisons; the cast is done only within range. */
        ok = d >= 0 && d <= (double)max && (double)(uint64_t)d == d;
        n = ok ? (uint64_t)d : 0;
    }
    if (!ok || n < min || n > max) {
        bridge_config__report(x, path, "must be an integer between %llu and %llu",
                              (unsigned long long)min, (unsigned long long)max);
        return;
    }
    *out = n;
}

char *bridge_config__join_path(const char *dir, const char *file)
{
    size_t len;
    char *p;

    if (file[0] == '/')
        return strdup(file);
    len = strlen(dir) + strlen(file) + 2;
    p = malloc(len);
    if (p)
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
    return p;
}
void bridge_config__get_bool(struct bridge_config_ctx *x, json_object *obj, const char *key,
                             const char *path, bool *out)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return;
    if (!json_object_is_type(v, json_type_boolean)) {
        bridge_config__report(x, path, "must be a boolean");
        return;
    }
    *out = json_object_get_boolean(v);
}
