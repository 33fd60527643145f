/*
 * Poll delivery of SETs (RFC 8936): POST <issuer>/poll/<stream_id>, authenticated like the
 * stream management API (bearer token of the tenant, or a service token, with role
 * ssf-receiver). The request (2.1):
 *   {"maxEvents": n, "returnImmediately": bool, "ack": [jti...], "setErrs": {jti: {err,
 *    description}}}
 * Acknowledged SETs and those reported in setErrs (counted per stream, logged) leave the
 * outbox first (2.4: neither is sent again). Then up to maxEvents pending SETs (default 100,
 * at most 1000; 0 acknowledges only) are signed on libuv's thread pool and answered (2.2):
 *   {"sets": {jti: SET...}, "moreAvailable": bool}
 * A SET not acknowledged is offered again by the next poll (at-least-once, same jti). Without
 * a pending SET, and unless returnImmediately is true (the default is false: 2.1), the request
 * waits up to poll_wait_s for one (long polling, 2.3) and then answers with no SETs.
 * A paused stream answers no SETs (they are held); a disabled one has none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/api.h"
#include "ssf/delivery_int.h"
#include "ssf/set_make.h"
#include "ssf/transmitter_int.h"
#include "ssf/tx_keys.h"

#define DEFAULT_EVENTS 100
#define MAX_EVENTS 1000

enum wait_state { W_WAIT, W_SIGN, W_READY };

struct ssf_poll_wait {
    struct ssf_delivery *d;
    struct ssf_dstream *ds;
    struct conn *c;
    enum wait_state state;
    bool abandoned, listed;
    unsigned max;
    uv_timer_t timer;
    uv_work_t work;
    size_t n;
    char **jtis, **claims, **sets;
    bool more;
    EVP_PKEY *key;
    char *kid;
    char *reply; /* JSON text */
    struct ssf_poll_wait *next;
};

static void on_closed(uv_handle_t *h)
{
    struct ssf_poll_wait *w = h->data;

    for (size_t i = 0; i < w->n; i++) {
        free(w->jtis[i]);
        free(w->claims[i]);
        free(w->sets ? w->sets[i] : NULL);
    }
    free(w->jtis);
    free(w->claims);
    free(w->sets);
    EVP_PKEY_free(w->key);
    free(w->kid);
    free(w->reply);
    free(w);
}

static void unlist(struct ssf_poll_wait *w)
{
    struct ssf_poll_wait **pp;

    if (!w->listed)
        return;
    for (pp = &w->ds->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    w->listed = false;
}

static void release(struct ssf_poll_wait *w)
{
    unlist(w);
    uv_close((uv_handle_t *)&w->timer, on_closed);
}

static bool stream_enabled(struct ssf_delivery *d, struct ssf_dstream *ds)
{
    struct store_ssf_stream s = {0};
    bool on = d->b->store->ops->ssf_stream_get(d->b->store, ds->tenant, ds->id, &s) == 1 &&
              strcmp(s.status, "enabled") == 0;

    store_ssf_stream_clear(&s);
    return on;
}

static void make_reply(struct ssf_poll_wait *w)
{
    json_object *o = json_object_new_object(), *sets = json_object_new_object();

    for (size_t i = 0; i < w->n; i++)
        if (w->sets && w->sets[i])
            json_object_object_add(sets, w->jtis[i], json_object_new_string(w->sets[i]));
    json_object_object_add(o, "sets", sets);
    json_object_object_add(o, "moreAvailable", json_object_new_boolean(w->more));
    w->reply = strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    w->state = W_READY;
    api_wake(w->c);
}

static void work_sign(uv_work_t *work)
{
    struct ssf_poll_wait *w = work->data;

    for (size_t i = 0; i < w->n; i++)
        w->sets[i] = ssf_set_sign(w->claims[i], w->key, w->kid);
}

static void after_sign(uv_work_t *work, int status)
{
    struct ssf_poll_wait *w = work->data;

    (void)status;
    if (w->abandoned) {
        release(w);
        return;
    }
    make_reply(w);
}

/* Take up to max pending SETs of the stream and sign them off the loop. */
static void collect(struct ssf_poll_wait *w)
{
    struct ssf_delivery *d = w->d;
    struct ssf_item *it;
    const char *kid = NULL;
    EVP_PKEY *key;
    size_t n = 0;

    unlist(w);
    uv_timer_stop(&w->timer);
    if (stream_enabled(d, w->ds))
        for (it = w->ds->head; it && n < w->max; it = it->next)
            n++;
    w->jtis = calloc(n + 1, sizeof(char *));
    w->claims = calloc(n + 1, sizeof(char *));
    w->sets = calloc(n + 1, sizeof(char *));
    if (w->jtis == NULL || w->claims == NULL || w->sets == NULL)
        n = 0;
    for (it = w->ds->head; it && w->n < n; it = it->next) {
        w->jtis[w->n] = strdup(it->jti);
        w->claims[w->n] = strdup(it->claims);
        w->n++;
        if (w->jtis[w->n - 1] == NULL || w->claims[w->n - 1] == NULL)
            break;
    }
    w->more = n > 0 && w->ds->n > w->n;
    key = ssf_tx_keys_current(d->b->ssf_transmitter->keys, &kid);
    w->kid = kid ? strdup(kid) : NULL;
    if (w->n > 0 && w->kid && EVP_PKEY_up_ref(key) == 1) {
        w->key = key;
        w->state = W_SIGN;
        w->work.data = w;
        if (uv_queue_work(d->b->loop, &w->work, work_sign, after_sign) == 0)
            return;
    }
    make_reply(w); /* nothing to send, or nothing could be signed: an empty answer */
}

static void on_timeout(uv_timer_t *t)
{
    struct ssf_poll_wait *w = t->data;

    unlist(w);
    make_reply(w);
}

static int resume(struct conn *c, void *arg)
{
    struct ssf_poll_wait *w = arg;
    int rc = w->reply ? http_reply(c, 200, "application/json", w->reply, strlen(w->reply), NULL)
                      : http_reply_error(c, 500, "internal", "out of memory");

    release(w);
    return rc;
}

static void abandon(void *arg)
{
    struct ssf_poll_wait *w = arg;

    w->abandoned = true;
    if (w->state != W_SIGN)
        release(w);
}

void ssf__poll_wake(struct ssf_delivery *d, struct ssf_dstream *ds)
{
    struct ssf_poll_wait *w;

    (void)d;
    while ((w = ds->waiters) != NULL)
        collect(w);
}

void ssf__poll_close(struct ssf_delivery *d, struct ssf_dstream *ds)
{
    struct ssf_poll_wait *w;

    (void)d;
    /* Answer what waits now: the server is going away. */
    while ((w = ds->waiters) != NULL) {
        unlist(w);
        uv_timer_stop(&w->timer);
        make_reply(w);
    }
}

/* ack and setErrs (RFC 8936 2.4): out of the queue and the outbox. */
static void settle(struct ssf_delivery *d, struct ssf_dstream *ds, const char *jti, bool error)
{
    struct store *st = d->b->store;
    struct ssf_item *it;

    for (it = ds->head; it; it = it->next)
        if (strcmp(it->jti, jti) == 0)
            break;
    if (it) {
        ssf__item_remove(d, ds, it, true);
        d->b->metrics
            .push[METRICS_PUSH_SET][error ? METRICS_PUSH_REJECTED : METRICS_PUSH_DELIVERED]++;
    } else if (st->ops->ssf_out_delete_jti(st, ds->id, jti) < 0) {
        fprintf(stderr, "mqpush-bridge: ssf: cannot delete SET %s from the outbox\n", jti);
    }
}

/* The request's members, checked (RFC 8936 2.1). NULL, or what is wrong. */
static const char *check(json_object *body, json_object **ack, json_object **errs, unsigned *max,
                         bool *now)
{
    json_object *v;

    *ack = *errs = NULL;
    *max = DEFAULT_EVENTS;
    *now = false;
    if (body == NULL)
        return NULL;
    if (json_object_object_get_ex(body, "maxEvents", &v)) {
        int64_t n = json_object_get_int64(v);

        if (!json_object_is_type(v, json_type_int) || n < 0)
            return "maxEvents must be a non-negative integer";
        *max = n > MAX_EVENTS ? MAX_EVENTS : (unsigned)n;
    }
    if (json_object_object_get_ex(body, "returnImmediately", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return "returnImmediately must be a boolean";
        *now = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(body, "ack", ack)) {
        if (!json_object_is_type(*ack, json_type_array))
            return "ack must be an array of jti";
        for (size_t i = 0; i < json_object_array_length(*ack); i++)
            if (!json_object_is_type(json_object_array_get_idx(*ack, i), json_type_string))
                return "ack must be an array of jti";
    }
    if (json_object_object_get_ex(body, "setErrs", errs)) {
        if (!json_object_is_type(*errs, json_type_object))
            return "setErrs must be an object of jti: {err, description}";
        json_object_object_foreach(*errs, k, e)
        {
            (void)k;
            if (!json_object_is_type(e, json_type_object))
                return "setErrs must be an object of jti: {err, description}";
        }
    }
    return NULL;
}

static bool is_polled(const struct store_ssf_stream *s)
{
    json_object *cfg = json_tokener_parse(s->config), *dl, *m;
    bool poll = cfg && json_object_object_get_ex(cfg, "delivery", &dl) &&
                json_object_object_get_ex(dl, "method", &m) &&
                strcmp(json_object_get_string(m), SSF_DELIVERY_POLL) == 0;

    json_object_put(cfg);
    return poll;
}

int ssf__poll_api(struct conn *c, const char *tenant, const char *stream_id, json_object *body)
{
    struct ssf_delivery *d = ssf__delivery(c->b);
    struct store_ssf_stream s = {0};
    struct ssf_dstream *ds;
    struct ssf_poll_wait *w;
    json_object *ack, *errs, *v;
    const char *why;
    unsigned max;
    bool now;
    int found;

    if (lws_hdr_total_length(c->wsi, WSI_TOKEN_POST_URI) <= 0)
        return http_reply_error(c, 405, "method_not_allowed", "use POST");
    if (d == NULL)
        return http_reply_error(c, 404, "not_found", "no such path");
    found = c->b->store->ops->ssf_stream_get(c->b->store, tenant, stream_id, &s);
    if (found <= 0)
        return found < 0 ? http_reply_error(c, 500, "internal", "the store could not be read")
                         : http_reply_error(c, 404, "not_found", "no such stream");
    if (!is_polled(&s)) {
        store_ssf_stream_clear(&s);
        return http_reply_error(c, 400, "invalid_request", "the stream is not delivered by poll");
    }
    store_ssf_stream_clear(&s);
    if ((why = check(body, &ack, &errs, &max, &now)) != NULL)
        return http_reply_error(c, 400, "invalid_request", why);
    ds = ssf__dstream(d, tenant, stream_id);
    if (ds == NULL)
        return http_reply_error(c, 500, "internal", "out of memory");
    for (size_t i = 0; ack && i < json_object_array_length(ack); i++)
        settle(d, ds, json_object_get_string(json_object_array_get_idx(ack, i)), false);
    if (errs) {
        json_object_object_foreach(errs, jti, e)
        {
            const char *err =
                json_object_object_get_ex(e, "err", &v) ? json_object_get_string(v) : "";
            const char *desc =
                json_object_object_get_ex(e, "description", &v) ? json_object_get_string(v) : "";

            ds->errors[ssf__err_code(err)]++;
            fprintf(stderr,
                    "mqpush-bridge: ssf: stream %s: receiver reports SET %.200s: %.64s%s%.200s\n",
                    ds->id, jti, err, desc[0] ? ": " : "", desc);
            settle(d, ds, jti, true);
        }
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return http_reply_error(c, 500, "internal", "out of memory");
    w->d = d;
    w->ds = ds;
    w->c = c;
    w->max = max;
    uv_timer_init(c->b->loop, &w->timer);
    w->timer.data = w;
    api_defer(c, resume, abandon, w);
    if (max == 0) {
        /* acknowledgement only (2.4.1): no SETs, whether more wait */
        w->more = ds->n > 0;
        make_reply(w);
    } else if (now || (ds->n > 0 && stream_enabled(d, ds)) || d->closing) {
        collect(w);
    } else {
        w->next = ds->waiters;
        ds->waiters = w;
        w->listed = true;
        uv_timer_start(&w->timer, on_timeout, (uint64_t)c->b->cfg->ssf.tx.poll_wait_s * 1000, 0);
    }
    return 0;
}
