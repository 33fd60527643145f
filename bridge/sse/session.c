/*
 * Stream sessions (SSE and WebSocket). The wire format is in docs/http-api.md; the SSE framing
 * rules are the WHATWG HTML "Server-sent events" section (9.2): a blank line ends an event,
 * "id" sets the client's last event id even on named events, lines starting with ':' are
 * comments.
 */
#include "sse/session_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "access.h"
#include "criteria.h"
#include "hub.h"
#include "http/request.h"
#include "subscriber.h"
#include "webpush/webpush.h"

/* What one write may carry: enough to coalesce a burst, small enough to keep every client
 * moving when many are behind. */
#define WRITE_BUDGET (64 * 1024)
/* Room for a control frame after the events. */
#define CONTROL_ROOM 256
/* How often idle SSE connections are checked for a client that left. */
#define PROBE_INTERVAL_MS 1000

static struct stream_registry *registry(struct bridge *b)
{
    struct stream_registry *r = b->sessions;

    return r;
}

/* Make room for need bytes after LWS_PRE in the shared scratch buffer. */
static unsigned char *scratch(struct stream_registry *r, size_t need)
{
    if (LWS_PRE + need > r->scratch_cap) {
        size_t cap = LWS_PRE + need + WRITE_BUDGET;
        unsigned char *n = realloc(r->scratch, cap);

        if (n == NULL)
            return NULL;
        r->scratch = n;
        r->scratch_cap = cap;
    }
    return r->scratch + LWS_PRE;
}

static void undefer(struct stream_sess *ss);

static void sess_free(struct stream_sess *ss)
{
    struct stream_registry *r = ss->reg;
    struct bridge *b = r->b;

    undefer(ss);
    hub_detach(ss->hc);
    mqp_identity_free(ss->id);
    mqp_criteria_free(ss->criteria);
    free(ss->tenant);
    free(ss->stream);
    if (ss->prev)
        ss->prev->next = ss->next;
    else
        r->head = ss->next;
    if (ss->next)
        ss->next->prev = ss->prev;
    r->n--;
    b->metrics.connections[ss->ws ? METRICS_CH_WS : METRICS_CH_SSE]--;
    free(ss);
}

/* End the session gracefully: mqpush:reconnect {reason}, then close. */
static void sess_end(struct stream_sess *ss, const char *reason)
{
    if (ss->end_reason || ss->killed)
        return;
    hub_detach(ss->hc);
    ss->hc = NULL;
    ss->end_reason = reason;
    lws_callback_on_writable(ss->c->wsi);
}

static int sse_writable(struct stream_sess *ss);

/* Take ss off whichever wake queue it is on. */
static void undefer(struct stream_sess *ss)
{
    struct stream_registry *r = ss->reg;

    if (ss->queued == Q_NONE)
        return;
    if (ss->dprev)
        ss->dprev->dnext = ss->dnext;
    else if (ss->queued == Q_NOW)
        r->now = ss->dnext;
    else
        r->deferred = ss->dnext;
    if (ss->dnext)
        ss->dnext->dprev = ss->dprev;
    ss->dprev = ss->dnext = NULL;
    ss->queued = Q_NONE;
}

static void enqueue(struct stream_sess *ss, enum wake_queue q)
{
    struct stream_registry *r = ss->reg;
    struct stream_sess **head = q == Q_NOW ? &r->now : &r->deferred;

    ss->queued = q;
    ss->dprev = NULL;
    ss->dnext = *head;
    if (*head)
        (*head)->dprev = ss;
    *head = ss;
}

/*
 * Write what is pending now, from the loop rather than from a WRITEABLE callback: asking lws
 * for writability costs two epoll_ctl calls and a loop turn per write, more than the write
 * itself. This is safe while lws holds no unsent part of an earlier write (lws_write() keeps
 * what the socket did not take and sends it when it can); otherwise, and for WebSockets
 * (one frame per lws_write()), we wait for the callback as usual.
 */
static void push_now(struct stream_sess *ss)
{
    struct lws *wsi = ss->c->wsi;

    if (ss->ws || lws_partial_buffered(wsi)) {
        lws_callback_on_writable(wsi);
        return;
    }
    if (sse_writable(ss) < 0) {
        ss->killed = true;
        hub_detach(ss->hc);
        ss->hc = NULL;
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void flush_queue(struct stream_registry *r, struct stream_sess **head)
{
    while (*head) {
        struct stream_sess *ss = *head;

        undefer(ss);
        push_now(ss);
    }
}

static void on_flush(uv_timer_t *t)
{
    struct stream_registry *r = t->data;

    flush_queue(r, &r->deferred);
}

/* After the loop has handled everything that arrived in this turn. */
static void on_check(uv_check_t *h)
{
    struct stream_registry *r = h->data;

    uv_check_stop(h);
    flush_queue(r, &r->now);
}

/*
 * Events are waiting. Nothing is written from inside the hub's fan-out: a session is queued,
 * and every event that arrived in this loop turn goes out in one write at its end. A session
 * that wrote less than coalesce_ms ago waits for the coalescing timer instead, so that under
 * load a client gets one write per interval carrying everything pending; a quiet one is
 * served in the same turn, so a lone event pays no delay.
 */
static void on_wake(void *owner)
{
    struct stream_sess *ss = owner;
    struct stream_registry *r = ss->reg;
    unsigned co = r->b->cfg->sse.coalesce_ms;
    uint64_t now = uv_now(r->b->loop);

    if (ss->queued != Q_NONE || ss->killed)
        return;
    if (co == 0 || now - ss->last_write_ms >= co) {
        if (r->now == NULL)
            uv_check_start(&r->check, on_check);
        enqueue(ss, Q_NOW);
        return;
    }
    if (r->deferred == NULL)
        uv_timer_start(&r->flush, on_flush, co - (now - ss->last_write_ms), 0);
    enqueue(ss, Q_DEFERRED);
}

static void on_drop(void *owner, const char *reason)
{
    struct stream_sess *ss = owner;

    ss->hc = NULL;
    if (strcmp(reason, "slow") == 0) {
        /* Its socket is not draining: a goodbye frame would not get through either. */
        ss->killed = true;
        lws_set_timeout(ss->c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    sess_end(ss, reason);
}

const struct hub_consumer_ops session__consumer_ops = {on_wake, on_drop};

/* Appends to a frame being built in the scratch buffer. */
struct out {
    struct stream_registry *r;
    unsigned char *p;
    size_t len;
    bool failed;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    unsigned char *p;

    if (o->failed)
        return;
    p = scratch(o->r, o->len + n + CONTROL_ROOM);
    if (p == NULL) {
        o->failed = true;
        return;
    }
    o->p = p;
    memcpy(p + o->len, s, n);
    o->len += n;
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(tmp))
        out_put(o, tmp, (size_t)n);
}

static void ready_frame(struct stream_sess *ss, struct out *o)
{
    char cursor[HUB_ID_LEN + 3];

    ss->key_due = webpush_key_for(ss->reg->b, ss->tenant, ss->stream) != NULL;
    if (ss->ready_id[0])
        snprintf(cursor, sizeof(cursor), "\"%s\"", ss->ready_id);
    else
        snprintf(cursor, sizeof(cursor), "null");
    if (ss->ws)
        return; /* WebSocket control frames go out one by one, see ws_control() */
    if (ss->ready_id[0])
        out_fmt(o, "event: mqpush:ready\nid: %s\ndata: {\"cursor\":%s,\"replayed\":%zu}\n\n",
                ss->ready_id, cursor, ss->replayed);
    else
        out_fmt(o, "event: mqpush:ready\ndata: {\"cursor\":null,\"replayed\":%zu}\n\n",
                ss->replayed);
}

static bool wanted(struct stream_sess *ss, const struct hub_event *ev)
{
    struct bridge *b = ss->reg->b;
    enum metrics_channel ch = ss->ws ? METRICS_CH_WS : METRICS_CH_SSE;
    const struct mqp_stream *s = mqp_stream_ref_get(&ss->model, b->streams, ss->tenant, ss->stream);

    if (!mqp_stream_subscriber_match(s, ss->id, ev->parsed) ||
        (ss->criteria && !mqp_criteria_match(ss->criteria, ev->parsed))) {
        b->metrics.deliveries[ch][METRICS_RES_FILTERED]++;
        return false;
    }
    b->metrics.deliveries[ch][METRICS_RES_OK]++;
    return true;
}

static void consumed(struct stream_sess *ss, bool sent)
{
    hub_consumer_advance(ss->hc);
    if (ss->replay_left) {
        ss->replay_left--;
        if (sent)
            ss->replayed++;
    }
}

static int sse_writable(struct stream_sess *ss)
{
    struct stream_registry *r = ss->reg;
    struct lws *wsi = ss->c->wsi;
    struct out o = {r, scratch(r, CONTROL_ROOM), 0, false};
    const struct hub_event *ev;
    bool more = false;

    if (ss->close_after_write || ss->killed)
        return -1;
    if (o.p == NULL)
        return -1;
    if (!ss->preamble_done) {
        out_fmt(&o, "retry: %u\n\n", r->b->cfg->sse.retry_ms);
        if (hub_resume_reason(ss->resume))
            out_fmt(&o, "event: mqpush:reset\ndata: {\"reason\":\"%s\"}\n\n",
                    hub_resume_reason(ss->resume));
        ss->preamble_done = true;
    }
    if (!ss->ready_sent && ss->replay_left == 0 && ss->hc && hub_consumer_live(ss->hc)) {
        ready_frame(ss, &o);
        ss->ready_sent = true;
    }
    while (ss->hc && !ss->end_reason && (ev = hub_consumer_peek(ss->hc)) != NULL) {
        bool send;

        if (o.len > 0 && o.len + ev->sse_len > WRITE_BUDGET) {
            more = true;
            break;
        }
        send = wanted(ss, ev);
        if (send)
            out_put(&o, ev->sse, ev->sse_len);
        consumed(ss, send);
        if (!ss->ready_sent && ss->replay_left == 0 && hub_consumer_live(ss->hc)) {
            ready_frame(ss, &o);
            ss->ready_sent = true;
        }
    }
    if (ss->key_due && ss->ready_sent && !ss->end_reason) {
        const char *key = webpush_key_for(r->b, ss->tenant, ss->stream);

        if (key)
            out_fmt(&o,
                    "event: mqpush:vapid-key\ndata: {\"namespace\":\"mqpush\",\"name\":"
                    "\"vapid-key\",\"stream\":\"%s\",\"payload\":{\"key\":\"%s\"}}\n\n",
                    ss->stream, key);
        ss->key_due = false;
    }
    if (ss->end_reason) {
        out_fmt(&o, "event: mqpush:reconnect\ndata: {\"reason\":\"%s\"}\n\n", ss->end_reason);
        ss->close_after_write = true;
    }
    if (o.len == 0 && ss->hb_due)
        out_put(&o, ": hb\n\n", 6);
    ss->hb_due = false;
    if (o.failed)
        return -1;
    if (o.len > 0) {
        if (lws_write(wsi, o.p, o.len, LWS_WRITE_HTTP) < 0)
            return -1;
        ss->last_write_ms = uv_now(r->b->loop);
    }
    if (more || ss->close_after_write)
        lws_callback_on_writable(wsi);
    return 0;
}

/* One WebSocket text frame from s. Returns -1 on failure. */
static int ws_text(struct stream_sess *ss, const char *s, size_t n)
{
    unsigned char *p = scratch(ss->reg, n);

    if (p == NULL)
        return -1;
    memcpy(p, s, n);
    if (lws_write(ss->c->wsi, p, n, LWS_WRITE_TEXT) < (int)n)
        return -1;
    ss->last_write_ms = uv_now(ss->reg->b->loop);
    return 0;
}

static int ws_control(struct stream_sess *ss, const char *name, const char *fields)
{
    char buf[512];
    int n =
        snprintf(buf, sizeof(buf), "{\"namespace\":\"mqpush\",\"name\":\"%s\",%s}", name, fields);

    return n > 0 && (size_t)n < sizeof(buf) ? ws_text(ss, buf, (size_t)n) : -1;
}

static int ws_ready(struct stream_sess *ss)
{
    char fields[128];

    if (ss->ready_id[0])
        snprintf(fields, sizeof(fields), "\"cursor\":\"%s\",\"replayed\":%zu", ss->ready_id,
                 ss->replayed);
    else
        snprintf(fields, sizeof(fields), "\"cursor\":null,\"replayed\":%zu", ss->replayed);
    ss->ready_sent = true;
    ss->key_due = webpush_key_for(ss->reg->b, ss->tenant, ss->stream) != NULL;
    return ws_control(ss, "ready", fields);
}

static int ws_writable(struct stream_sess *ss)
{
    struct lws *wsi = ss->c->wsi;
    const struct hub_event *ev;
    char fields[96];

    if (ss->killed)
        return -1;
    if (ss->close_after_write) {
        return http_ws_close(wsi, LWS_CLOSE_STATUS_GOINGAWAY,
                             ss->end_reason ? ss->end_reason : "going-away");
    }
    if (!ss->preamble_done) {
        ss->preamble_done = true;
        if (hub_resume_reason(ss->resume)) {
            snprintf(fields, sizeof(fields), "\"reason\":\"%s\"", hub_resume_reason(ss->resume));
            if (ws_control(ss, "reset", fields))
                return -1;
        }
    }
    if (!ss->ready_sent && ss->replay_left == 0 && ss->hc && hub_consumer_live(ss->hc) &&
        ws_ready(ss))
        return -1;
    while (ss->hc && !ss->end_reason && !lws_send_pipe_choked(wsi) &&
           (ev = hub_consumer_peek(ss->hc)) != NULL) {
        bool send = wanted(ss, ev);

        if (send && ws_text(ss, ev->json, ev->json_len))
            return -1;
        consumed(ss, send);
        if (!ss->ready_sent && ss->replay_left == 0 && hub_consumer_live(ss->hc) && ws_ready(ss))
            return -1;
    }
    if (ss->key_due && ss->ready_sent && !ss->end_reason && !lws_send_pipe_choked(wsi)) {
        const char *key = webpush_key_for(ss->reg->b, ss->tenant, ss->stream);
        char kf[320];

        ss->key_due = false;
        snprintf(kf, sizeof(kf), "\"stream\":\"%s\",\"payload\":{\"key\":\"%s\"}", ss->stream,
                 key ? key : "");
        if (key && ws_control(ss, "vapid-key", kf))
            return -1;
    }
    if (ss->end_reason && !lws_send_pipe_choked(wsi)) {
        snprintf(fields, sizeof(fields), "\"reason\":\"%s\"", ss->end_reason);
        if (ws_control(ss, "reconnect", fields))
            return -1;
        ss->close_after_write = true;
    }
    if (ss->hb_due && !lws_send_pipe_choked(wsi)) {
        unsigned char ping[LWS_PRE + 1];

        if (lws_write(wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        ss->last_write_ms = uv_now(ss->reg->b->loop);
    }
    ss->hb_due = false;
    if (ss->close_after_write || (ss->hc && hub_consumer_backlog(ss->hc) > 0))
        lws_callback_on_writable(wsi);
    return 0;
}

int session_writable(struct conn *c)
{
    struct stream_sess *ss = c->ss;

    if (ss == NULL)
        return -1;
    return ss->ws ? ws_writable(ss) : sse_writable(ss);
}

void session_closed(struct conn *c)
{
    if (c->ss == NULL)
        return;
    sess_free(c->ss);
    c->ss = NULL;
}

/*
 * Has the client of an SSE session gone? lws does not read from an HTTP connection while it
 * serves a response, so a client that closes an idle stream would only be noticed at the next
 * write. A peek tells: 0 is the peer's FIN, an error other than EAGAIN a reset.
 */
static bool peer_gone(struct lws *wsi)
{
    char b;
    ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);

    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Heartbeats, token expiry and departed clients, checked on one timer for every session. */
static void on_tick(uv_timer_t *t)
{
    struct stream_registry *r = t->data;
    uint64_t now = uv_now(r->b->loop), hb = r->b->cfg->sse.heartbeat_ms;
    int64_t wall = (int64_t)time(NULL);
    struct stream_sess *ss, *next;
    bool probe = now - r->last_probe_ms >= PROBE_INTERVAL_MS;

    if (probe)
        r->last_probe_ms = now;
    for (ss = r->head; ss; ss = next) {
        next = ss->next;
        if (ss->killed || ss->end_reason)
            continue;
        if (probe && !ss->ws && peer_gone(ss->c->wsi)) {
            ss->killed = true;
            hub_detach(ss->hc);
            ss->hc = NULL;
            lws_set_timeout(ss->c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            continue;
        }
        if (ss->exp <= wall) {
            sess_end(ss, "token-expired");
            continue;
        }
        if (now - ss->last_write_ms >= hb && !ss->hb_due) {
            ss->hb_due = true;
            lws_callback_on_writable(ss->c->wsi);
        }
    }
}

int session__registry_init(struct bridge *b)
{
    struct stream_registry *r;
    unsigned hb = b->cfg->sse.heartbeat_ms;

    if (b->sessions)
        return 0;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -1;
    r->b = b;
    r->tick_ms = hb / 4 < 20 ? 20 : hb / 4 > 1000 ? 1000 : hb / 4;
    uv_timer_init(b->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_tick, r->tick_ms, r->tick_ms);
    uv_unref((uv_handle_t *)&r->timer);
    uv_timer_init(b->loop, &r->flush);
    r->flush.data = r;
    uv_check_init(b->loop, &r->check);
    r->check.data = r;
    r->open_handles = 3;
    uv_unref((uv_handle_t *)&r->flush);
    b->sessions = r;
    return 0;
}

/* Every handle's close callback comes here; the last frees the registry. */
static void registry_free_cb(uv_handle_t *h)
{
    struct stream_registry *r = h->data;

    if (--r->open_handles > 0)
        return;
    free(r->scratch);
    free(r);
}

void sessions_fini(struct bridge *b)
{
    struct stream_registry *r = b->sessions;

    if (r == NULL)
        return;
    while (r->head) {
        struct stream_sess *ss = r->head;

        ss->c->ss = NULL;
        sess_free(ss);
    }
    b->sessions = NULL;
    uv_timer_stop(&r->timer);
    uv_timer_stop(&r->flush);
    uv_close((uv_handle_t *)&r->flush, registry_free_cb);
    uv_check_stop(&r->check);
    uv_close((uv_handle_t *)&r->check, registry_free_cb);
    uv_close((uv_handle_t *)&r->timer, registry_free_cb);
}

size_t sessions_count(const struct bridge *b)
{
    return b->sessions ? b->sessions->n : 0;
}

void sessions_shutdown(struct bridge *b)
{
    struct stream_registry *r = registry(b);
    struct stream_sess *ss;

    if (r == NULL)
        return;
    for (ss = r->head; ss; ss = ss->next) {
        hub_detach(ss->hc);
        ss->hc = NULL;
        if (ss->ws) {
            ss->close_after_write = true;
            lws_callback_on_writable(ss->c->wsi);
        } else {
            ss->killed = true;
            lws_set_timeout(ss->c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
    }
}

void sessions_announce_key(struct bridge *b)
{
    struct stream_registry *r = registry(b);
    struct stream_sess *ss;

    for (ss = r ? r->head : NULL; ss; ss = ss->next) {
        if (ss->ready_sent && !ss->end_reason && !ss->killed &&
            webpush_key_for(b, ss->tenant, ss->stream)) {
            ss->key_due = true;
            lws_callback_on_writable(ss->c->wsi);
        }
    }
}

void sessions_recheck(struct bridge *b)
{
    struct stream_registry *r = registry(b);
    struct stream_sess *ss, *next;

    if (r == NULL)
        return;
    for (ss = r->head; ss; ss = next) {
        const struct mqp_tenant *t;
        const struct mqp_stream *s;

        next = ss->next;
        if (ss->end_reason || ss->killed)
            continue;
        t = mqp_config_tenant(b->streams, ss->tenant, strlen(ss->tenant));
        s = t ? mqp_tenant_stream(t, ss->stream, strlen(ss->stream)) : NULL;
        if (s == NULL)
            sess_end(ss, "stream-removed");
        else if (!mqp_stream_readable(s, ss->id))
            sess_end(ss, "access-revoked");
    }
}

void session__link(struct bridge *b, struct stream_sess *ss)
{
    ss->next = b->sessions->head;
    if (ss->next)
        ss->next->prev = ss;
    b->sessions->head = ss;
    b->sessions->n++;
    b->metrics.connections[ss->ws ? METRICS_CH_WS : METRICS_CH_SSE]++;
}
