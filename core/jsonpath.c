/*
 * Dotted paths with lodash get() semantics, restricted to JSON structure.
 *
 * Grammar (a strict subset of what lodash's stringToPath accepts; the rest is a configuration
 * error here rather than a silently odd path):
 *   path    = first *( "." ident / "[" bracket "]" )
 *   first   = ident / "[" bracket "]"
 *   ident   = 1*( any byte except "." "[" "]" )
 *   bracket = quoted / 1*( any byte except "]" "[" ), not starting with a quote
 *   quoted  = '"' *( char / "\" any ) '"'  /  "'" *( char / "\" any ) "'"
 * A backslash inside quotes keeps the next byte literally, as lodash's reEscapeChar does.
 */
#include "jsonpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JavaScript array indexes stop at 2^32 - 2 (ECMA-262 "array index"). */
#define MAX_ARRAY_INDEX 4294967294UL

#define STR_(x) #x
#define STR(x) STR_(x)

struct segment {
    const char *key; /* NUL-terminated, points into the path's key storage */
    size_t len;
    size_t index;  /* valid when is_index */
    bool is_index; /* canonical decimal, so it also selects an array element */
};

struct mqp_path {
    const char *text;
    /* More than a plain key: lodash then first tries the whole text as a key of the root. */
    bool deep;
    size_t n;
    struct segment seg[];
};

struct parse_state {
    const char *text;
    size_t pos;
    size_t n;
    struct segment seg[MQP_PATH_MAX_SEGMENTS];
    size_t key_off[MQP_PATH_MAX_SEGMENTS];
    char keys[MQP_PATH_MAX_LEN + MQP_PATH_MAX_SEGMENTS];
    size_t keys_len;
    char *err;
    size_t errlen;
};

static int fail(struct parse_state *ps, const char *what)
{
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "path \"%.64s\": %s at offset %zu", ps->text, what, ps->pos);
    return -1;
}

/* "0" or [1-9][0-9]* up to MAX_ARRAY_INDEX: the keys JavaScript treats as array indexes. */
static bool parse_index(const char *s, size_t len, size_t *out)
{
    unsigned long v = 0;

    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > MAX_ARRAY_INDEX)
        return false;
    *out = (size_t)v;
    return true;
}

/* Start a segment whose key bytes will be appended to ps->keys. */
static int begin_segment(struct parse_state *ps)
{
    if (ps->n == MQP_PATH_MAX_SEGMENTS)
        return fail(ps, "too many segments (max " STR(MQP_PATH_MAX_SEGMENTS) ")");
    ps->key_off[ps->n] = ps->keys_len;
    return 0;
}

static void end_segment(struct parse_state *ps)
{
    struct segment *sg = &ps->seg[ps->n];
    const char *key = ps->keys + ps->key_off[ps->n];

    sg->len = ps->keys_len - ps->key_off[ps->n];
    sg->is_index = parse_index(key, sg->len, &sg->index);
    ps->keys[ps->keys_len++] = '\0';
    ps->n++;
}

static int parse_ident(struct parse_state *ps)
{
    const char *t = ps->text;

    if (begin_segment(ps) < 0)
        return -1;
    while (t[ps->pos] && t[ps->pos] != '.' && t[ps->pos] != '[' && t[ps->pos] != ']')
        ps->keys[ps->keys_len++] = t[ps->pos++];
    if (ps->keys_len == ps->key_off[ps->n])
        return fail(ps, "empty segment");
    end_segment(ps);
    return 0;
}

/* Called with ps->pos just after '['; leaves it just after the matching ']'. */
static int parse_bracket(struct parse_state *ps)
{
    const char *t = ps->text;
    char quote = t[ps->pos];

    if (begin_segment(ps) < 0)
        return -1;
    if (quote == '"' || quote == '\'') {
        ps->pos++;
        while (t[ps->pos] && t[ps->pos] != quote) {
            if (t[ps->pos] == '\\' && t[ps->pos + 1])
                ps->pos++;
            ps->keys[ps->keys_len++] = t[ps->pos++];
        }
        if (t[ps->pos] != quote)
            return fail(ps, "unterminated quoted key");
        ps->pos++;
        /* An explicitly quoted "" names the empty key, which JSON allows. */
    } else {
        while (t[ps->pos] && t[ps->pos] != ']' && t[ps->pos] != '[')
            ps->keys[ps->keys_len++] = t[ps->pos++];
        if (ps->keys_len == ps->key_off[ps->n])
            return fail(ps, t[ps->pos] == ']' ? "empty brackets" : "unbalanced '['");
    }
    if (t[ps->pos] != ']')
        return fail(ps, "unbalanced '['");
    ps->pos++;
    end_segment(ps);
    return 0;
}

static int parse(struct parse_state *ps)
{
    const char *t = ps->text;

    if (t[0] == '[') {
        ps->pos = 1;
        if (parse_bracket(ps) < 0)
            return -1;
    } else if (parse_ident(ps) < 0) {
        return -1;
    }
    while (t[ps->pos]) {
        char c = t[ps->pos++];

        if (c == '.') {
            if (parse_ident(ps) < 0)
                return -1;
        } else if (c == '[') {
            if (parse_bracket(ps) < 0)
                return -1;
        } else {
            ps->pos--;
            return fail(ps, c == ']' ? "unbalanced ']'" : "expected '.' or '[' after ']'");
        }
    }
    return 0;
}

int mqp_path_compile(const char *text, struct mqp_path **out, char *err, size_t errlen)
{
    struct parse_state *ps = NULL;
    struct mqp_path *p = NULL;
    size_t text_len, size;
    char *keys, *copy;
    int rc = -1;

    *out = NULL;
    if (!text || !*text) {
        if (err && errlen)
            snprintf(err, errlen, "empty path");
        goto out;
    }
    text_len = strlen(text);
    if (text_len > MQP_PATH_MAX_LEN) {
        if (err && errlen)
            snprintf(err, errlen, "path longer than %d bytes", MQP_PATH_MAX_LEN);
        goto out;
    }
    ps = calloc(1, sizeof(*ps));
    if (!ps) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    ps->text = text;
    ps->err = err;
    ps->errlen = errlen;
    if (parse(ps) < 0)
        goto out;

    /* One block: header, segments, key bytes, then the text. */
    size = sizeof(*p) + ps->n * sizeof(p->seg[0]) + ps->keys_len + text_len + 1;
    p = malloc(size);
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    keys = (char *)&p->seg[ps->n];
    memcpy(keys, ps->keys, ps->keys_len);
    copy = keys + ps->keys_len;
    memcpy(copy, text, text_len + 1);
    p->text = copy;
    p->n = ps->n;
    for (size_t i = 0; i < ps->n; i++) {
        p->seg[i] = ps->seg[i];
        p->seg[i].key = keys + ps->key_off[i];
    }
    p->deep = ps->n > 1 || ps->seg[0].len != text_len;
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(p);
    free(ps);
    return rc;
}

void mqp_path_free(struct mqp_path *path)
{
    free(path);
}

const char *mqp_path_text(const struct mqp_path *path)
{
    return path ? path->text : NULL;
}

json_object *mqp_path_get(const struct mqp_path *path, json_object *root, int *found)
{
    json_object *cur = root, *whole;
    int dummy;

    if (!found)
        found = &dummy;
    *found = 0;
    if (!path)
        return NULL;
    /* lodash isKey(): a key of the root spelled exactly like the path text wins. */
    if (path->deep && json_object_is_type(root, json_type_object) &&
        json_object_object_get_ex(root, path->text, &whole)) {
        *found = 1;
        return whole;
    }
    for (size_t i = 0; i < path->n; i++) {
        const struct segment *sg = &path->seg[i];

        switch (json_object_get_type(cur)) {
        case json_type_object:
            if (!json_object_object_get_ex(cur, sg->key, &cur))
                return NULL;
            break;
        case json_type_array:
            if (!sg->is_index || sg->index >= json_object_array_length(cur))
                return NULL;
            cur = json_object_array_get_idx(cur, sg->index);
            break;
        default:
            /* Scalars and null have no members; lodash gives undefined. */
            return NULL;
        }
    }
    *found = 1;
    return cur;
}
