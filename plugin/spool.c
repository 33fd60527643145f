/*
 * Events whose stream copies may not have been routed at a stop: see spool.h. The file is a
 * JSON array of {"topic", "qos", "payload" (base64url)}, oldest first.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "b64url.h"

struct mqp_spool_entry {
    struct mqp_spool_entry *next;
    char *topic;
    unsigned char *payload;
    size_t len;
    int qos;
};

/* Entries are kept newest first; written and replayed oldest first. */
int mqp_spool_add(struct mqp_spool *s, const char *topic, const void *payload, size_t len, int qos)
{
    struct mqp_spool_entry *e = calloc(1, sizeof(*e));

    if (e == NULL || (e->topic = strdup(topic)) == NULL ||
        (len && (e->payload = malloc(len)) == NULL)) {
        if (e)
            free(e->topic);
        free(e);
        return -1;
    }
    if (len)
        memcpy(e->payload, payload, len);
    e->len = len;
    e->qos = qos;
    e->next = s->cur;
    s->cur = e;
    return 0;
}

static void free_list(struct mqp_spool_entry *e)
{
    while (e) {
        struct mqp_spool_entry *next = e->next;

        free(e->topic);
        free(e->payload);
        free(e);
        e = next;
    }
}

void mqp_spool_tick(struct mqp_spool *s)
{
    free_list(s->prev);
    s->prev = s->cur;
    s->cur = NULL;
}

void mqp_spool_clear(struct mqp_spool *s)
{
    free_list(s->prev);
    free_list(s->cur);
    s->prev = s->cur = NULL;
}

/* Append the entries of list (kept newest first) to arr, oldest first. */
static int add_list(json_object *arr, const struct mqp_spool_entry *list)
{
    const struct mqp_spool_entry *e, **v;
    size_t n = 0, i;
    int rc = -1;

    for (e = list; e; e = e->next)
        n++;
    if (n == 0)
        return 0;
    v = malloc(n * sizeof(*v));
    if (v == NULL)
        return -1;
    for (e = list, i = n; e; e = e->next)
        v[--i] = e;
    for (i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        size_t blen;
        char *b64 =
            mqp_b64url_encode(v[i]->payload ? (const void *)v[i]->payload : "", v[i]->len, &blen);

        if (o == NULL || b64 == NULL) {
            json_object_put(o);
            free(b64);
            goto cleanup;
        }
        json_object_object_add(o, "topic", json_object_new_string(v[i]->topic));
        json_object_object_add(o, "qos", json_object_new_int(v[i]->qos));
        json_object_object_add(o, "payload", json_object_new_string_len(b64, (int)blen));
        free(b64);
        if (json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(v);
    return rc;
}

int mqp_spool_save(const struct mqp_spool *s, const char *path)
{
    json_object *arr;
    const char *text;
    size_t len;
    int fd, rc = -1;

    if (s->cur == NULL && s->prev == NULL)
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    arr = json_object_new_array();
    /* prev is older than cur: cur's entries go after it */
    if (arr == NULL || add_list(arr, s->prev) != 0 || add_list(arr, s->cur) != 0)
        goto cleanup;
    text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
    len = strlen(text);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto cleanup;
    rc = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
cleanup:
    json_object_put(arr);
    return rc;
}

int mqp_spool_replay(const char *path,
                     void (*fan)(void *ctx, const char *topic, const void *payload, size_t len,
                                 int qos),
                     void *ctx)
{
    json_object *arr;
    size_t i, n;

    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    arr = json_object_from_file(path);
    if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return -1;
    }
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *t, *q, *pl;
        unsigned char *bytes;
        size_t len;

        if (!json_object_object_get_ex(o, "topic", &t) ||
            !json_object_object_get_ex(o, "qos", &q) ||
            !json_object_object_get_ex(o, "payload", &pl) ||
            !json_object_is_type(t, json_type_string) || !json_object_is_type(pl, json_type_string))
            continue;
        bytes = mqp_b64url_decode(json_object_get_string(pl),
                                  (size_t)json_object_get_string_len(pl), &len);
        if (bytes == NULL)
            continue;
        fan(ctx, json_object_get_string(t), bytes, len, json_object_get_int(q));
        free(bytes);
    }
    json_object_put(arr);
    unlink(path);
    return (int)n;
}
