/*
 * The Web Push channel's life and its fan-out: which subscriptions an event goes to. A message
 * is written to the store's outbox before the broker's acknowledgement goes out (the link
 * acknowledges QoS 1 after on_message returns), so a crash after that loses nothing.
 */
#include "webpush/webpush.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "access.h"
#include "broker/link.h"
#include "event.h"
#include "http/conn.h"
#include "store/identity.h"
#include "socketio/sio_stream.h"
#include "sse/session.h"
#include "subscriber.h"
#include "topic.h"
#include "webpush/keys.h"
#include "webpush/webpush_int.h"

int64_t wp_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_msg(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "mqpush-bridge: webpush: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

struct wp_stream *wp_stream_find(struct webpush *wp, const char *tenant, const char *stream)
{
    char key[2 * MQP_ID_MAX + 2];
    struct wp_stream *ws = NULL;

    if ((size_t)snprintf(key, sizeof(key), "%s/%s", tenant, stream) >= sizeof(key))
        return NULL;
    HASH_FIND_STR(wp->streams, key, ws);
    return ws;
}

struct wp_stream *wp_stream_default(struct webpush *wp, const char *tenant)
{
    struct wp_stream *ws, *tmp;

    HASH_ITER(hh, wp->streams, ws, tmp)
    {
        if (ws->cfg->is_default && strcmp(ws->cfg->tenant, tenant) == 0)
            return ws;
    }
    return NULL;
}

struct wp_sub *wp_sub_find(struct webpush *wp, int64_t id)
{
    struct wp_sub *s = NULL;

    HASH_FIND(hh, wp->subs, &id, sizeof(id), s);
    return s;
}

static void sub_free(struct wp_sub *s)
{
    if (s == NULL)
        return;
    free(s->endpoint);
    free(s->origin);
    free(s->tenant);
    free(s->user);
    free(s->session);
    mqp_identity_free(s->identity);
    free(s);
}

void wp_sub_remove(struct webpush *wp, struct wp_sub *s, bool drop_store)
{
    struct wp_sub **pp;

    if (drop_store && wp->b->store->ops->sub_delete(wp->b->store, wp->channel, s->id, NULL) < 0)
        log_msg("cannot delete subscription %s from the store%s", s->endpoint, "");
    else if (drop_store)
        wp_subs_changed(wp);
    for (pp = &s->ws->subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            s->ws->n_subs--;
            break;
        }
    }
    HASH_DEL(wp->subs, s);
    wp->n_subs--;
    sub_free(s);
}

int wp_sub_add(struct webpush *wp, const struct store_sub *rec)
{
    struct wp_stream *ws = wp_stream_find(wp, rec->tenant, rec->stream);
    struct wp_sub *s;

    if (ws == NULL)
        return 1; /* its stream left the configuration: kept in the store, not served */
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    s->id = rec->id;
    s->endpoint = strdup(rec->endpoint);
    s->origin = webpush_origin(rec->endpoint);
    s->tenant = strdup(rec->tenant);
    s->user = strdup(rec->user);
    s->session = strdup(rec->session);
    memcpy(s->p256dh, rec->p256dh, sizeof(s->p256dh));
    memcpy(s->auth, rec->auth, sizeof(s->auth));
    s->expires_at = rec->expires_at;
    s->ws = ws;
    s->has_keys = rec->has_keys != 0;
    if (!s->endpoint || !s->origin || !s->tenant || !s->user || !s->session ||
        (!s->has_keys && wp->kind == WP_WEBPUSH) ||
        store_identity_decode(rec->identity, &s->identity) != 0) {
        sub_free(s);
        return -1;
    }
    s->next = ws->subs;
    ws->subs = s;
    ws->n_subs++;
    HASH_ADD(hh, wp->subs, id, sizeof(s->id), s);
    wp->n_subs++;
    return 0;
}

static int load_sub(void *ctx, const struct store_sub *rec)
{
    if (wp_sub_add(ctx, rec) < 0)
        log_msg("subscription %s in the store is unreadable, skipped%s", rec->endpoint, "");
    return 0;
}

static json_object *parse_json(const void *text, size_t len);

int wp_load_msg(void *ctx, const struct store_msg *rec)
{
    struct webpush *wp = ctx;
    struct wp_sub *s;
    struct wp_msg *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return -1;
    m->id = rec->id;
    m->sub_id = rec->sub_id;
    snprintf(m->event_id, sizeof(m->event_id), "%s", rec->event_id);
    m->body = malloc(rec->body_len + 1);
    if (m->body == NULL) {
        free(m);
        return -1;
    }
    memcpy(m->body, rec->body, rec->body_len);
    m->body[rec->body_len] = '\0';
    m->len = rec->body_len;
    m->created_ms = rec->created_ms;
    m->expires_ms = rec->expires_ms;
    m->due_ms = rec->due_ms;
    m->attempts = rec->attempts;
    /* the Topic again (not stored): from the body kept, so a compact form has none */
    s = wp_sub_find(wp, m->sub_id);
    if (s && s->ws->topic) {
        json_object *doc = parse_json(m->body, m->len);

        wp_topic(s->ws, doc, m->topic);
        json_object_put(doc);
    }
    if (wp_queue_push(wp, m) != 0) {
        wp_msg_free(m);
        return -1;
    }
    return 0;
}

static int set_key(struct webpush *wp, EVP_PKEY *key, int64_t created, char *err, size_t errlen)
{
    struct webpush_vapid *v = NULL;

    if (webpush_vapid_new(key, wp->set->subject, wp->set->jwt_ttl_s, &v, err, errlen) != 0)
        return -1;
    webpush_vapid_free(wp->vapid);
    EVP_PKEY_free(wp->key);
    wp->vapid = v;
    wp->key = key;
    wp->key_created = created;
    return 0;
}

/* Drop the subscriptions of wp made with another VAPID key than the current one. */
static int drop_old_key(struct webpush *wp)
{
    struct store *st = wp->b->store;
    struct wp_sub *s, *tmp;
    int dropped = st->ops->sub_delete_vapid(st, wp->channel, webpush_vapid_public_key(wp->vapid));

    if (dropped > 0)
        wp_subs_changed(wp);
    HASH_ITER(hh, wp->subs, s, tmp)
    {
        if (s->has_keys)
            wp_sub_remove(wp, s, false);
    }
    return dropped;
}

int wp_rotate(struct webpush *wp, char *err, size_t errlen)
{
    struct store *st = wp->b->store;
    struct webpush *up = wp->b->unifiedpush;
    EVP_PKEY *key = NULL;
    int64_t created;
    int dropped;

    if (webpush_keys_load(st, 1, (int64_t)time(NULL), &key, &created, err, errlen) != 0)
        return -1;
    if (set_key(wp, key, created, err, errlen) != 0) {
        EVP_PKEY_free(key);
        return -1;
    }
    /* Subscriptions made with the old key are bound to it by their push service (RFC 8292
     * 3.2): they cannot be used any more. So are UnifiedPush's of the Web Push form. */
    dropped = drop_old_key(wp);
    if (up) {
        webpush_vapid_free(up->vapid);
        up->vapid = webpush_vapid_ref(wp->vapid);
        dropped += drop_old_key(up);
    }
    fprintf(stderr, "mqpush-bridge: webpush: VAPID key rotated, %d subscriptions dropped\n",
            dropped);
    /* The other bridges take the new key with their next event (cluster.c). */
    wp_subs_changed(wp);
    return 0;
}

int wp_key_reload(struct webpush *wp)
{
    struct webpush *up = wp->b->unifiedpush;
    EVP_PKEY *key = NULL;
    int64_t created;
    char err[160];

    if (wp->kind != WP_WEBPUSH ||
        webpush_keys_load(wp->b->store, 0, (int64_t)time(NULL), &key, &created, err,
                          sizeof(err)) != 0)
        return wp->kind != WP_WEBPUSH ? 0 : -1;
    if (created == wp->key_created) {
        EVP_PKEY_free(key);
        return 0;
    }
    if (set_key(wp, key, created, err, sizeof(err)) != 0) {
        EVP_PKEY_free(key);
        return -1;
    }
    if (up) {
        webpush_vapid_free(up->vapid);
        up->vapid = webpush_vapid_ref(wp->vapid);
    }
    fprintf(stderr, "mqpush-bridge: webpush: took the VAPID key another bridge rotated to\n");
    webpush_announce_key(wp->b);
    return 0;
}

const char *wp_block_key(const struct webpush *wp, const struct wp_sub *s)
{
    return wp->kind == WP_UNIFIEDPUSH ? s->endpoint : s->origin;
}

const char *webpush_key_for(const struct bridge *b, const char *tenant, const char *stream)
{
    struct webpush *wp = b->webpush;

    if (wp == NULL || wp->vapid == NULL)
        return NULL;
    if (tenant && stream && wp_stream_find(wp, tenant, stream) == NULL)
        return NULL;
    return webpush_vapid_public_key(wp->vapid);
}

static int session_ended(struct webpush *wp, const char *tenant, const char *user,
                         const char *session)
{
    struct wp_sub *s, *tmp;
    int n;

    if (wp == NULL)
        return 0;
    n = wp->b->store->ops->sub_delete_session(wp->b->store, wp->channel, tenant, user, session);
    if (n < 0)
        return -1;
    if (n > 0)
        wp_subs_changed(wp);
    HASH_ITER(hh, wp->subs, s, tmp)
    {
        if (strcmp(s->tenant, tenant) == 0 && (user == NULL || strcmp(s->user, user) == 0) &&
            (session == NULL || strcmp(s->session, session) == 0))
            wp_sub_remove(wp, s, false);
    }
    return n;
}

int webpush_session_ended(struct bridge *b, const char *tenant, const char *user,
                          const char *session)
{
    int n, m;

    if (user == NULL && session == NULL)
        return -1;
    n = session_ended(b->webpush, tenant, user, session);
    m = session_ended(b->unifiedpush, tenant, user, session);
    return n < 0 || m < 0 ? -1 : n + m;
}

void webpush_gauges(const struct bridge *b, uint64_t subscriptions[METRICS_PUSH_COUNT],
                    uint64_t pending[METRICS_PUSH_COUNT])
{
    const struct webpush *all[] = {b->webpush, b->unifiedpush};

    for (size_t i = 0; i < 2; i++) {
        if (all[i] == NULL)
            continue;
        subscriptions[all[i]->mch] = all[i]->n_subs;
        pending[all[i]->mch] = all[i]->heap_len + all[i]->inflight + all[i]->parked;
    }
}

static int by_rejected(const void *a, const void *b)
{
    const struct wp_origin *x = *(const struct wp_origin *const *)a,
                           *y = *(const struct wp_origin *const *)b;

    return x->rejected < y->rejected ? 1 : x->rejected > y->rejected ? -1 : 0;
}

/* Append channel wp's lines to text (cap bytes, *len used). */
static void rejected_lines(const struct webpush *wp, char *text, size_t cap, size_t *len)
{
    struct wp_origin *o, *tmp, **all;
    size_t n = 0, i;

    if (wp == NULL || (all = calloc(HASH_COUNT(wp->origins) + 1, sizeof(*all))) == NULL)
        return;
    HASH_ITER(hh, wp->origins, o, tmp)
    {
        if (o->rejected)
            all[n++] = o;
    }
    qsort(all, n, sizeof(*all), by_rejected);
    for (i = 0; i < n && i < 100 && *len < cap; i++) /* origins hold no quote or backslash */
        *len +=
            (size_t)snprintf(text + *len, cap - *len,
                             "mqpush_bridge_push_rejected_total{channel=\"%s\",origin=\"%.300s\"} "
                             "%llu\n",
                             wp->channel, all[i]->origin, (unsigned long long)all[i]->rejected);
    free(all);
}

char *webpush_metrics_text(const struct bridge *b, size_t *len)
{
    static const char head[] =
        "# HELP mqpush_bridge_push_rejected_total Requests a push service refused (4xx other "
        "than 404, 410, 429), per channel and origin (the 100 with the most).\n"
        "# TYPE mqpush_bridge_push_rejected_total counter\n";
    size_t cap = sizeof(head) + 2 * 100 * 400;
    char *text = malloc(cap);

    *len = 0;
    if (text == NULL)
        return NULL;
    *len = (size_t)snprintf(text, cap, "%s", head);
    rejected_lines(b->webpush, text, cap, len);
    rejected_lines(b->unifiedpush, text, cap, len);
    if (*len >= cap)
        *len = cap - 1;
    return text;
}

static json_object *parse_json(const void *text, size_t len)
{
    /* as deep as the plugin lets events be */
    json_tokener *tok = json_tokener_new_ex(MQP_EVENT_MAX_DEPTH);
    json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;

    if (o && json_tokener_get_parse_end(tok) != len) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* May this subscription receive the event now? Expired sessions are dropped here when so
 * configured. */
static bool sub_wants(struct webpush *wp, struct wp_sub *s, const struct mqp_stream *st,
                      json_object *event, int64_t now_s)
{
    if (wp->set->expire_with_token && s->expires_at < now_s)
        return false;
    return mqp_stream_readable(st, s->identity) &&
           mqp_stream_subscriber_match(st, s->identity, event);
}

static void drop_expired(struct webpush *wp, struct wp_stream *ws, int64_t now_s)
{
    struct wp_sub *s = ws->subs, *next;

    if (!wp->set->expire_with_token)
        return;
    for (; s; s = next) {
        next = s->next;
        if (s->expires_at < now_s)
            wp_sub_remove(wp, s, true);
    }
}

static int on_message(struct webpush *wp, const char *topic, const void *payload, size_t len)
{
    struct bridge *b = wp ? wp->b : NULL;
    char tenant[MQP_ID_MAX + 1], stream[MQP_ID_MAX + 1], ns[MQP_ID_MAX + 1], name[MQP_ID_MAX + 1];
    struct wp_stream *ws;
    const struct mqp_tenant *t;
    const struct mqp_stream *st;
    json_object *event = NULL, *idv;
    struct store_msg *rows = NULL;
    struct wp_msg **msgs = NULL;
    struct wp_sub *s;
    char *compact = NULL, push_topic[WP_TOPIC_SIZE];
    size_t n = 0, i;
    int64_t now_ms = wp_wall_ms(), now_s = now_ms / 1000;
    int rc = 0;

    if (wp == NULL || wp->closing || mqp_topic_parse_stream(topic, tenant, stream, ns, name) != 0)
        return 1;
    ws = wp_stream_find(wp, tenant, stream);
    if (ws == NULL)
        return 1;
    /* Another bridge may have changed the subscriptions (broker.share_group). */
    if (wp_subs_sync(wp, false) != 0) {
        log_msg("cannot read the subscriptions: an event on %s is left to the broker to deliver "
                "again%s", topic, "");
        return -1;
    }
    drop_expired(wp, ws, now_s);
    t = mqp_config_tenant(b->streams, tenant, strlen(tenant));
    st = t ? mqp_tenant_stream(t, stream, strlen(stream)) : NULL;
    if (ws->subs == NULL || st == NULL || len == 0 || len > (size_t)INT32_MAX)
        return 0;
    event = parse_json(payload, len);
    if (event == NULL || !json_object_object_get_ex(event, "id", &idv) ||
        !json_object_is_type(idv, json_type_string) || json_object_get_string_len(idv) >= 48)
        goto out;
    /* Once for all subscriptions, and before the event may be kept in compact form. */
    wp_topic(ws, event, push_topic);
    /* What cannot be sent whole is kept as it will be sent: the compact form, once for all. */
    if (len > WP_PLAIN_MAX) {
        compact = wp_compact(payload, len, stream, &len);
        if (compact == NULL)
            goto oom;
        payload = compact;
    }
    rows = calloc(ws->n_subs, sizeof(*rows));
    msgs = calloc(ws->n_subs, sizeof(*msgs));
    if (rows == NULL || msgs == NULL)
        goto oom;
    for (s = ws->subs; s; s = s->next) {
        struct wp_msg *m;

        if (!sub_wants(wp, s, st, event, now_s))
            continue;
        /* A bounded backlog (push services down for long): beyond it new events are not
         * queued, and counted. */
        if (wp->heap_len + wp->inflight + wp->parked + n >= WP_PENDING_MAX) {
            b->metrics.push[wp->mch][METRICS_PUSH_DROPPED]++;
            continue;
        }
        m = calloc(1, sizeof(*m));
        if (m == NULL || (m->body = malloc(len + 1)) == NULL) {
            free(m);
            goto oom;
        }
        memcpy(m->body, payload, len);
        m->body[len] = '\0';
        m->len = len;
        m->sub_id = s->id;
        snprintf(m->event_id, sizeof(m->event_id), "%s", json_object_get_string(idv));
        memcpy(m->topic, push_topic, sizeof(m->topic));
        m->created_ms = m->due_ms = now_ms;
        m->expires_ms = now_ms + (int64_t)ws->cfg->ttl_s * 1000;
        rows[n] = (struct store_msg){.sub_id = m->sub_id,
                                     .event_id = m->event_id,
                                     .body = (unsigned char *)m->body,
                                     .body_len = len,
                                     .created_ms = now_ms,
                                     .expires_ms = m->expires_ms,
                                     .due_ms = now_ms};
        msgs[n++] = m;
    }
    if (b->store->ops->msg_add(b->store, rows, n) != 0) {
        log_msg("cannot write event %s to the outbox: %s leaves it to the broker to deliver again",
                json_object_get_string(idv), wp->channel);
        rc = -1;
        goto out;
    }
    for (i = 0; i < n; i++) {
        msgs[i]->id = rows[i].id;
        if (rows[i].id == 0) /* already in the outbox: a redelivery by the broker */
            continue;
        if (wp_queue_push(wp, msgs[i]) == 0)
            msgs[i] = NULL;
    }
    wp_pump(wp);
    goto out;
oom:
    log_msg("out of memory: event %s left to the broker to deliver again%s",
            json_object_get_string(idv), "");
    rc = -1;
out:
    for (i = 0; msgs && i < n; i++)
        wp_msg_free(msgs[i]);
    free(msgs);
    free(rows);
    free(compact);
    json_object_put(event);
    return rc;
}

static int add_stream(struct webpush *wp, const struct bridge_webpush_stream *c)
{
    struct wp_stream *ws = calloc(1, sizeof(*ws));
    size_t kl = strlen(c->tenant) + strlen(c->stream) + 2;
    char err[160];

    if (ws == NULL)
        return -1;
    ws->cfg = c;
    ws->key = malloc(kl);
    ws->filter = bridge_durable_filter(wp->b, c->tenant, c->stream);
    if (ws->key == NULL || ws->filter == NULL)
        goto fail;
    snprintf(ws->key, kl, "%s/%s", c->tenant, c->stream);
    if (c->topic_path && mqp_path_compile(c->topic_path, &ws->topic, err, sizeof(err)) != 0)
        goto fail;
    HASH_ADD_KEYPTR(hh, wp->streams, ws->key, strlen(ws->key), ws);
    return 0;
fail:
    free(ws->key);
    free(ws->filter);
    free(ws);
    return -1;
}

static void arm_rotation(struct webpush *wp);

static void on_rotate(uv_timer_t *t)
{
    struct webpush *wp = t->data;
    char err[200];

    if (wp_rotate(wp, err, sizeof(err)) != 0)
        fprintf(stderr, "mqpush-bridge: webpush: scheduled rotation failed: %s\n", err);
    else
        webpush_announce_key(wp->b);
    arm_rotation(wp);
}

/* Rotate when the key reaches rotate_period_s of age, counted from when it was made (kept in
 * the store), so restarts do not postpone it. */
static void arm_rotation(struct webpush *wp)
{
    unsigned period = wp->set->rotate_period_s;
    int64_t due_s, now_s = (int64_t)time(NULL);

    if (period == 0 || wp->closing)
        return;
    due_s = wp->key_created + (int64_t)period;
    /* A failed rotation is tried again a minute later. */
    uv_timer_start(&wp->rotate_timer, on_rotate,
                   due_s > now_s ? (uint64_t)(due_s - now_s) * 1000 : 60000, 0);
}

static int start_channel(struct bridge *b, enum wp_kind kind, struct webpush **out)
{
    const struct bridge_push_settings *set =
        kind == WP_WEBPUSH ? &b->cfg->webpush : &b->cfg->unifiedpush;
    struct webpush *wp;
    EVP_PKEY *key = NULL;
    int64_t created;
    char err[256];
    struct wp_stream *ws, *tmp;
    size_t i;

    if (!set->enabled)
        return 0;
    wp = calloc(1, sizeof(*wp));
    if (wp == NULL)
        return -1;
    wp->b = b;
    wp->kind = kind;
    wp->set = set;
    wp->channel = kind == WP_WEBPUSH ? "webpush" : "unifiedpush";
    wp->mch = kind == WP_WEBPUSH ? METRICS_PUSH_WEBPUSH : METRICS_PUSH_UNIFIEDPUSH;
    *out = wp;
    if (kind == WP_WEBPUSH) {
        if (webpush_keys_load(b->store, 0, (int64_t)time(NULL), &key, &created, err, sizeof(err)) !=
                0 ||
            set_key(wp, key, created, err, sizeof(err)) != 0) {
            EVP_PKEY_free(key);
            fprintf(stderr, "mqpush-bridge: webpush: %s\n", err);
            return -1;
        }
    } else if (b->webpush) {
        wp->vapid = webpush_vapid_ref(b->webpush->vapid);
    }
    for (i = 0; i < set->n_streams; i++)
        if (add_stream(wp, &set->streams[i]) != 0)
            return -1;
    if (b->store->ops->sub_each(b->store, wp->channel, load_sub, wp) != 0 ||
        b->store->ops->msg_each(b->store, wp->channel, wp_load_msg, wp) != 0) {
        fprintf(stderr, "mqpush-bridge: %s: cannot read the store\n", wp->channel);
        return -1;
    }
    uv_timer_init(b->loop, &wp->timer);
    uv_timer_init(b->loop, &wp->rotate_timer);
    wp->timer.data = wp->rotate_timer.data = wp;
    wp->timer_open = true;
    if (kind == WP_WEBPUSH)
        arm_rotation(wp);
    /* Held for the bridge's life: the broker keeps what arrives while the bridge is away in
     * its persistent session. */
    HASH_ITER(hh, wp->streams, ws, tmp)
    {
        mqlink_subscribe(b->link, ws->filter);
    }
    fprintf(stderr, "mqpush-bridge: %s: %zu streams, %zu subscriptions, %zu messages pending%s%s\n",
            wp->channel, (size_t)HASH_COUNT(wp->streams), wp->n_subs, wp->heap_len,
            wp->vapid ? ", VAPID key " : "", wp->vapid ? webpush_vapid_public_key(wp->vapid) : "");
    wp_pump(wp);
    return 0;
}

int webpush_start(struct bridge *b)
{
    /* Web Push first: UnifiedPush's Web Push form signs with its key. */
    if (start_channel(b, WP_WEBPUSH, &b->webpush) != 0 ||
        start_channel(b, WP_UNIFIEDPUSH, &b->unifiedpush) != 0)
        return -1;
    return 0;
}

static void close_channel(struct webpush *wp)
{
    if (wp == NULL || wp->closing)
        return;
    wp->closing = true;
    if (wp->timer_open) {
        uv_close((uv_handle_t *)&wp->timer, NULL);
        uv_close((uv_handle_t *)&wp->rotate_timer, NULL);
    }
}

void webpush_close(struct bridge *b)
{
    close_channel(b->webpush);
    close_channel(b->unifiedpush);
}

static void free_channel(struct webpush *wp)
{
    struct wp_stream *ws, *wtmp;
    struct wp_sub *s, *stmp;
    struct wp_origin *o, *otmp;

    if (wp == NULL)
        return;
    HASH_ITER(hh, wp->subs, s, stmp)
    {
        HASH_DEL(wp->subs, s);
        sub_free(s);
    }
    HASH_ITER(hh, wp->streams, ws, wtmp)
    {
        HASH_DEL(wp->streams, ws);
        free(ws->key);
        free(ws->filter);
        mqp_path_free(ws->topic);
        free(ws);
    }
    HASH_ITER(hh, wp->origins, o, otmp)
    {
        HASH_DEL(wp->origins, o);
        while (o->parked) {
            struct wp_msg *m = o->parked;

            o->parked = m->next;
            wp_msg_free(m);
        }
        free(o->origin);
        free(o);
    }
    wp_queue_clear(wp);
    webpush_vapid_free(wp->vapid);
    EVP_PKEY_free(wp->key);
    free(wp);
}

bool webpush_busy(const struct bridge *b)
{
    return (b->webpush && b->webpush->inflight) || (b->unifiedpush && b->unifiedpush->inflight);
}

void webpush_free(struct bridge *b)
{
    free_channel(b->unifiedpush);
    free_channel(b->webpush);
    b->unifiedpush = NULL;
    b->webpush = NULL;
}

int webpush_on_message(struct bridge *b, const char *topic, const void *payload, size_t len)
{
    int a = on_message(b->webpush, topic, payload, len);
    int u = on_message(b->unifiedpush, topic, payload, len);

    /* A redelivery after a failure finds what one channel kept already in its outbox (a
     * duplicate (subscription, event) is skipped), so trying both again is safe. */
    if (a < 0 || u < 0)
        return -1;
    return a == 0 || u == 0 ? 0 : 1;
}

int webpush_api(struct conn *c, const char *path, const char *body, size_t len)
{
    return wp_api(c, c->b->webpush, path, body, len);
}

int unifiedpush_api(struct conn *c, const char *path, const char *body, size_t len)
{
    return wp_api(c, c->b->unifiedpush, path, body, len);
}

void webpush_announce_key(struct bridge *b)
{
    sessions_announce_key(b);
    sio_stream_announce_key(b);
}
