/*
 * mqpush streams over socket.io: tenants as namespaces, hub consumers as sockets.
 */
#include "socketio/sio_stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "access.h"
#include "criteria.h"
#include "http/request.h"
#include "socketio/sio_server.h"
#include "socketio/sio_up.h"
#include "subscriber.h"
#include "webpush/webpush.h"

#define TICK_MS 1000
#define PID_LEN SIO_SID_LEN

/* What the Engine.IO handshake said, for the CONNECTs that follow on its session. */
struct handshake {
    char *token; /* Authorization: Bearer, else ?token= */
    bool token_too_long;
    char *stream;     /* ?stream= */
    char *criteria;   /* ?criteria= (JSON text) */
    bool unifiedpush; /* ?unifiedpush=1 */
};

/* One socket reading one stream, or a UnifiedPush distributor's messages (up). */
struct sub {
    struct sio_stream *owner;
    struct sio_socket *sk;
    struct hub_consumer *hc;
    struct mqp_identity *id; /* NULL: anonymous */
    struct mqp_criteria *criteria;
    struct sio_up *up; /* a distributor's socket: no stream, no hub consumer */
    char *tenant, *stream;
    struct mqp_stream_ref model; /* the stream in b->streams, for its subscriber criteria */
    int64_t exp;
    const char *kill; /* dropped by the hub: what to do at the end of the turn */
    struct sub *prev, *next;
    struct sub *knext;
    bool on_kill;
    bool live_seen; /* the CONNECT answer went out */
    bool key_due;   /* emit mqpush:vapid-key (Web Push streams) */
};

/* A socket that may come back (connection state recovery). */
struct recovery {
    char pid[PID_LEN + 1];
    char sid[SIO_SID_LEN + 1];
    char *tenant, *stream;
    uint64_t expires_ms;
    struct recovery *next;
};

struct sio_stream {
    struct bridge *b;
    struct sio_server *srv;
    struct sub *subs;
    struct sub *kills;
    struct sio_up_set *ups; /* NULL when the UnifiedPush provider is not enabled */
    struct recovery *recoveries;
    size_t n_recoveries;
    uv_timer_t tick;
    uv_check_t check;
    uv_idle_t idle; /* active with check: the loop must not sleep in poll before it runs */
    int open_handles;
    char *scratch;
    size_t scratch_cap;
};

static struct sio_stream *G(struct bridge *b)
{
    return b->socketio;
}

/* ---- handshake ---- */

static char *query_copy(struct lws *wsi, const char *name, size_t cap)
{
    char *buf = malloc(cap);
    int n;

    if (buf == NULL)
        return NULL;
    n = http_query_arg(wsi, name, buf, cap);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int on_handshake(void *ud, struct lws *wsi, void **conn_app)
{
    struct sio_stream *g = ud;
    struct handshake *h = calloc(1, sizeof(*h));
    char up[8];

    if (h == NULL)
        return -1;
    h->unifiedpush = http_query_arg(wsi, "unifiedpush", up, sizeof(up)) >= 0 &&
                     (strcmp(up, "1") == 0 || strcmp(up, "true") == 0);
    h->token = http_bearer_token(wsi, g->b->streams->limits.max_token_bytes, &h->token_too_long);
    h->stream = query_copy(wsi, "stream", MQP_ID_MAX + 2);
    h->criteria = query_copy(wsi, "criteria", g->b->cfg->limits.max_header_bytes + 1);
    *conn_app = h;
    return 0;
}

static void on_conn_close(void *ud, void *conn_app)
{
    struct handshake *h = conn_app;

    (void)ud;
    if (h == NULL)
        return;
    if (h->token)
        memset(h->token, 0, strlen(h->token));
    free(h->token);
    free(h->stream);
    free(h->criteria);
    free(h);
}

/* ---- refusals ---- */

static json_object *refusal(const char *code, const char *detail)
{
    json_object *o = json_object_new_object(), *d = json_object_new_object();
    char msg[256];

    snprintf(msg, sizeof(msg), "%s: %s", code, detail);
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(d, "code", json_object_new_string(code));
    json_object_object_add(o, "data", d);
    return o;
}

static const char *denial_code(enum http_denial d, const char *msg)
{
    switch (d) {
    case HTTP_UNAUTHORIZED:
        return "auth_required";
    case HTTP_TOKEN_INVALID:
        return "auth_failed";
    case HTTP_FORBIDDEN:
        return "forbidden";
    case HTTP_NOT_FOUND:
        return strstr(msg, "tenant") ? "unknown_tenant" : "unknown_stream";
    default:
        return "unknown_tenant";
    }
}

/* ---- recovery records ---- */

static void recovery_free(struct recovery *r)
{
    free(r->tenant);
    free(r->stream);
    free(r);
}

/* Take the record of pid when it is for tenant/stream and still valid (caller frees). */
static struct recovery *recovery_take(struct sio_stream *g, const char *pid, const char *tenant,
                                      const char *stream)
{
    struct recovery **pp, *r;
    uint64_t now = uv_now(g->b->loop);

    for (pp = &g->recoveries; (r = *pp) != NULL; pp = &r->next) {
        if (strcmp(r->pid, pid) != 0)
            continue;
        *pp = r->next;
        g->n_recoveries--;
        if (r->expires_ms <= now || strcmp(r->tenant, tenant) != 0 ||
            strcmp(r->stream, stream) != 0) {
            recovery_free(r);
            return NULL;
        }
        return r;
    }
    return NULL;
}

static void recovery_keep(struct sio_stream *g, struct sub *s)
{
    const struct bridge_config *cfg = g->b->cfg;
    struct recovery *r;
    const char *pid = sio_socket_pid(s->sk);

    if (cfg->socketio.recovery_window_s == 0 || pid == NULL)
        return;
    /* bounded: one record per connection the bridge may hold */
    if (g->n_recoveries >= cfg->limits.max_connections)
        return;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return;
    r->tenant = strdup(s->tenant);
    r->stream = strdup(s->stream);
    if (r->tenant == NULL || r->stream == NULL) {
        recovery_free(r);
        return;
    }
    snprintf(r->sid, sizeof(r->sid), "%s", sio_socket_id(s->sk));
    snprintf(r->pid, sizeof(r->pid), "%s", pid);
    r->expires_ms = uv_now(g->b->loop) + (uint64_t)cfg->socketio.recovery_window_s * 1000;
    r->next = g->recoveries;
    g->recoveries = r;
    g->n_recoveries++;
}

static void recovery_prune(struct sio_stream *g)
{
    struct recovery **pp = &g->recoveries, *r;
    uint64_t now = uv_now(g->b->loop);

    while ((r = *pp) != NULL) {
        if (r->expires_ms <= now) {
            *pp = r->next;
            g->n_recoveries--;
            recovery_free(r);
        } else {
            pp = &r->next;
        }
    }
}

/* ---- subscriptions ---- */

static void sub_unkill(struct sub *s)
{
    struct sub **pp;

    if (!s->on_kill)
        return;
    for (pp = &s->owner->kills; *pp; pp = &(*pp)->knext)
        if (*pp == s) {
            *pp = s->knext;
            break;
        }
    s->on_kill = false;
}

static void sub_free(struct sub *s)
{
    struct sio_stream *g = s->owner;

    sub_unkill(s);
    if (s->prev)
        s->prev->next = s->next;
    else if (g->subs == s)
        g->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    hub_detach(s->hc);
    sio_up_free(s->up);
    mqp_identity_free(s->id);
    mqp_criteria_free(s->criteria);
    free(s->tenant);
    free(s->stream);
    free(s);
}

static void sub_link(struct sio_stream *g, struct sub *s)
{
    sio_socket_set_app(s->sk, s);
    s->next = g->subs;
    if (g->subs)
        g->subs->prev = s;
    g->subs = s;
    g->b->metrics.connections[METRICS_CH_SOCKETIO]++;
}

static void on_wake(void *owner)
{
    struct sub *s = owner;

    if (hub_consumer_live(s->hc)) {
        if (!s->live_seen) {
            s->live_seen = true;
            s->key_due = webpush_key_for(s->owner->b, s->tenant, s->stream) != NULL;
        }
        sio_socket_accept(s->sk);
    }
    sio_socket_want_write(s->sk);
}

static void on_check(uv_check_t *h);

/* Nothing to do: an active idle handle only keeps libuv from blocking in poll. */
static void on_idle(uv_idle_t *h)
{
    (void)h;
}

/* Nothing is closed from inside the hub's fan-out: the socket goes at the end of the turn. */
static void on_drop(void *owner, const char *reason)
{
    struct sub *s = owner;
    struct sio_stream *g = s->owner;

    s->hc = NULL;
    s->kill = strcmp(reason, "slow") == 0 ? "slow" : "stream-removed";
    if (!s->on_kill) {
        s->on_kill = true;
        s->knext = g->kills;
        g->kills = s;
        uv_check_start(&g->check, on_check);
        /* a drop from a timer (the hub's slow check) must not wait for the next I/O */
        uv_idle_start(&g->idle, on_idle);
    }
}

static const struct hub_consumer_ops consumer_ops = {on_wake, on_drop};

static void on_check(uv_check_t *h)
{
    struct sio_stream *g = h->data;

    uv_check_stop(h);
    uv_idle_stop(&g->idle);
    while (g->kills) {
        struct sub *s = g->kills;

        g->kills = s->knext;
        s->on_kill = false;
        g->b->metrics.deliveries[METRICS_CH_SOCKETIO][METRICS_RES_DROPPED]++;
        if (strcmp(s->kill, "slow") == 0)
            sio_socket_close_conn(s->sk, "slow client"); /* frees s */
        else
            sio_socket_disconnect(s->sk); /* frees s */
    }
}

static json_object *compile_criteria(json_object *auth, const struct handshake *h,
                                     struct mqp_criteria **out, char *msg, size_t msglen)
{
    json_object *spec = NULL, *v;
    json_object *err = NULL;

    *out = NULL;
    if (auth && json_object_object_get_ex(auth, "criteria", &v) && v) {
        spec = json_object_get(v);
    } else if (h && h->criteria) {
        struct json_tokener *tok = json_tokener_new();

        spec = tok ? json_tokener_parse_ex(tok, h->criteria, (int)strlen(h->criteria)) : NULL;
        if (spec == NULL || json_tokener_get_error(tok) != json_tokener_success ||
            tok->char_offset != (int)strlen(h->criteria)) {
            json_object_put(spec);
            spec = NULL;
            err = refusal("bad_criteria", "criteria: not valid JSON");
        }
        if (tok)
            json_tokener_free(tok);
    }
    if (spec && mqp_criteria_compile(spec, out, msg, msglen) != 0)
        err = refusal("bad_criteria", msg);
    json_object_put(spec);
    return err;
}

static const char *auth_string(json_object *auth, const char *key)
{
    json_object *v;

    if (auth && json_object_object_get_ex(auth, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* A UnifiedPush distributor (auth.unifiedpush or ?unifiedpush=1, socketio/sio_up.h): its
 * messages come from the store, not from a stream. */
static int connect_up(struct sio_stream *g, struct sio_socket *sk, json_object *auth,
                      const struct handshake *h, const char *tenant, json_object **err)
{
    const char *token = auth_string(auth, "token");
    struct sub *s = calloc(1, sizeof(*s));
    bool too_long = token == NULL && h && h->token_too_long;

    if (token == NULL && h)
        token = h->token;
    if (s == NULL || (s->tenant = strdup(tenant)) == NULL) {
        free(s);
        *err = refusal("unavailable", "out of memory");
        return -1;
    }
    if (sio_up_connect(g->ups, sk, tenant, token, too_long, auth, &s->up, &s->exp, err) != 0) {
        free(s->tenant);
        free(s);
        return -1;
    }
    s->owner = g;
    s->sk = sk;
    sub_link(g, s);
    sio_socket_want_write(sk); /* the stored messages */
    return 0;
}

static int on_connect(void *ud, struct sio_socket *sk, json_object *auth, json_object **err)
{
    struct sio_stream *g = ud;
    struct bridge *b = g->b;
    const struct handshake *h = sio_socket_conn_app(sk);
    const char *nsp = sio_socket_nsp(sk), *tenant = nsp + 1;
    const char *stream_id = auth_string(auth, "stream"), *token = auth_string(auth, "token");
    const char *pid = auth_string(auth, "pid"), *offset = auth_string(auth, "offset");
    struct http_caller who = {0};
    const struct mqp_stream *stream;
    struct recovery *rec = NULL;
    enum http_denial d;
    enum hub_resume resume = HUB_RESUME_NONE;
    size_t replay = 0;
    char msg[160], newpid[PID_LEN + 1];
    struct sub *s = NULL;

    if (b->stopping) {
        *err = refusal("unavailable", "the server is shutting down");
        return -1;
    }
    if (tenant[0] == '\0' || mqp_config_tenant(b->streams, tenant, strlen(tenant)) == NULL) {
        *err = refusal("unknown_tenant", "no tenant has this namespace");
        return -1;
    }
    if (sio_up_wanted(auth, h && h->unifiedpush))
        return connect_up(g, sk, auth, h, tenant, err);
    if (stream_id == NULL)
        stream_id = h ? h->stream : NULL;
    if (stream_id == NULL || stream_id[0] == '\0') {
        *err = refusal("stream_required", "name the stream with auth.stream or ?stream=");
        return -1;
    }
    if (token == NULL && h && h->token_too_long) {
        *err = refusal("auth_failed", "token too large");
        return -1;
    }
    if (token == NULL && h)
        token = h->token;
    d = http_decide(b, token, tenant, stream_id, &who, &stream, msg, sizeof(msg));
    if (d != HTTP_OK) {
        *err = refusal(denial_code(d, msg), msg);
        return -1;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto oom;
    s->owner = g;
    s->sk = sk;
    s->id = who.id;
    who.id = NULL;
    s->exp = s->id ? s->id->exp : INT64_MAX;
    s->tenant = strdup(tenant);
    s->stream = strdup(stream_id);
    if (s->tenant == NULL || s->stream == NULL)
        goto oom;
    *err = compile_criteria(auth, h, &s->criteria, msg, sizeof(msg));
    if (*err)
        goto refused;
    /* Connection state recovery: a known pid and an offset the buffer still holds. */
    if (pid && offset && b->cfg->socketio.recovery_window_s > 0)
        rec = recovery_take(g, pid, tenant, stream_id);
    if (hub_attach(b->hub, tenant, stream_id, rec ? offset : NULL, &consumer_ops, s, &s->hc,
                   &resume, &replay) != 0)
        goto oom;
    if (b->cfg->socketio.recovery_window_s > 0) {
        if (rec && resume == HUB_RESUME_OK) {
            sio_socket_set_ids(sk, rec->sid, pid);
        } else if (sio_random_id(newpid) != 0 || sio_socket_set_ids(sk, NULL, newpid) != 0) {
            goto oom;
        }
    }
    if (rec)
        recovery_free(rec);
    sub_link(g, s);
    /* An event published before the broker confirmed the subscription might not come: the
     * CONNECT answer waits for it (hub wake), so that "connect" means "live". */
    if (hub_consumer_live(s->hc)) {
        s->live_seen = true;
        s->key_due = webpush_key_for(b, tenant, stream_id) != NULL;
        sio_socket_want_write(sk);
        return 0;
    }
    return 1;
oom:
    *err = refusal("unavailable", "out of memory");
refused:
    if (rec)
        recovery_free(rec);
    if (s) {
        hub_detach(s->hc);
        s->hc = NULL;
        mqp_identity_free(s->id);
        mqp_criteria_free(s->criteria);
        free(s->tenant);
        free(s->stream);
        free(s);
    }
    http_caller_clear(&who);
    return -1;
}

static void on_event(void *ud, struct sio_socket *sk, json_object *args, int64_t ack,
                     const struct sio_blob *blobs, size_t n_blobs)
{
    json_object *none;

    (void)ud;
    (void)args;
    (void)blobs;
    (void)n_blobs;
    /* The stream is one-way; an acknowledgement asked for is given, empty. */
    if (ack < 0)
        return;
    none = json_object_new_array();
    sio_socket_ack(sk, ack, none, NULL, 0);
    json_object_put(none);
}

/* Only distributor sockets ask for acks (socketio/sio_up.h): one acknowledges a message. */
static void on_ack(void *ud, struct sio_socket *sk, int64_t id, json_object *args,
                   const struct sio_blob *blobs, size_t n_blobs)
{
    struct sub *s = sio_socket_app(sk);

    (void)ud;
    (void)args;
    (void)blobs;
    (void)n_blobs;
    if (s && s->up)
        sio_up_ack(s->up, id);
}

static void on_disconnect(void *ud, struct sio_socket *sk, const char *reason)
{
    struct sio_stream *g = ud;
    struct sub *s = sio_socket_app(sk);

    if (s == NULL)
        return;
    g->b->metrics.connections[METRICS_CH_SOCKETIO]--;
    /* A socket lost with its transport may come back; one that left on purpose may not. */
    if (strcmp(reason, "client namespace disconnect") != 0 &&
        strcmp(reason, "server namespace disconnect") != 0 &&
        strcmp(reason, "server shutting down") != 0 && strcmp(reason, "slow client") != 0)
        recovery_keep(g, s);
    sub_free(s);
}

/* Does the event name need JSON escaping? Topic segments come from the streams file's ids,
 * but a broker message can carry any topic. */
static bool plain(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

static char *scratch(struct sio_stream *g, size_t need)
{
    if (need > g->scratch_cap) {
        char *n = realloc(g->scratch, need);

        if (n == NULL)
            return NULL;
        g->scratch = n;
        g->scratch_cap = need;
    }
    return g->scratch;
}

/* "2/<tenant>,["<ns>:<name>",<event>,"<offset>"]": Socket.IO EVENT, with the offset as the
 * last argument as socket.io's connection state recovery expects. */
static void on_pull(void *ud, struct sio_socket *sk)
{
    struct sio_stream *g = ud;
    struct sub *s = sio_socket_app(sk);
    struct metrics *m = &g->b->metrics;
    const struct hub_event *ev;
    size_t nl = strlen(sio_socket_nsp(sk));

    if (s && s->up)
        sio_up_pull(s->up);
    if (s == NULL || s->hc == NULL)
        return;
    if (s->key_due) {
        const char *key = webpush_key_for(g->b, s->tenant, s->stream);
        char *p = scratch(g, nl + strlen(s->stream) + 256);

        if (p == NULL)
            return;
        if (key && sio_socket_put(sk, p,
                                  (size_t)sprintf(p,
                                                  "2%s,[\"mqpush:vapid-key\",{\"namespace\":"
                                                  "\"mqpush\",\"name\":\"vapid-key\",\"stream\":"
                                                  "\"%s\",\"payload\":{\"key\":\"%s\"}}]",
                                                  sio_socket_nsp(sk), s->stream, key)) != 0)
            return;
        s->key_due = false;
    }
    while ((ev = hub_consumer_peek(s->hc)) != NULL) {
        const struct mqp_stream *st =
            mqp_stream_ref_get(&s->model, g->b->streams, s->tenant, s->stream);
        size_t cap, len;
        char *p;

        if (!mqp_stream_subscriber_match(st, s->id, ev->parsed) ||
            (s->criteria && !mqp_criteria_match(s->criteria, ev->parsed))) {
            m->deliveries[METRICS_CH_SOCKETIO][METRICS_RES_FILTERED]++;
            hub_consumer_advance(s->hc);
            continue;
        }
        if (!plain(ev->ns_name)) {
            hub_consumer_advance(s->hc);
            continue;
        }
        cap = nl + strlen(ev->ns_name) + ev->json_len + HUB_ID_LEN + 16;
        p = scratch(g, cap);
        if (p == NULL)
            return;
        len = (size_t)snprintf(p, cap, "2%s,[\"%s\",%s,\"%s\"]", sio_socket_nsp(sk), ev->ns_name,
                               ev->json, ev->id);
        if (sio_socket_put(sk, p, len) != 0)
            return; /* the write is full: pull() comes again */
        m->deliveries[METRICS_CH_SOCKETIO][METRICS_RES_OK]++;
        hub_consumer_advance(s->hc);
    }
}

static const struct sio_app_ops app_ops = {
    .on_handshake = on_handshake,
    .on_conn_close = on_conn_close,
    .on_connect = on_connect,
    .on_event = on_event,
    .on_ack = on_ack,
    .on_disconnect = on_disconnect,
    .pull = on_pull,
};

/* Expired tokens, recovery records. */
static void on_tick(uv_timer_t *t)
{
    struct sio_stream *g = t->data;
    int64_t now = (int64_t)time(NULL);
    struct sub *s, *next;

    for (s = g->subs; s; s = next) {
        next = s->next;
        if (s->exp <= now)
            sio_socket_disconnect(s->sk); /* frees s */
    }
    recovery_prune(g);
}

int sio_stream_start(struct bridge *b)
{
    const struct bridge_config *cfg = b->cfg;
    struct sio_stream *g;
    struct sio_params p;

    if (!cfg->socketio.enabled)
        return 0;
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -1;
    g->b = b;
    memset(&p, 0, sizeof(p));
    p.eio.ping_interval_ms = cfg->socketio.ping_interval_ms;
    p.eio.ping_timeout_ms = cfg->socketio.ping_timeout_ms;
    p.eio.max_payload = cfg->socketio.max_payload;
    p.eio.max_queue_bytes = cfg->limits.send_queue_bytes;
    p.eio.max_sessions = cfg->limits.max_connections;
    p.eio.cors_origins = (const char *const *)cfg->socketio.cors_origins;
    p.eio.n_cors_origins = cfg->socketio.n_cors_origins;
    p.connect_timeout_ms = cfg->socketio.connect_timeout_ms;
    p.max_attachments = 16;
    if (sio_up_set_new(b, &g->ups) != 0 || sio_server_new(b->loop, &p, &app_ops, g, &g->srv) != 0) {
        sio_up_set_free(g->ups);
        free(g);
        return -1;
    }
    uv_timer_init(b->loop, &g->tick);
    uv_check_init(b->loop, &g->check);
    uv_idle_init(b->loop, &g->idle);
    g->tick.data = g->check.data = g->idle.data = g;
    g->open_handles = 3;
    uv_timer_start(&g->tick, on_tick, TICK_MS, TICK_MS);
    b->socketio = g;
    return 0;
}

struct eio_server *sio_stream_eio(struct bridge *b)
{
    return G(b) ? sio_server_eio(G(b)->srv) : NULL;
}

void sio_stream_announce_key(struct bridge *b)
{
    struct sio_stream *g = G(b);
    struct sub *s;

    for (s = g ? g->subs : NULL; s; s = s->next) {
        if (s->live_seen && webpush_key_for(b, s->tenant, s->stream)) {
            s->key_due = true;
            sio_socket_want_write(s->sk);
        }
    }
}

void sio_stream_recheck(struct bridge *b)
{
    struct sio_stream *g = G(b);
    struct sub *s, *next;

    if (g == NULL)
        return;
    for (s = g->subs; s; s = next) {
        const struct mqp_tenant *t = mqp_config_tenant(b->streams, s->tenant, strlen(s->tenant));
        const struct mqp_stream *st =
            t && s->stream ? mqp_tenant_stream(t, s->stream, strlen(s->stream)) : NULL;

        next = s->next;
        if (s->up ? t == NULL : st == NULL || !mqp_stream_readable(st, s->id))
            sio_socket_disconnect(s->sk);
    }
}

void sio_stream_shutdown(struct bridge *b)
{
    if (G(b))
        sio_server_shutdown(G(b)->srv);
}

static void handle_closed(uv_handle_t *h)
{
    struct sio_stream *g = h->data;

    if (--g->open_handles == 0) {
        free(g->scratch);
        free(g);
    }
}

void sio_stream_free(struct bridge *b)
{
    struct sio_stream *g = G(b);

    if (g == NULL)
        return;
    sio_server_free(g->srv);
    sio_up_set_free(g->ups); /* after the server: its sockets are gone */
    while (g->recoveries) {
        struct recovery *r = g->recoveries;

        g->recoveries = r->next;
        recovery_free(r);
    }
    uv_timer_stop(&g->tick);
    uv_check_stop(&g->check);
    uv_idle_stop(&g->idle);
    uv_close((uv_handle_t *)&g->tick, handle_closed);
    uv_close((uv_handle_t *)&g->check, handle_closed);
    uv_close((uv_handle_t *)&g->idle, handle_closed);
    b->socketio = NULL;
}

size_t sio_stream_sockets(const struct bridge *b)
{
    const struct sio_stream *g = b->socketio;

    return g ? sio_server_sockets(g->srv) : 0;
}

size_t sio_stream_sessions(const struct bridge *b)
{
    const struct sio_stream *g = b->socketio;

    return g ? eio_server_sessions(sio_server_eio(g->srv)) : 0;
}
