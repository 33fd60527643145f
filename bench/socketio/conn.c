/*
 * sioload's connections: non-blocking connect, the WebSocket upgrade, Engine.IO's open packet
 * and heartbeat, joining the namespace, and reading and checking the events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "loadrun.h"
#include "siomsg.h"
#include "sioload.h"

#define READ_CHUNK (256 * 1024)
#define MAX_EVENTS 1024
/* A callback's answer to the WebSocket parser: the connection ended, stop feeding it. */
#define CB_STOP 1

/* What the message callback needs: the run, the connection, when the bytes were read. */
struct feed_ctx {
    struct sio_run *r;
    struct sio_conn *c;
    uint64_t t;
};

void sio_error(struct sio_run *r, const char *fmt, ...)
{
    va_list ap;

    /* the message goes into JSON: load_error_vset keeps it free of quotes and backslashes */
    va_start(ap, fmt);
    load_error_vset(r->first_error, sizeof(r->first_error), fmt, ap);
    va_end(ap);
}

static void conn_error(struct sio_run *r, const char *what, const char *detail, size_t dlen)
{
    if (r->first_conn_error[0] != '\0')
        return;
    snprintf(r->first_conn_error, sizeof(r->first_conn_error), "%s%s%.*s", what, dlen ? ": " : "",
             (int)(dlen > 100 ? 100 : dlen), detail ? detail : "");
    load_json_safe(r->first_conn_error);
}

static void conn_errno(struct sio_run *r, const char *what, int err)
{
    const char *s = strerror(err);

    conn_error(r, what, s, strlen(s));
}

int sio_run_init(struct sio_run *r, const struct sio_opts *o)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&r->addr;
    int n;

    memset(r, 0, sizeof(*r));
    r->o = o;
    r->ep = -1;
    r->t_start = load_now();
    hist_reset(&r->lat);
    if (inet_pton(AF_INET, o->lo.host, &v4->sin_addr) != 1)
        return -1;
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)o->lo.port);
    r->addr_len = sizeof(*v4);
    /* Socket.IO v5 CONNECT: 0, the namespace unless it is the main one, the auth object */
    n = snprintf(r->connect_frame, sizeof(r->connect_frame), "40%s%s%s",
                 strcmp(o->nsp, "/") ? o->nsp : "", strcmp(o->nsp, "/") && o->auth ? "," : "",
                 o->auth ? o->auth : "");
    if (n < 0 || (size_t)n >= sizeof(r->connect_frame))
        return -1;
    r->connect_len = (size_t)n;
    if (getrandom(&r->rng, sizeof(r->rng), 0) != (ssize_t)sizeof(r->rng) || r->rng == 0)
        r->rng = 0x9e3779b97f4a7c15ull ^ r->t_start;
    r->conns = calloc((size_t)o->lo.clients, sizeof(*r->conns));
    r->buf = malloc(READ_CHUNK);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->conns == NULL || r->buf == NULL || r->ep < 0)
        return -1;
    for (int i = 0; i < o->lo.clients; i++) {
        r->conns[i].fd = -1;
        r->conns[i].state = SIO_DEAD;
    }
    return 0;
}

static void conn_close(struct sio_run *r, struct sio_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    ws_parser_free(&c->p);
    c->fd = -1;
    c->state = SIO_DEAD;
}

void sio_run_free(struct sio_run *r)
{
    if (r->conns)
        for (int i = 0; i < r->o->lo.clients; i++)
            conn_close(r, &r->conns[i]);
    free(r->conns);
    free(r->buf);
    if (r->ep >= 0)
        close(r->ep);
    r->conns = NULL;
    r->buf = NULL;
    r->ep = -1;
}

int sio_conn_open(struct sio_run *r, int i)
{
    struct sio_conn *c = &r->conns[i];
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};

    memset(c, 0, sizeof(*c));
    c->state = SIO_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        sio_error(r, "socket: %s (connection %d)", strerror(errno), i + 1);
        c->state = SIO_DEAD;
        return -1;
    }
    if ((connect(c->fd, (struct sockaddr *)&r->addr, r->addr_len) != 0 && errno != EINPROGRESS) ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        conn_errno(r, "connect", errno);
        r->connect_errors++;
        conn_close(r, c);
    }
    return 0;
}

/*
 * The connection is over: count why, by how far it got. Closing is left to the caller, since
 * this runs inside the parser's callback.
 */
static int ended(struct sio_run *r, struct sio_conn *c, const char *what, const char *detail,
                 size_t dlen)
{
    conn_error(r, what, detail, dlen);
    if (c->state == SIO_LIVE)
        r->closed++;
    else
        r->connect_errors++;
    return CB_STOP;
}

/* xorshift64*: frame masks need to be unpredictable to proxies (RFC 6455 10.3), not secret. */
static uint32_t next_mask(struct sio_run *r)
{
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return (uint32_t)((r->rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* Send one small frame. Loopback takes it whole unless the server stopped reading, which the
 * benchmark treats as a failure of the connection rather than queueing. */
static int send_frame(struct sio_run *r, struct sio_conn *c, int opcode, const char *data,
                      size_t len)
{
    char frame[640];
    size_t n = ws_frame(frame, sizeof(frame), opcode, data, len, next_mask(r));
    ssize_t w;

    if (n == 0)
        return ended(r, c, "frame too long to send", NULL, 0);
    do
        w = write(c->fd, frame, n);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n) {
        r->protocol_errors++;
        if (w < 0)
            return ended(r, c, "write", strerror(errno), strlen(strerror(errno)));
        return ended(r, c, "short write: the server does not read", NULL, 0);
    }
    return 0;
}

/* Offsets are compared by length, then bytes: right for decimal numbers and for ids of one
 * format whose text order is their time order (UUIDv7). */
static void check_offset(struct sio_run *r, struct sio_conn *c, const struct siomsg *m)
{
    r->with_offset++;
    if (c->offset_len &&
        (m->offset_len < c->offset_len ||
         (m->offset_len == c->offset_len && memcmp(m->offset, c->offset, c->offset_len) <= 0)))
        r->offset_out_of_order++;
    if (m->offset_len <= SIO_OFFSET_MAX) {
        memcpy(c->offset, m->offset, m->offset_len);
        c->offset_len = (uint8_t)m->offset_len;
    } else {
        c->offset_len = 0;
    }
}

static void on_event(struct feed_ctx *x, const struct siomsg *m)
{
    struct sio_run *r = x->r;
    struct sio_conn *c = x->c;
    const char *want = r->o->event;

    if (m->name_len != strlen(want) || memcmp(m->name, want, m->name_len) != 0) {
        r->other_events++;
        return;
    }
    r->events++;
    c->received++;
    r->data_bytes += m->json_len;
    if (m->has_offset)
        check_offset(r, c, m);
    if (!m->has_seq) {
        r->no_seq++;
        return;
    }
    if (m->seq <= c->last_seq) {
        r->duplicates++; /* or reordered: a stream must never do either */
    } else {
        c->gaps += m->seq - c->last_seq - 1;
        c->last_seq = m->seq;
    }
    if (r->measuring) {
        r->measured++;
        if (m->has_t && x->t > m->t)
            hist_add(&r->lat, x->t - m->t);
    }
}

/* One Engine.IO packet (a WebSocket text message). */
static int on_packet(struct feed_ctx *x, const char *data, size_t len)
{
    struct sio_run *r = x->r;
    struct sio_conn *c = x->c;
    struct siomsg m;

    switch (siomsg_parse(data, len, r->o->nsp, &m)) {
    case SIOMSG_EVENT:
        on_event(x, &m);
        return 0;
    case SIOMSG_EIO_PING:
        r->pings++;
        return send_frame(r, c, WS_TEXT, "3", 1);
    case SIOMSG_EIO_OPEN:
        if (c->state != SIO_OPENING) {
            r->protocol_errors++;
            return ended(r, c, "a second Engine.IO open packet", NULL, 0);
        }
        c->state = SIO_JOINING;
        return send_frame(r, c, WS_TEXT, r->connect_frame, r->connect_len);
    case SIOMSG_CONNECT:
        if (c->state == SIO_JOINING) {
            c->state = SIO_LIVE;
            r->ready++;
        }
        return 0;
    case SIOMSG_CONNECT_ERROR:
        r->refused++;
        conn_error(r, "namespace refused (CONNECT_ERROR)", m.json, m.json_len);
        c->state = SIO_DEAD; /* counted as refused only */
        return CB_STOP;
    case SIOMSG_DISCONNECT:
        return ended(r, c, "the server disconnected the socket", m.json, m.json_len);
    case SIOMSG_EIO_CLOSE:
        return ended(r, c, "the server closed the Engine.IO session", NULL, 0);
    case SIOMSG_EIO_NOOP:
        return 0;
    case SIOMSG_OTHER:
    case SIOMSG_OTHER_NSP:
        r->other_events++;
        return 0;
    case SIOMSG_BAD:
        break;
    }
    r->protocol_errors++;
    return ended(r, c, "malformed packet", data, len);
}

static int on_message(void *ud, int opcode, const char *data, size_t len)
{
    struct feed_ctx *x = ud;

    /* the open packet may come in the same read as the 101 */
    if (x->c->state == SIO_UPGRADING)
        x->c->state = SIO_OPENING;
    switch (opcode) {
    case WS_TEXT:
        return on_packet(x, data, len);
    case WS_PING: /* RFC 6455 5.5.3: the pong echoes the ping's data */
        return send_frame(x->r, x->c, WS_PONG, data, len);
    case WS_PONG:
        return 0;
    case WS_CLOSE:
        return ended(x->r, x->c, "the server sent a close frame", NULL, 0);
    default: /* Engine.IO sends binary only for binary attachments: none here */
        x->r->other_events++;
        return 0;
    }
}

static void on_writable(struct sio_run *r, struct sio_conn *c, uint32_t i)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    char key[WS_KEY_LEN + 1], req[1024];
    size_t n;
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        conn_errno(r, "connect", err);
        r->connect_errors++;
        conn_close(r, c);
        return;
    }
    if (ws_parser_init(&c->p, key) != 0) {
        sio_error(r, "no randomness or SHA-1 for the WebSocket key");
        r->connect_errors++;
        conn_close(r, c);
        return;
    }
    n = ws_request(req, sizeof(req), r->o->lo.host, r->o->lo.port, r->o->lo.path, key);
    /* a fresh socket takes a request this small in one write */
    if (n == 0 || write(c->fd, req, n) != (ssize_t)n ||
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        conn_errno(r, "sending the upgrade request", errno);
        r->connect_errors++;
        conn_close(r, c);
        return;
    }
    c->state = SIO_UPGRADING;
}

static void on_readable(struct sio_run *r, struct sio_conn *c)
{
    struct feed_ctx x = {r, c, 0};
    ssize_t n = read(c->fd, r->buf, READ_CHUNK);
    int rc;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (n == 0)
            ended(r, c, "the server closed the connection", NULL, 0);
        else
            ended(r, c, "read", strerror(errno), strlen(strerror(errno)));
        conn_close(r, c);
        return;
    }
    x.t = load_now();
    r->wire_bytes += (uint64_t)n;
    rc = ws_parser_feed(&c->p, r->buf, (size_t)n, on_message, &x);
    if (rc == WS_OK) {
        if (c->state == SIO_UPGRADING && ws_parser_open(&c->p))
            c->state = SIO_OPENING;
        return;
    }
    if (rc < 0) {
        char what[96];

        snprintf(what, sizeof(what), "%s (HTTP %u)", ws_strerror(rc), c->p.status);
        if (rc == WS_E_STATUS) {
            conn_error(r, what, NULL, 0);
            r->refused++;
        } else {
            r->protocol_errors++;
            ended(r, c, what, NULL, 0);
        }
    }
    conn_close(r, c);
}

int sio_poll(struct sio_run *r, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(r->ep, evs, MAX_EVENTS, timeout_ms);

    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t idx = evs[i].data.u32;
        struct sio_conn *c = &r->conns[idx];

        if (c->state == SIO_DEAD)
            continue;
        if (c->state == SIO_CONNECTING)
            on_writable(r, c, idx);
        else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(r, c);
    }
    return 0;
}
