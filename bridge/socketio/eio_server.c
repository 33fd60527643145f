/*
 * Engine.IO v4 server: the session table, what a session has to send and how it is gathered
 * into one write, and the application's side. The transports are in eio_transport.c.
 */
#include "socketio/eio_server_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_sid(const char *sid, size_t nb)
{
    size_t h = 5381;

    for (; *sid; sid++)
        h = h * 33 + (unsigned char)*sid;
    return h & (nb - 1);
}

struct eio_sess *eio__find(struct eio_server *srv, const char *sid)
{
    struct eio_sess *s;

    for (s = srv->buckets[hash_sid(sid, srv->nbuckets)]; s; s = s->hnext)
        if (strcmp(eio_session_sid(s->core), sid) == 0)
            return s;
    return NULL;
}

static void unhash(struct eio_sess *s)
{
    struct eio_server *srv = s->srv;
    struct eio_sess **pp = &srv->buckets[hash_sid(eio_session_sid(s->core), srv->nbuckets)];

    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == s) {
            *pp = s->hnext;
            srv->n--;
            return;
        }
}

/* ---- sessions ---- */

static void core_message(void *ud, const char *data, size_t len, bool binary)
{
    struct eio_sess *s = ud;

    s->srv->ops->on_message(s->srv->ud, s, data, len, binary);
}

bool eio__ws_carries(const struct eio_sess *s)
{
    return s->ws && (s->ws_only || eio_session_upgraded(s->core));
}

/* Output is waiting: arrange a write on whichever transport carries the session. */
void eio__schedule(struct eio_sess *s)
{
    struct eio_server *srv = s->srv;

    if (s->closed)
        return;
    if (eio__ws_carries(s)) {
        if (!s->ready) {
            s->ready = true;
            s->rnext = srv->ready;
            srv->ready = s;
            eio__start_check(srv);
        }
    } else if (s->get) {
        lws_callback_on_writable(s->get->wsi);
    }
}

static void core_queued(void *ud)
{
    eio__schedule(ud);
}

/* Ending a WebSocket: the close frame goes out at the next WRITEABLE. */
void eio__ws_end(struct eio_conn *c)
{
    c->sess = NULL;
    c->close_after = true;
    lws_callback_on_writable(c->wsi);
}

static void core_close(void *ud, const char *reason)
{
    struct eio_sess *s = ud;
    struct eio_server *srv = s->srv;

    s->closed = true;
    unhash(s);
    if (s->opened)
        srv->ops->on_close(srv->ud, s, reason);
    s->app = NULL;
    if (s->get) {
        /* A close packet tells a polling client that the server ended the session. A client
         * that closed it itself (a "1" POSTed beside its held GET) knows: its GET is released
         * with a noop, as the protocol's test suite expects ("forcefully closes the
         * session"). */
        struct eio_conn *g = s->get;
        const char *last = strcmp(reason, "client close") == 0 ? "6" : "1";

        s->get = NULL;
        g->sess = NULL;
        g->role = ROLE_NONE;
        if (eio__reply(g, 200, "text/plain; charset=UTF-8", last, 1, false, g->buf) != 0)
            lws_set_timeout(g->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        free(g->buf);
        g->buf = NULL;
    }
    if (s->post) {
        s->post->sess = NULL;
        s->post = NULL;
    }
    if (s->ws) {
        eio__ws_end(s->ws);
        s->ws = NULL;
    }
    /* Freed at the end of the loop turn: a caller up the stack may still hold s. */
    if (s->ready) {
        /* still linked on srv->ready: on_check skips closed sessions and frees them there. Its
         * rnext must stay: clearing it cut the list behind s, and the sessions there, marked
         * ready but never reached, were not written to again (the soak benchmark's WebSocket
         * sockets stalled until dropped as slow) nor freed at exit (timers left open). */
        return;
    }
    s->rnext = srv->dead;
    srv->dead = s;
    eio__start_check(srv);
}

static const struct eio_session_ops core_ops = {core_message, core_queued, core_close};

struct eio_sess *eio__sess_new(struct eio_server *srv)
{
    struct eio_sess *s = calloc(1, sizeof(*s));
    struct eio_params ep = {srv->p.ping_interval_ms, srv->p.ping_timeout_ms, srv->p.max_payload,
                            srv->p.max_queue_bytes};
    size_t b;

    if (s == NULL)
        return NULL;
    s->srv = srv;
    if (eio_session_new(srv->loop, &ep, &core_ops, s, &s->core) != 0) {
        free(s);
        return NULL;
    }
    b = hash_sid(eio_session_sid(s->core), srv->nbuckets);
    s->hnext = srv->buckets[b];
    srv->buckets[b] = s;
    srv->n++;
    return s;
}

static void sess_free(struct eio_sess *s)
{
    eio_session_free(s->core);
    free(s);
}

/* ---- building a write ---- */

void eio__out_begin(struct eio_server *srv, bool ws, size_t budget)
{
    srv->out.len = 0;
    srv->out_ws = ws;
    srv->out_full = false;
    srv->out_budget = budget;
    srv->out_msgs = 0;
}

/* A server-to-client frame header: FIN, opcode, unmasked payload length (RFC 6455 5.2). */
static int put_frame_header(struct eio_buf *b, int opcode, size_t len)
{
    unsigned char h[10];
    size_t hl;

    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
        hl = 2;
    } else if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    } else {
        int i;

        h[1] = 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        hl = 10;
    }
    return eio_buf_put(b, h, hl);
}

static int put_frame(struct eio_buf *b, int opcode, const void *data, size_t len)
{
    if (put_frame_header(b, opcode, len) != 0)
        return -1;
    return len ? eio_buf_put(b, data, len) : 0;
}

/* One packet into the write: a frame, or a segment of a polling body. */
static int out_packet(struct eio_server *srv, const char *text, size_t len, bool binary)
{
    if (srv->out_ws)
        return put_frame(&srv->out, binary ? 2 : 1, text, len);
    if (binary)
        return eio_payload_append(&srv->out, EIO_MESSAGE, text, len, true);
    return eio_payload_append(&srv->out, (enum eio_type)(text[0] - '0'), text + 1, len - 1, false);
}

int eio_sess_put(struct eio_sess *s, const void *data, size_t len, bool binary)
{
    struct eio_server *srv = s->srv;
    size_t cost = binary ? len + 10 : len + 11;
    int rc;

    if (srv->out_full)
        return 1;
    if (srv->out_msgs > 0 && srv->out.len + cost > srv->out_budget) {
        srv->out_full = true;
        return 1;
    }
    if (srv->out_ws) {
        if (binary)
            rc = put_frame(&srv->out, 2, data, len);
        else /* the frame holds '4' (message) then the data */
            rc = put_frame_header(&srv->out, 1, len + 1) || eio_buf_put(&srv->out, "4", 1) ||
                 (len ? eio_buf_put(&srv->out, data, len) : 0);
    } else {
        rc = eio_payload_append(&srv->out, EIO_MESSAGE, data, len, binary);
    }
    if (rc != 0) {
        srv->out_full = true;
        return 1;
    }
    srv->out_msgs++;
    return 0;
}

/* Control packets, then what the application has, into srv->out. */
void eio__gather(struct eio_sess *s)
{
    struct eio_server *srv = s->srv;
    const char *q;
    size_t len;
    bool binary;

    while ((q = eio_session_peek(s->core, &len, &binary)) != NULL) {
        if (srv->out_msgs > 0 && srv->out.len + len + 11 > srv->out_budget) {
            srv->out_full = true;
            return;
        }
        if (out_packet(srv, q, len, binary) != 0) {
            srv->out_full = true;
            return;
        }
        srv->out_msgs++;
        eio_session_pop(s->core);
    }
    if (s->want && s->opened) {
        s->want = false;
        srv->ops->pull(srv->ud, s);
        if (srv->out_full)
            s->want = true;
    }
}

bool eio__has_output(const struct eio_sess *s)
{
    size_t len;
    bool binary;

    return s->want || eio_session_peek(s->core, &len, &binary) != NULL;
}

/* Write what s has on its WebSocket, in one send. Returns -1 when the connection must close. */
int eio__ws_flush(struct eio_sess *s)
{
    struct eio_server *srv = s->srv;
    struct lws *wsi = s->ws->wsi;
    int n;

    static const char pre[LWS_PRE];

    eio__out_begin(srv, true, WS_WRITE_BUDGET);
    /* room for lws's LWS_PRE in front of the frames */
    if (eio_buf_put(&srv->out, pre, LWS_PRE) != 0)
        return -1;
    eio__gather(s);
    if (s->closed)
        return 0;
    if (srv->out.len > LWS_PRE) {
        n = lws_write(wsi, (unsigned char *)srv->out.data + LWS_PRE, srv->out.len - LWS_PRE,
                      LWS_WRITE_RAW);
        if (n < 0) {
            eio_session_close(s->core, "transport error");
            return -1;
        }
    }
    if (eio__has_output(s))
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_check(uv_check_t *h)
{
    struct eio_server *srv = h->data;

    uv_check_stop(h);
    uv_idle_stop(&srv->idle);
    while (srv->ready) {
        struct eio_sess *s = srv->ready;

        srv->ready = s->rnext;
        s->rnext = NULL;
        s->ready = false;
        if (s->closed) {
            s->rnext = srv->dead;
            srv->dead = s;
            continue;
        }
        if (!eio__ws_carries(s))
            continue;
        /* Writing from here saves lws a POLLOUT round; safe only when lws holds nothing of
         * an earlier write. */
        if (lws_partial_buffered(s->ws->wsi))
            lws_callback_on_writable(s->ws->wsi);
        else if (eio__ws_flush(s) != 0 && s->ws)
            lws_set_timeout(s->ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    while (srv->dead) {
        struct eio_sess *s = srv->dead;

        srv->dead = s->rnext;
        sess_free(s);
    }
}

/* Nothing at all to do in the idle phase: an active idle handle makes libuv poll without
 * blocking. A write scheduled from a timer (the heartbeat's ping) would otherwise wait in poll
 * for the next event or timer, as long as pingTimeout, and the session time out on a ping that
 * never left. */
static void on_idle(uv_idle_t *h)
{
    (void)h;
}

void eio__start_check(struct eio_server *srv)
{
    if (!uv_is_active((uv_handle_t *)&srv->check)) {
        uv_check_start(&srv->check, on_check);
        uv_idle_start(&srv->idle, on_idle);
    }
}

static void on_probe(uv_timer_t *t)
{
    struct eio_server *srv = t->data;
    size_t i;

    for (i = 0; i < srv->nbuckets; i++) {
        struct eio_sess *s;

        for (s = srv->buckets[i]; s; s = s->hnext)
            if (s->get && eio__peer_gone(s->get->wsi))
                lws_set_timeout(s->get->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

/* ---- the application's side ---- */

const char *eio_sess_id(const struct eio_sess *s)
{
    return eio_session_sid(s->core);
}

void eio_sess_set_app(struct eio_sess *s, void *app)
{
    s->app = app;
}

void *eio_sess_app(const struct eio_sess *s)
{
    return s->app;
}

int eio_sess_send(struct eio_sess *s, const void *data, size_t len, bool binary)
{
    if (s->closed)
        return -1;
    return eio_session_send(s->core, EIO_MESSAGE, data, len, binary);
}

void eio_sess_want_write(struct eio_sess *s)
{
    if (s->closed || s->want)
        return;
    s->want = true;
    eio__schedule(s);
}

void eio_sess_close(struct eio_sess *s, const char *reason)
{
    if (!s->closed)
        eio_session_close(s->core, reason);
}

bool eio_sess_is_websocket(const struct eio_sess *s)
{
    return eio__ws_carries(s);
}

/* ---- the server ---- */

int eio_server_new(uv_loop_t *loop, const struct eio_server_params *p,
                   const struct eio_app_ops *ops, void *ud, struct eio_server **out)
{
    struct eio_server *srv = calloc(1, sizeof(*srv));

    *out = NULL;
    if (srv == NULL)
        return -1;
    srv->nbuckets = 8192;
    srv->buckets = calloc(srv->nbuckets, sizeof(*srv->buckets));
    if (srv->buckets == NULL) {
        free(srv);
        return -1;
    }
    srv->loop = loop;
    srv->p = *p;
    srv->ops = ops;
    srv->ud = ud;
    uv_check_init(loop, &srv->check);
    uv_idle_init(loop, &srv->idle);
    uv_timer_init(loop, &srv->probe);
    srv->check.data = srv->idle.data = srv->probe.data = srv;
    srv->open_handles = 3;
    uv_timer_start(&srv->probe, on_probe, PROBE_INTERVAL_MS, PROBE_INTERVAL_MS);
    *out = srv;
    return 0;
}

void eio_server_shutdown(struct eio_server *srv)
{
    size_t i;

    if (srv == NULL)
        return;
    for (i = 0; i < srv->nbuckets; i++)
        while (srv->buckets[i])
            eio_session_close(srv->buckets[i]->core, "server shutdown");
}

size_t eio_server_sessions(const struct eio_server *srv)
{
    return srv ? srv->n : 0;
}

static void handle_closed(uv_handle_t *h)
{
    struct eio_server *srv = h->data;

    if (--srv->open_handles == 0) {
        free(srv->buckets);
        free(srv->out.data);
        free(srv);
    }
}

void eio_server_free(struct eio_server *srv)
{
    if (srv == NULL)
        return;
    eio_server_shutdown(srv);
    while (srv->ready) {
        struct eio_sess *s = srv->ready;

        srv->ready = s->rnext;
        if (s->closed)
            sess_free(s);
    }
    while (srv->dead) {
        struct eio_sess *s = srv->dead;

        srv->dead = s->rnext;
        sess_free(s);
    }
    uv_check_stop(&srv->check);
    uv_idle_stop(&srv->idle);
    uv_timer_stop(&srv->probe);
    uv_close((uv_handle_t *)&srv->check, handle_closed);
    uv_close((uv_handle_t *)&srv->idle, handle_closed);
    uv_close((uv_handle_t *)&srv->probe, handle_closed);
}
