/*
 * The owner's UnifiedPush messages as text/event-stream (GET /api/unifiedpush/messages): the
 * stored ones first (after Last-Event-ID), then each new one, read from the store whenever the
 * connection is woken, so replay and live delivery are one path and a slow reader holds no
 * queue (the store is the bounded queue: max_age_s). The connection waits through http/api.h's
 * api_defer(); each wake writes up to BATCH messages and waits again.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>
#include "http/api.h"
#include "upprovider/provider_int.h"

#define BATCH 32

struct upp_sse {
    struct upp_sse *prev, *next; /* up_provider.sessions */
    struct up_provider *p;
    struct conn *c;
    char tenant[132];
    char owner[MQP_OWNER_KEY_LEN + 1];
    int64_t sent; /* the newest message id written (or acknowledged) */
    int64_t exp;  /* the token's exp: the stream ends then */
    uint64_t last_write_ms;
    bool beat; /* a heartbeat is due */
    bool dead; /* end at the next wake */
};

/* Growable output of one wake. */
struct out {
    unsigned char *buf; /* LWS_PRE headroom first */
    size_t len, cap;
    int64_t last;
    bool failed;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (LWS_PRE + o->len + n > o->cap) {
        size_t cap = (LWS_PRE + o->len + n) * 2;
        unsigned char *b = realloc(o->buf, cap);

        if (b == NULL) {
            o->failed = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + LWS_PRE + o->len, s, n);
    o->len += n;
}

/* "id", "event", "data" of one message (WHATWG HTML 9.2: the event stream format). */
static int frame(void *ctx, const struct store_up_msg *m)
{
    struct out *o = ctx;
    char head[96], *b64 = malloc(4 * ((m->body_len + 2) / 3) + 1);
    json_object *d = json_object_new_object();
    const char *js;

    if (b64 == NULL || d == NULL) {
        o->failed = true;
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)b64, m->body, (int)m->body_len);
    json_object_object_add(d, "endpoint", json_object_new_string(m->endpoint));
    json_object_object_add(d, "body", json_object_new_string(b64));
    json_object_object_add(d, "id", json_object_new_int64(m->id));
    js = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
    snprintf(head, sizeof(head), "id: %lld\nevent: unifiedpush:message\ndata: ", (long long)m->id);
    out_add(o, head, strlen(head));
    out_add(o, js, strlen(js));
    out_add(o, "\n\n", 2);
    o->last = m->id;
out:
    free(b64);
    json_object_put(d);
    return o->failed ? -1 : 0;
}

static void sse_free(struct upp_sse *s)
{
    DL_DELETE(s->p->sessions, s);
    free(s);
}

static void abandon(void *arg)
{
    sse_free(arg);
}

static int resume(struct conn *c, void *arg)
{
    struct upp_sse *s = arg;
    struct store *st = c->b->store;
    struct out o = {0};
    int n = 0;

    if (s->dead || st == NULL)
        goto fail;
    n = st->ops->up_msg_each(st, s->tenant, s->owner, s->sent, BATCH, frame, &o);
    if (n < 0 || o.failed)
        goto fail;
    if (o.len == 0 && s->beat)
        out_add(&o, ":\n\n", 3);
    s->beat = false;
    if (o.len > 0) {
        if (o.failed || lws_write(c->wsi, o.buf + LWS_PRE, o.len, LWS_WRITE_HTTP) < 0)
            goto fail;
        s->last_write_ms = bridge_now_ms(c->b);
        if (o.last > s->sent)
            s->sent = o.last;
    }
    free(o.buf);
    api_defer(c, resume, abandon, s);
    /* A full batch may have more behind it; what lws could not send yet asks for writable on
     * its own, and this wake follows it. */
    if (n == BATCH)
        api_wake(c);
    return 0;
fail:
    free(o.buf);
    /* The connection closes: api_closed() will not call abandon for us any more. */
    sse_free(s);
    return -1;
}

static int sse_headers(struct conn *c)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;

    c->b->metrics.http_requests++;
    if (lws_add_http_common_headers(c->wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                    &p, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-cache", 8, &p, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"access-control-allow-origin:",
                                    (const unsigned char *)"*", 1, &p, end))
        return -1;
    return lws_finalize_write_http_header(c->wsi, start, &p, end) ? -1 : 0;
}

/* Last-Event-ID (header, or ?last_event_id= for clients that cannot set headers): -1 none,
 * -2 malformed, else the id. */
static int64_t last_event_id(struct conn *c)
{
    char buf[32], *end;
    long long v;

    if (http_last_event_id(c->wsi, buf, sizeof(buf)) < 0 &&
        http_query_arg(c->wsi, "last_event_id", buf, sizeof(buf)) < 0)
        return -1;
    v = strtoll(buf, &end, 10);
    return end == buf || *end != '\0' || v < 0 ? -2 : (int64_t)v;
}

int upp__sse_open(struct up_provider *p, struct conn *c)
{
    struct store *st = p->b->store;
    struct http_caller who;
    char owner[MQP_OWNER_KEY_LEN + 1];
    struct upp_sse *s;
    int64_t last;
    int rc = -1;

    if (upp__caller(c, &who, owner, &rc) != 0)
        return rc;
    if (!http_accepts_event_stream(c->wsi)) {
        rc = http_reply_error(c, 406, "not_acceptable", "this resource speaks text/event-stream");
        goto out;
    }
    last = last_event_id(c);
    if (last == -2) {
        rc = http_reply_error(c, 400, "bad_request", "Last-Event-ID is a message id");
        goto out;
    }
    /* Reconnecting with Last-Event-ID says the messages up to it arrived (see
     * docs/unifiedpush.md): they are deleted, as by POST .../messages/ack. */
    if (last > 0 && st->ops->up_msg_ack(st, who.id->tenant, owner, last) < 0) {
        rc = http_reply_error(c, 500, "store_error", "the store failed");
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto out;
    s->p = p;
    s->c = c;
    snprintf(s->tenant, sizeof(s->tenant), "%s", who.id->tenant);
    memcpy(s->owner, owner, sizeof(owner));
    s->sent = last > 0 ? last : 0;
    s->exp = who.id->exp;
    s->last_write_ms = bridge_now_ms(p->b);
    if (sse_headers(c) != 0) {
        free(s);
        goto out;
    }
    DL_APPEND(p->sessions, s);
    /* A stream never ends on its own: no idle timeout, and the request headers are not needed
     * any more. */
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    lws_http_headers_detach(c->wsi);
    api_defer(c, resume, abandon, s);
    api_wake(c);
    rc = 0;
out:
    http_caller_clear(&who);
    return rc;
}

void upp__sse_notify(struct up_provider *p, const char *tenant, const char *owner)
{
    struct upp_sse *s;

    DL_FOREACH(p->sessions, s)
    {
        if (strcmp(s->owner, owner) == 0 && strcmp(s->tenant, tenant) == 0)
            api_wake(s->c);
    }
}

void upp__sse_tick(struct up_provider *p, uint64_t now_ms)
{
    int64_t now_s = upp__wall_ms() / 1000;
    uint64_t hb = p->b->cfg->sse.heartbeat_ms;
    struct upp_sse *s;

    DL_FOREACH(p->sessions, s)
    {
        if (s->exp != INT64_MAX && s->exp <= now_s)
            s->dead = true; /* the token expired: the client comes back with a new one */
        else if (now_ms - s->last_write_ms >= hb)
            s->beat = true;
        else
            continue;
        api_wake(s->c);
    }
}
