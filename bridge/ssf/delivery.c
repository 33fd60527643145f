/*
 * SET delivery: the fan-out of a stream event to the SSF streams of its tenant, and the
 * per-stream queues. A SET is written to the store's outbox before the broker's
 * acknowledgement goes out (the link acknowledges QoS 1 after on_message returns), so a crash
 * after that loses nothing; its jti comes from the event id, so the broker's redelivery of an
 * event already stored is recognised by the outbox's (stream, jti) key and not sent twice.
 */
#include "ssf/delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "broker/link.h"
#include "event.h"
#include "jsonpath.h"
#include "ssf/delivery_int.h"
#include "ssf/set_make.h"
#include "ssf/transmitter_int.h"
#include "topic.h"

int64_t ssf__wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ssf_delivery *ssf__delivery(const struct bridge *b)
{
    return b->ssf_transmitter ? b->ssf_transmitter->delivery : NULL;
}

struct ssf_dstream *ssf__dstream_find(struct ssf_delivery *d, const char *id)
{
    struct ssf_dstream *ds = NULL;

    HASH_FIND_STR(d->streams, id, ds);
    return ds;
}

struct ssf_dstream *ssf__dstream(struct ssf_delivery *d, const char *tenant, const char *id)
{
    struct ssf_dstream *ds = ssf__dstream_find(d, id);

    if (ds)
        return ds;
    ds = calloc(1, sizeof(*ds));
    if (ds == NULL || (ds->id = strdup(id)) == NULL || (ds->tenant = strdup(tenant)) == NULL) {
        if (ds)
            free(ds->id);
        free(ds);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, d->streams, ds->id, strlen(ds->id), ds);
    return ds;
}

static void item_free(struct ssf_item *it)
{
    if (it) {
        free(it->jti);
        free(it->claims);
        free(it);
    }
}

static void item_append(struct ssf_delivery *d, struct ssf_dstream *ds, struct ssf_item *it)
{
    it->next = NULL;
    if (ds->tail)
        ds->tail->next = it;
    else
        ds->head = it;
    ds->tail = it;
    ds->n++;
    d->pending++;
}

void ssf__item_remove(struct ssf_delivery *d, struct ssf_dstream *ds, struct ssf_item *it,
                      bool drop_row)
{
    struct ssf_item **pp, *prev = NULL;
    struct store *st = d->b->store;

    for (pp = &ds->head; *pp; prev = *pp, pp = &(*pp)->next) {
        if (*pp != it)
            continue;
        *pp = it->next;
        if (ds->tail == it)
            ds->tail = prev;
        ds->n--;
        d->pending--;
        break;
    }
    if (drop_row && st->ops->ssf_out_delete(st, it->id) != 0)
        fprintf(stderr, "mqpush-bridge: ssf: cannot delete SET %s from the outbox\n", it->jti);
    item_free(it);
}

void ssf__drop_all(struct ssf_delivery *d, struct ssf_dstream *ds)
{
    struct ssf_item *it = ds->head, *next;

    if (ds->sending && it)
        it = it->next; /* its transfer decides; the next pump drops it */
    for (; it; it = next) {
        next = it->next;
        ssf__item_remove(d, ds, it, true);
    }
}

enum ssf_err_code ssf__err_code(const char *err)
{
    static const char *const names[] = {"invalid_request",       "invalid_key",
                                        "invalid_issuer",        "invalid_audience",
                                        "authentication_failed", "access_denied"};

    for (size_t i = 0; err && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(err, names[i]) == 0)
            return (enum ssf_err_code)i;
    return SSF_ERR_OTHER;
}

/* Store rows (one transaction) and queue those that are new. 0 or -1. */
static int enqueue(struct ssf_delivery *d, struct store_ssf_out *rows, struct ssf_dstream **dss,
                   size_t n)
{
    struct store *st = d->b->store;

    if (n == 0)
        return 0;
    if (st->ops->ssf_out_add(st, rows, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct ssf_item *it;

        if (rows[i].id == 0) /* already in the outbox: a redelivery by the broker */
            continue;
        it = calloc(1, sizeof(*it));
        if (it == NULL || (it->jti = strdup(rows[i].jti)) == NULL ||
            (it->claims = strdup(rows[i].claims)) == NULL) {
            /* in the outbox: sent after a restart */
            item_free(it);
            continue;
        }
        it->id = rows[i].id;
        it->created_ms = rows[i].created_ms;
        it->due_ms = rows[i].due_ms;
        item_append(d, dss[i], it);
        ssf__poll_wake(d, dss[i]);
    }
    ssf__push_pump(d);
    return 0;
}

/* A row for stream s with the claims of in; 0 or -1. rows[*n] and dss[*n] filled. */
static int add_row(struct ssf_delivery *d, const struct store_ssf_stream *s,
                   const struct ssf_set_in *in, struct store_ssf_out *row, struct ssf_dstream **ds,
                   int64_t now_ms)
{
    json_object *claims = ssf_set_make(in);
    const char *text;

    *ds = ssf__dstream(d, s->tenant, s->id);
    if (claims == NULL || *ds == NULL ||
        (text = json_object_to_json_string_ext(
             claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL ||
        (row->claims = strdup(text)) == NULL || (row->jti = strdup(in->jti)) == NULL ||
        (row->stream_id = strdup(s->id)) == NULL) {
        json_object_put(claims);
        return -1;
    }
    json_object_put(claims);
    row->created_ms = row->due_ms = now_ms;
    return 0;
}

int ssf__queue_control(struct ssf_delivery *d, const char *tenant, const char *stream_id,
                       const char *aud, const char *type, json_object *event)
{
    struct store_ssf_stream s = {.id = (char *)stream_id, .tenant = (char *)tenant};
    struct store_ssf_out row = {0};
    struct ssf_dstream *ds = NULL;
    char iss[1024], uuid[MQP_EVENT_ID_LEN + 1], jti[200];
    /* SSF 1.0 section 8.1.4.1: the subject of stream events is the stream itself. */
    json_object *sub = ssf_set_subject(NULL, stream_id);
    int64_t now = ssf__wall_ms();
    struct ssf_set_in in = {.iss = iss,
                            .aud = aud,
                            .jti = jti,
                            .iat = now / 1000,
                            .type = type,
                            .sub_id = sub,
                            .event = event};
    int rc = -1;

    if (sub == NULL || ssf__tx_url(d->b, tenant, "", iss, sizeof(iss)) != 0 ||
        mqp_event_id_new(uuid) != 0 || ssf_set_jti(uuid, stream_id, jti, sizeof(jti)) != 0 ||
        add_row(d, &s, &in, &row, &ds, now) != 0)
        goto out;
    rc = enqueue(d, &row, &ds, 1);
out:
    json_object_put(sub);
    store_ssf_out_clear(&row);
    return rc;
}

int ssf_delivery_verify(struct bridge *b, const char *tenant, const char *stream_id,
                        const char *state)
{
    struct ssf_delivery *d = ssf__delivery(b);
    struct store_ssf_stream s = {0};
    json_object *ev;
    int rc = -1;

    if (d == NULL || b->store->ops->ssf_stream_get(b->store, tenant, stream_id, &s) != 1)
        return -1;
    ev = json_object_new_object();
    if (ev && state)
        json_object_object_add(ev, "state", json_object_new_string(state));
    if (ev)
        rc = ssf__queue_control(d, tenant, stream_id, s.aud, SSF_EVENT_VERIFICATION, ev);
    json_object_put(ev);
    store_ssf_stream_clear(&s);
    return rc;
}

void ssf_delivery_stream_changed(struct bridge *b, const char *tenant, const char *stream_id)
{
    struct ssf_delivery *d = ssf__delivery(b);
    struct ssf_dstream *ds = d ? ssf__dstream_find(d, stream_id) : NULL;
    struct store_ssf_stream s = {0};
    int found;

    if (ds == NULL)
        return;
    found = b->store->ops->ssf_stream_get(b->store, tenant, stream_id, &s);
    if (found == 0 || (found == 1 && strcmp(s.status, "disabled") == 0))
        ssf__drop_all(d, ds); /* SSF 8.1.2: a disabled stream's events are not kept */
    if (found == 1 && strcmp(s.status, "enabled") == 0)
        ds->auth_failures = 0;
    store_ssf_stream_clear(&s);
    ssf__poll_wake(d, ds);
    ssf__push_pump(d);
}

static bool has_string(json_object *arr, const char *s)
{
    for (size_t i = 0;
         json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return true;
    return false;
}

/* What one event is being fanned out as. */
struct fan {
    struct ssf_delivery *d;
    const char *type;
    json_object *sub_id, *event;
    const char *event_id, *txn;
    char canon[2048]; /* sub_id as compared with the stream's subjects */
    char iss[1024];
    int64_t now_ms;
    struct store_ssf_out *rows;
    struct ssf_dstream **dss;
    size_t n, cap;
};

/* Does stream s take the event? Delivered types (SSF 8.1.1), subjects (8.1.3). */
static bool wants(struct fan *f, const struct store_ssf_stream *s)
{
    struct store *st = f->d->b->store;
    json_object *cfg, *req = NULL;
    bool yes;
    int n;

    if (strcmp(s->status, "disabled") == 0)
        return false;
    cfg = json_tokener_parse(s->config);
    yes =
        cfg && json_object_object_get_ex(cfg, "events_requested", &req) && has_string(req, f->type);
    json_object_put(cfg);
    if (!yes)
        return false;
    /* A stream with subjects gets the events of those subjects only; compared as canonical
     * Subject Identifiers, exactly (no partial match of complex subjects). */
    n = st->ops->ssf_subject_count(st, s->id);
    return n == 0 || (n > 0 && st->ops->ssf_subject_has(st, s->id, f->canon) == 1);
}

static int fan_one(void *ctx, const struct store_ssf_stream *s)
{
    struct fan *f = ctx;
    struct ssf_dstream *ds;
    char jti[200];
    struct ssf_set_in in = {.iss = f->iss,
                            .aud = s->aud,
                            .jti = jti,
                            .txn = f->txn,
                            .iat = f->now_ms / 1000,
                            .type = f->type,
                            .sub_id = f->sub_id,
                            .event = f->event};

    if (!wants(f, s))
        return 0;
    ds = ssf__dstream_find(f->d, s->id);
    if (ds && ds->n >= f->d->b->cfg->ssf.tx.max_pending) {
        /* The bound of a stream's queue: the newest SET is dropped, the held ones kept. */
        fprintf(stderr, "mqpush-bridge: ssf: stream %s holds %zu SETs: event %s dropped\n", s->id,
                ds->n, f->event_id);
        f->d->b->metrics.push[METRICS_PUSH_SET][METRICS_PUSH_EXPIRED]++;
        return 0;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct store_ssf_out *r = realloc(f->rows, cap * sizeof(*r));
        struct ssf_dstream **p;

        if (r == NULL)
            return -1;
        f->rows = r;
        p = realloc(f->dss, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        f->dss = p;
        f->cap = cap;
    }
    memset(&f->rows[f->n], 0, sizeof(f->rows[f->n]));
    if (ssf_set_jti(f->event_id, s->id, jti, sizeof(jti)) != 0 ||
        add_row(f->d, s, &in, &f->rows[f->n], &f->dss[f->n], f->now_ms) != 0) {
        store_ssf_out_clear(&f->rows[f->n]);
        return -1;
    }
    f->n++;
    return 0;
}

/* The configured stream (tenant, stream), or NULL. */
static const struct bridge_ssf_tx_stream *tx_stream(const struct bridge *b, const char *tenant,
                                                    const char *stream)
{
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++) {
        const struct bridge_ssf_tx_stream *cs = &b->cfg->ssf.tx.streams[i];

        if (strcmp(cs->tenant, tenant) == 0 && strcmp(cs->stream, stream) == 0)
            return cs;
    }
    return NULL;
}

/* The event type and subject_path of (ns, name) in cs: the mapping, else the tenant's URN. */
static const char *event_type(const struct bridge_ssf_tx_stream *cs, const char *ns,
                              const char *name, const char **subject_path, char *urn, size_t cap)
{
    *subject_path = NULL;
    for (size_t i = 0; i < cs->n_events; i++) {
        const struct bridge_ssf_tx_event *e = &cs->events[i];

        if (strcmp(e->namespace_, ns) != 0 || strcmp(e->name, name) != 0)
            continue;
        *subject_path = e->subject_path;
        if (e->type)
            return e->type;
        break;
    }
    snprintf(urn, cap, "urn:mqpush:%s:event:%s:%s", cs->tenant, ns, name);
    return urn;
}

static json_object *parse_json(const void *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;

    if (o && json_tokener_get_parse_end(tok) != len) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

int ssf_delivery_on_message(struct bridge *b, const char *topic, const void *payload, size_t len)
{
    struct ssf_delivery *d = ssf__delivery(b);
    char tenant[MQP_ID_MAX + 1], stream[MQP_ID_MAX + 1], ns[MQP_ID_MAX + 1], name[MQP_ID_MAX + 1];
    char urn[3 * MQP_ID_MAX + 32], fallback[2 * MQP_ID_MAX + 2], perr[160];
    const struct bridge_ssf_tx_stream *cs;
    const char *path_text, *canon;
    struct mqp_path *path = NULL;
    struct fan f = {.d = d};
    json_object *doc = NULL, *v, *canonical = NULL;
    int found = 0, rc = 0;

    if (d == NULL || d->closing || mqp_topic_parse_stream(topic, tenant, stream, ns, name) != 0 ||
        (cs = tx_stream(b, tenant, stream)) == NULL)
        return 1;
    if (len == 0 || len > (size_t)INT32_MAX || (doc = parse_json(payload, len)) == NULL ||
        !json_object_object_get_ex(doc, "id", &v) || !json_object_is_type(v, json_type_string))
        goto out;
    f.event_id = json_object_get_string(v);
    f.txn = f.event_id;
    /* RFC 8417 2.2: "txn" ties the SETs of one originating transaction together: the event's
     * correlationId when it has one. */
    if (json_object_object_get_ex(doc, "correlationId", &v) &&
        json_object_is_type(v, json_type_string))
        f.txn = json_object_get_string(v);
    f.type = event_type(cs, ns, name, &path_text, urn, sizeof(urn));
    if (path_text && mqp_path_compile(path_text, &path, perr, sizeof(perr)) != 0)
        path = NULL;
    v = path ? mqp_path_get(path, doc, &found) : NULL;
    /* Without a subject the stream as a whole is the subject of its events. */
    snprintf(fallback, sizeof(fallback), "%s/%s", tenant, stream);
    f.now_ms = ssf__wall_ms();
    f.sub_id = ssf_set_subject(found ? v : NULL, fallback);
    f.event = ssf_set_event_claims(doc, f.now_ms / 1000);
    canonical = f.sub_id ? ssf__canonical(f.sub_id) : NULL;
    canon = canonical ? json_object_to_json_string_ext(canonical, JSON_C_TO_STRING_PLAIN) : NULL;
    if (f.event == NULL || canon == NULL || strlen(canon) >= sizeof(f.canon) ||
        ssf__tx_url(b, tenant, "", f.iss, sizeof(f.iss)) != 0)
        goto fail;
    snprintf(f.canon, sizeof(f.canon), "%s", canon);
    if (b->store->ops->ssf_stream_each(b->store, tenant, fan_one, &f) != 0 ||
        enqueue(d, f.rows, f.dss, f.n) != 0) {
        /* The store failed: not acknowledged, the broker delivers the event again. */
        fprintf(stderr,
                "mqpush-bridge: ssf: cannot write the SETs of event %s to the outbox; left to "
                "the broker to deliver again\n",
                f.event_id);
        rc = -1;
        goto out;
    }
    goto out;
fail:
    /* Nothing a second delivery would change: dropped, not retried for ever. */
    fprintf(stderr, "mqpush-bridge: ssf: cannot make the SETs of event %s\n", f.event_id);
out:
    for (size_t i = 0; i < f.n; i++)
        store_ssf_out_clear(&f.rows[i]);
    free(f.rows);
    free(f.dss);
    json_object_put(canonical);
    json_object_put(f.sub_id);
    json_object_put(f.event);
    mqp_path_free(path);
    json_object_put(doc);
    return rc;
}

static int load_stream(void *ctx, const struct store_ssf_stream *s)
{
    return ssf__dstream(ctx, s->tenant, s->id) ? 0 : -1;
}

static int load_row(void *ctx, const struct store_ssf_out *o)
{
    struct ssf_delivery *d = ctx;
    struct ssf_dstream *ds = ssf__dstream_find(d, o->stream_id);
    struct ssf_item *it;

    if (ds == NULL)
        return 0; /* its tenant left the configuration: kept, not served */
    it = calloc(1, sizeof(*it));
    if (it == NULL || (it->jti = strdup(o->jti)) == NULL ||
        (it->claims = strdup(o->claims)) == NULL) {
        item_free(it);
        return -1;
    }
    it->id = o->id;
    it->created_ms = o->created_ms;
    it->due_ms = o->due_ms;
    it->attempts = o->attempts;
    item_append(d, ds, it);
    return 0;
}

int ssf_delivery_adopt(struct bridge *b)
{
    struct ssf_delivery *d = ssf__delivery(b);
    const struct bridge_ssf_tx_stream *all = b->cfg->ssf.tx.streams;
    struct store *st = b->store;
    int n;

    if (d == NULL || d->closing)
        return 0;
    /* Streams made through another bridge since this one started. */
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(all[j].tenant, all[i].tenant) == 0;
        if (!seen && st->ops->ssf_stream_each(st, all[i].tenant, load_stream, d) != 0)
            return -1;
    }
    n = st->ops->ssf_out_adopt(st, ssf__wall_ms(), load_row, d);
    if (n < 0)
        return -1;
    if (n > 0) {
        struct ssf_dstream *ds, *tmp;

        fprintf(stderr, "mqpush-bridge: ssf: took over %d pending SETs of a bridge that stopped\n",
                n);
        HASH_ITER(hh, d->streams, ds, tmp)
        {
            ssf__poll_wake(d, ds);
        }
        ssf__push_pump(d);
    }
    return 0;
}

int ssf_delivery_start(struct bridge *b)
{
    struct ssf_delivery *d = calloc(1, sizeof(*d));
    const struct bridge_ssf_tx_stream *all = b->cfg->ssf.tx.streams;
    struct store *st = b->store;

    if (d == NULL)
        return -1;
    d->b = b;
    b->ssf_transmitter->delivery = d;
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++) {
        bool seen = false;

        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(all[j].tenant, all[i].tenant) == 0;
        if (!seen && st->ops->ssf_stream_each(st, all[i].tenant, load_stream, d) != 0)
            goto fail;
    }
    if (st->ops->ssf_out_each(st, load_row, d) != 0)
        goto fail;
    uv_timer_init(b->loop, &d->timer);
    d->timer.data = d;
    d->timer_open = true;
    /* Held for the bridge's life, as Web Push's: what arrives while the bridge is away waits
     * in its persistent session at the broker. */
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++) {
        char *filter = bridge_durable_filter(b, all[i].tenant, all[i].stream);

        if (filter == NULL)
            goto fail;
        mqlink_subscribe(b->link, filter);
        free(filter);
    }
    fprintf(stderr, "mqpush-bridge: ssf: %zu SETs pending delivery\n", d->pending);
    ssf__push_pump(d);
    return 0;
fail:
    fprintf(stderr, "mqpush-bridge: ssf: cannot read the SET outbox\n");
    return -1;
}

void ssf_delivery_close(struct bridge *b)
{
    struct ssf_delivery *d = ssf__delivery(b);
    struct ssf_dstream *ds, *tmp;

    if (d == NULL || d->closing)
        return;
    d->closing = true;
    HASH_ITER(hh, d->streams, ds, tmp)
    {
        ssf__poll_close(d, ds);
    }
    if (d->timer_open)
        uv_close((uv_handle_t *)&d->timer, NULL);
}

void ssf_delivery_free(struct bridge *b)
{
    struct ssf_delivery *d = ssf__delivery(b);
    struct ssf_dstream *ds, *tmp;

    if (d == NULL)
        return;
    HASH_ITER(hh, d->streams, ds, tmp)
    {
        struct ssf_item *it = ds->head, *next;

        for (; it; it = next) {
            next = it->next;
            item_free(it);
        }
        HASH_DEL(d->streams, ds);
        free(ds->id);
        free(ds->tenant);
        free(ds);
    }
    free(d);
    b->ssf_transmitter->delivery = NULL;
}

uint64_t ssf_delivery_pending(const struct bridge *b)
{
    const struct ssf_delivery *d = ssf__delivery(b);

    return d ? d->pending : 0;
}

char *ssf_delivery_metrics_text(const struct bridge *b, size_t *len)
{
    static const char head[] =
        "# HELP mqpush_bridge_ssf_set_errors_total SETs a receiver refused (RFC 8935 2.4 "
        "answers, RFC 8936 setErrs), per stream and error code.\n"
        "# TYPE mqpush_bridge_ssf_set_errors_total counter\n";
    static const char *const codes[SSF_ERR_COUNT] = {
        "invalid_request",       "invalid_key",   "invalid_issuer", "invalid_audience",
        "authentication_failed", "access_denied", "other"};
    struct ssf_delivery *d = ssf__delivery(b);
    struct ssf_dstream *ds, *tmp;
    size_t n = 0, cap;
    char *text;

    *len = 0;
    if (d == NULL)
        return strdup("");
    HASH_ITER(hh, d->streams, ds, tmp)
    {
        for (int i = 0; i < SSF_ERR_COUNT; i++)
            n += ds->errors[i] != 0;
    }
    if (n == 0)
        return strdup("");
    cap = sizeof(head) + n * 200;
    text = malloc(cap);
    if (text == NULL)
        return NULL;
    *len = (size_t)snprintf(text, cap, "%s", head);
    HASH_ITER(hh, d->streams, ds, tmp)
    {
        for (int i = 0; i < SSF_ERR_COUNT; i++)
            if (ds->errors[i]) /* stream ids are base64url: nothing to escape */
                *len += (size_t)snprintf(text + *len, cap - *len,
                                         "mqpush_bridge_ssf_set_errors_total{stream_id=\"%.64s\","
                                         "err=\"%s\"} %llu\n",
                                         ds->id, codes[i], (unsigned long long)ds->errors[i]);
    }
    return text;
}
