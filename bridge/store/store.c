/*
 * Store URLs and engine choice. Engines register here; the rest of the bridge sees only
 * struct store and its ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "store.h"
#include "store_int.h"

/* By URL scheme; libpq takes both spellings of its URIs (RFC 3986 scheme "postgresql"). */
static const struct {
    const char *scheme;
    const struct store_ops *ops;
} engines[] = {
    {"sqlite", &store__sqlite_ops},
    {"postgresql", &store__pg_ops},
    {"postgres", &store__pg_ops},
};

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    size_t scheme_len;
    const char *location;

    *out = NULL;
    if (url && strcmp(url, "sqlite::memory:") == 0)
        return store__sqlite_ops.open(":memory:", out, err, errlen);
    if (sep == NULL) {
        mqp_errmsg(err, errlen, "store URL \"%.200s\" has no scheme", url ? url : "");
        return -1;
    }
    scheme_len = (size_t)(sep - url);
    location = sep + 3;
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        if (strlen(engines[i].scheme) == scheme_len &&
            memcmp(engines[i].scheme, url, scheme_len) == 0) {
            if (*location == '\0') {
                mqp_errmsg(err, errlen, "store URL \"%.200s\" names no location", url);
                return -1;
            }
            /* a connection URI is for libpq to read whole: its scheme is part of it */
            return engines[i].ops->open(engines[i].ops == &store__pg_ops ? url : location, out, err,
                                        errlen);
        }
    }
    mqp_errmsg(err, errlen, "store URL scheme \"%.*s\" is not supported", (int)scheme_len, url);
    return -1;
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

void store_set_node(struct store *st, const char *node)
{
    snprintf(st->node, sizeof(st->node), "%s", node ? node : "");
}

int store_schema_latest(void)
{
    return store__sqlite_schema_latest();
}

void store_sub_clear(struct store_sub *s)
{
    if (s == NULL)
        return;
    free(s->channel);
    free(s->endpoint);
    free(s->vapid_key);
    free(s->tenant);
    free(s->stream);
    free(s->user);
    free(s->session);
    free(s->identity);
    memset(s, 0, sizeof(*s));
}

void store_msg_clear(struct store_msg *m)
{
    if (m == NULL)
        return;
    free(m->event_id);
    free(m->body);
    memset(m, 0, sizeof(*m));
}

void store_ssf_stream_clear(struct store_ssf_stream *s)
{
    if (s == NULL)
        return;
    free(s->id);
    free(s->tenant);
    free(s->aud);
    free(s->config);
    free(s->status);
    free(s->reason);
    memset(s, 0, sizeof(*s));
}

void store_ssf_out_clear(struct store_ssf_out *o)
{
    if (o == NULL)
        return;
    free(o->stream_id);
    free(o->jti);
    free(o->claims);
    memset(o, 0, sizeof(*o));
}
