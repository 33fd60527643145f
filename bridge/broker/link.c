/*
 * The broker link: an MQTT 5 client on the bridge's libuv loop (uv_tcp_t, packets from
 * broker/mqtt_codec).
 *
 * The bridge speaks MQTT itself rather than through libmosquitto so that a QoS 1 message is
 * acknowledged after the bridge has kept it: libmosquitto sends PUBACK before it calls the
 * message callback, and a crash between the two would lose an event that the broker already
 * forgot. Here PUBACK goes out when on_message returned 0; when it could not keep the message
 * the connection is dropped unacknowledged and the persistent session redelivers it after the
 * reconnect (MQTT 5 4.4), so nothing is acknowledged that is not safe.
 *
 * States: down (retry timer armed, no connection), connecting (TCP connect, then CONNECT sent,
 * no CONNACK yet), up (CONNACK accepted). Every way out of connecting or up goes through
 * link_down().
 */
#include "broker/link.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "broker/link_int.h"

static void connect_now(struct mqlink *l);

static void on_retry(uv_timer_t *t)
{
    connect_now(t->data);
}

unsigned mqlink_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double r)
{
    double cap = min_ms;
    unsigned i;

    if (max_ms < min_ms)
        max_ms = min_ms;
    for (i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    if (r < 0)
        r = 0;
    if (r >= 1)
        r = 0.999999;
    /* Full jitter over the window (so that bridges that lost the broker together do not come
     * back together), shifted to start at the floor. */
    return min_ms + (unsigned)((cap - min_ms) * r);
}

void mqlink__log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("mqpush-bridge: broker: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double random_unit(void)
{
    uint32_t v;

    /* Bridges started from one image must not share a sequence, so not rand(). */
    if (uv_random(NULL, NULL, &v, sizeof(v), 0, NULL) != 0)
        v = (uint32_t)rand();
    return v / 4294967296.0;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct mqlink *l = h->data;

    if (h->type == UV_TCP)
        free(h); /* struct mqlink_conn begins with its uv_tcp_t */
    if (--l->open_handles == 0 && l->stop_done)
        l->stop_done(l->stop_arg);
}

/* Stop using the connection; its close completes on the loop. */
static void drop_conn(struct mqlink *l)
{
    struct mqlink_conn *c = l->conn;

    if (c == NULL)
        return;
    l->conn = NULL;
    l->in_len = 0;
    l->open_handles++;
    c->tcp.data = l;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void schedule_retry(struct mqlink *l, const char *why)
{
    unsigned d;

    if (l->stopping)
        return;
    d = mqlink_backoff_ms(l->attempt, l->p.backoff_min_ms, l->p.backoff_max_ms, random_unit());
    if (l->attempt < 32) /* the window stops growing long before */
        l->attempt++;
    mqlink__log("%s (next attempt in %u ms)", why, d);
    uv_timer_start(&l->retry, on_retry, d, 0);
}

void mqlink__down(struct mqlink *l, const char *why)
{
    bool was_up = l->up;
    char text[256];

    if (l->conn == NULL && !was_up)
        return;
    l->up = false;
    drop_conn(l);
    mqlink__outbox_unsent(l);
    snprintf(text, sizeof(text), "%s %s", was_up ? "connection lost:" : "connect failed:", why);
    if (was_up)
        l->ops->on_state(l->ud, false);
    schedule_retry(l, text);
}

struct wreq {
    uv_write_t req;
    struct mqlink *l;
    struct mqlink_conn *conn;
    unsigned char *data;
};

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;

    if (status < 0 && status != UV_ECANCELED && w->l->conn == w->conn)
        mqlink__down(w->l, uv_strerror(status));
    free(w->data);
    free(w);
}

int mqlink__send(struct mqlink *l, struct mqc_buf *b)
{
    struct wreq *w;
    uv_buf_t buf;
    int rc;

    if (l->conn == NULL || b->len == 0) {
        free(b->p);
        return l->conn ? 0 : -1;
    }
    w = malloc(sizeof(*w));
    if (w == NULL) {
        free(b->p);
        mqlink__down(l, "out of memory");
        return -1;
    }
    w->l = l;
    w->conn = l->conn;
    w->data = b->p;
    buf = uv_buf_init((char *)b->p, (unsigned)b->len);
    rc = uv_write(&w->req, (uv_stream_t *)&l->conn->tcp, &buf, 1, on_written);
    if (rc != 0) {
        free(w->data);
        free(w);
        mqlink__down(l, uv_strerror(rc));
        return -1;
    }
    l->last_sent_ms = uv_now(l->loop);
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct mqlink *l = ((struct mqlink_conn *)h)->l;
    size_t want = suggested < 65536 ? 65536 : suggested;

    (void)suggested;
    if (l->in_cap - l->in_len < want && l->in_cap < MQLINK_PACKET_MAX + want) {
        unsigned char *p = realloc(l->in, l->in_len + want);

        if (p) {
            l->in = p;
            l->in_cap = l->in_len + want;
        }
    }
    *buf = uv_buf_init((char *)l->in + l->in_len, (unsigned)(l->in_cap - l->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct mqlink_conn *c = (struct mqlink_conn *)s;
    struct mqlink *l = c->l;
    size_t off = 0;

    (void)buf;
    if (l->conn != c)
        return;
    if (n < 0) {
        mqlink__down(l, n == UV_EOF ? "connection closed" : uv_strerror((int)n));
        return;
    }
    if (n == 0)
        return;
    if (buf->base == NULL || buf->len == 0) {
        mqlink__down(l, "out of memory");
        return;
    }
    l->in_len += (size_t)n;
    l->last_recv_ms = uv_now(l->loop);
    for (;;) {
        struct mqc_packet pkt;
        size_t total;
        int rc = mqc_frame(l->in + off, l->in_len - off, MQLINK_PACKET_MAX, &pkt, &total);

        if (rc == 0)
            break;
        if (rc < 0) {
            mqlink__down(l, "malformed packet from the broker");
            return;
        }
        if (mqlink__handle(l, &pkt) != 0 || l->conn != c)
            return; /* the connection ended; the buffer was reset */
        off += total;
    }
    if (off) {
        memmove(l->in, l->in + off, l->in_len - off);
        l->in_len -= off;
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    struct mqlink_conn *c = req->data;
    struct mqlink *l = c->l;
    struct mqc_connect cp = {
        .client_id = l->client_id,
        .username = l->client_id,
        .password = l->token,
        .keepalive_s = (uint16_t)l->p.keepalive_s,
        /* Clean start off and a session expiry: the broker keeps the subscriptions and queues
         * QoS 1 messages while the link is down (MQTT 5 3.1.2.4, 3.1.2.11.2). */
        .clean_start = false,
        .session_expiry_s = l->p.session_expiry_s,
        .receive_max = MQLINK_RECEIVE_MAX,
        .max_packet = MQLINK_PACKET_MAX,
    };
    struct mqc_buf b = {0};
    int rc;

    if (status == UV_ECANCELED || l->conn != c)
        return;
    if (status < 0) {
        mqlink__down(l, uv_strerror(status));
        return;
    }
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc == 0 && mqc_put_connect(&b, &cp) != 0)
        rc = UV_ENOMEM;
    if (l->token) {
        memset(l->token, 0, strlen(l->token));
        free(l->token);
        l->token = NULL;
    }
    if (rc != 0) {
        free(b.p);
        mqlink__down(l, uv_strerror(rc));
        return;
    }
    mqlink__send(l, &b);
}

/* The broker's address: an IP literal, or localhost taken as 127.0.0.1 so that no name
 * lookup can block the loop. */
static int broker_addr(const struct mqlink *l, struct sockaddr_storage *ss)
{
    const char *h = strcmp(l->host, "localhost") == 0 ? "127.0.0.1" : l->host;

    if (uv_ip4_addr(h, l->p.port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(h, l->p.port, (struct sockaddr_in6 *)ss);
}

static void connect_now(struct mqlink *l)
{
    struct sockaddr_storage ss;
    struct mqlink_conn *c;
    int rc;

    if (l->stopping || l->conn)
        return;
    free(l->token);
    l->token = l->p.get_token ? l->p.get_token(l->ud) : NULL;
    if (l->token == NULL) {
        schedule_retry(l, "no token");
        return;
    }
    if (broker_addr(l, &ss) != 0) {
        schedule_retry(l, "the broker host is not an IP address");
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        schedule_retry(l, "out of memory");
        return;
    }
    c->l = l;
    c->creq.data = c;
    uv_tcp_init(l->loop, &c->tcp);
    l->conn = c;
    l->in_len = 0;
    l->connect_started_ms = uv_now(l->loop);
    l->ping_sent_ms = 0;
    uv_tcp_nodelay(&c->tcp, 1);
    rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&ss, on_connected);
    if (rc != 0) {
        char why[160];

        snprintf(why, sizeof(why), "%s", uv_strerror(rc));
        mqlink__down(l, why);
    }
}

/*
 * Keepalive (MQTT 5 3.1.2.10): a PINGREQ when nothing was sent for three quarters of the
 * interval, and the connection given up when the broker stayed silent for one and a half
 * (what it allows us, 3.1.2.10). A CONNACK that does not come is given up the same way.
 */
static void on_tick(uv_timer_t *t)
{
    struct mqlink *l = t->data;
    uint64_t now = uv_now(l->loop), ka = (uint64_t)l->keepalive_ms;

    if (l->conn == NULL)
        return;
    if (!l->up) {
        if (now - l->connect_started_ms > MQLINK_CONNECT_TIMEOUT_MS)
            mqlink__down(l, "no CONNACK in time");
        return;
    }
    if (ka == 0)
        return;
    if (now - l->last_recv_ms > ka + ka / 2) {
        mqlink__down(l, "the broker went silent (keepalive)");
        return;
    }
    if (now - l->last_sent_ms >= ka * 3 / 4 && l->ping_sent_ms == 0) {
        struct mqc_buf b = {0};

        if (mqc_put_pingreq(&b) == 0 && mqlink__send(l, &b) == 0)
            l->ping_sent_ms = now;
    }
}

int mqlink_new(uv_loop_t *loop, const struct mqlink_params *p, const struct mqlink_ops *ops,
               void *ud, struct mqlink **out)
{
    struct mqlink *l;

    *out = NULL;
    if (p->host == NULL || p->client_id == NULL)
        return -1;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -1;
    l->loop = loop;
    l->p = *p;
    l->ops = ops;
    l->ud = ud;
    l->host = strdup(p->host);
    l->client_id = strdup(p->client_id);
    if (l->p.session_expiry_s == 0)
        l->p.session_expiry_s = MQLINK_DEFAULT_SESSION_EXPIRY_S;
    if (l->p.backoff_min_ms == 0)
        l->p.backoff_min_ms = MQLINK_DEFAULT_BACKOFF_MIN_MS;
    if (l->p.backoff_max_ms < l->p.backoff_min_ms)
        l->p.backoff_max_ms = l->p.backoff_min_ms;
    if (l->p.keepalive_s <= 0)
        l->p.keepalive_s = MQLINK_DEFAULT_KEEPALIVE_S;
    if (l->p.keepalive_s < 5)
        l->p.keepalive_s = 5;
    l->p.host = l->p.client_id = NULL; /* the copies above are used */
    if (l->host == NULL || l->client_id == NULL || p->port < 1 || p->port > 65535 ||
        l->p.keepalive_s > 65535 || strlen(l->client_id) > 65535) {
        free(l->host);
        free(l->client_id);
        free(l);
        return -1;
    }
    l->keepalive_ms = (unsigned)l->p.keepalive_s * 1000;
    l->peer_receive_max = 65535;
    *out = l;
    return 0;
}

int mqlink_start(struct mqlink *l)
{
    if (l->started || l->stopping)
        return -1;
    l->started = true;
    uv_timer_init(l->loop, &l->tick);
    uv_timer_init(l->loop, &l->retry);
    l->tick.data = l->retry.data = l;
    l->open_handles = 2;
    uv_timer_start(&l->tick, on_tick, MQLINK_TICK_MS, MQLINK_TICK_MS);
    connect_now(l);
    return 0;
}

bool mqlink_is_up(const struct mqlink *l)
{
    return l->up;
}

void mqlink_retry_now(struct mqlink *l)
{
    if (!l->started || l->stopping || l->conn != NULL)
        return;
    uv_timer_stop(&l->retry);
    l->attempt = 0;
    connect_now(l);
}

uint64_t mqlink_connects(const struct mqlink *l)
{
    return l->connects;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct mqlink_conn *c = req->data;

    (void)status;
    free(req);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

void mqlink_stop(struct mqlink *l, void (*done)(void *arg), void *arg)
{
    struct mqlink_conn *c = l->conn;

    if (l->stopping)
        return;
    l->stopping = true;
    l->stop_done = done;
    l->stop_arg = arg;
    if (!l->started) {
        done(arg);
        return;
    }
    if (c && l->up) {
        /* Reason 0 keeps the session for its expiry (MQTT 5 3.14.2.1); the shutdown waits
         * for it to be written. */
        struct mqc_buf b = {0};
        uv_shutdown_t *sd = malloc(sizeof(*sd));

        if (mqc_put_disconnect(&b, 0) == 0)
            mqlink__send(l, &b);
        l->up = false;
        if (sd) {
            sd->data = c;
            c->tcp.data = l;
            l->conn = NULL;
            l->open_handles++;
            if (uv_shutdown(sd, (uv_stream_t *)&c->tcp, on_shutdown) == 0)
                c = NULL;
            else {
                free(sd);
                l->open_handles--;
                l->conn = c;
            }
        }
    }
    if (c)
        drop_conn(l);
    uv_timer_stop(&l->tick);
    uv_timer_stop(&l->retry);
    uv_close((uv_handle_t *)&l->tick, on_handle_closed);
    uv_close((uv_handle_t *)&l->retry, on_handle_closed);
}

void mqlink_free(struct mqlink *l)
{
    struct mqlink_sub *s, *tmp;

    if (l == NULL)
        return;
    HASH_ITER(hh, l->subs, s, tmp)
    {
        HASH_DEL(l->subs, s);
        free(s->filter);
        free(s);
    }
    mqlink__outbox_free(l);
    if (l->token) {
        memset(l->token, 0, strlen(l->token));
        free(l->token);
    }
    free(l->in);
    free(l->host);
    free(l->client_id);
    free(l);
}
