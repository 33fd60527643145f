/* sseload's connections: non-blocking connect, the GET, reading and checking the stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loadrun.h"
#include "sseload.h"

#define READ_CHUNK (256 * 1024)
#define MAX_EVENTS 1024

/* What the parser's callback needs: the run, the connection, when the bytes were read. */
struct feed_ctx {
    struct sl_run *r;
    struct sl_conn *c;
    uint64_t t;
};

void sl_error(struct sl_run *r, const char *fmt, ...)
{
    va_list ap;

    /* the message goes into JSON: load_error_vset keeps it free of quotes and backslashes */
    va_start(ap, fmt);
    load_error_vset(r->first_error, sizeof(r->first_error), fmt, ap);
    va_end(ap);
}

static void conn_error(struct sl_run *r, const char *what, int err)
{
    if (r->first_conn_error[0] == '\0')
        snprintf(r->first_conn_error, sizeof(r->first_conn_error), "%s%s%s", what, err ? ": " : "",
                 err ? strerror(err) : "");
}

int sl_run_init(struct sl_run *r, const struct sl_opts *o)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&r->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&r->addr;
    int n;

    memset(r, 0, sizeof(*r));
    r->o = o;
    r->ep = -1;
    r->t_start = load_now();
    hist_reset(&r->lat);
    if (inet_pton(AF_INET, o->lo.host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)o->lo.port);
        r->addr_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, o->lo.host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)o->lo.port);
        r->addr_len = sizeof(*v6);
    } else {
        return -1;
    }
    n = snprintf(r->req, sizeof(r->req),
                 "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nAccept: text/event-stream\r\n"
                 "Cache-Control: no-cache\r\n\r\n",
                 o->lo.path, r->addr.ss_family == AF_INET6 ? "[" : "", o->lo.host,
                 r->addr.ss_family == AF_INET6 ? "]" : "", o->lo.port);
    if (n < 0 || (size_t)n >= sizeof(r->req))
        return -1;
    r->req_len = (size_t)n;
    r->conns = calloc((size_t)o->lo.clients, sizeof(*r->conns));
    r->buf = malloc(READ_CHUNK);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->conns == NULL || r->buf == NULL || r->ep < 0)
        return -1;
    for (int i = 0; i < o->lo.clients; i++) {
        r->conns[i].fd = -1;
        r->conns[i].state = SL_DEAD;
    }
    return 0;
}

static void conn_close(struct sl_run *r, struct sl_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = SL_DEAD;
}

void sl_run_free(struct sl_run *r)
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

int sl_conn_open(struct sl_run *r, int i)
{
    struct sl_conn *c = &r->conns[i];
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};

    memset(c, 0, sizeof(*c));
    sse_parser_init(&c->p);
    c->state = SL_CONNECTING;
    c->fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        sl_error(r, "socket: %s (connection %d)", strerror(errno), i + 1);
        c->state = SL_DEAD;
        return -1;
    }
    if ((connect(c->fd, (struct sockaddr *)&r->addr, r->addr_len) != 0 && errno != EINPROGRESS) ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        conn_error(r, "connect", errno);
        r->connect_errors++;
        conn_close(r, c);
    }
    return 0;
}

static void on_event(void *ud, const struct sse_event *ev)
{
    struct feed_ctx *x = ud;
    struct sl_run *r = x->r;
    struct sl_conn *c = x->c;

    if (ev->kind == SSE_READY) {
        if (!c->ready) {
            c->ready = 1;
            r->ready++;
        }
        return;
    }
    if (ev->kind == SSE_OTHER) {
        r->other_events++; /* mqpush:reset or mqpush:reconnect: not expected here */
        return;
    }
    r->events++;
    c->received++;
    r->data_bytes += ev->data_len;
    /* ids are UUIDv7s of one format: their text order is their time order */
    if (ev->id_set && !ev->id_too_long) {
        if (c->id_len && (ev->id_len != c->id_len || memcmp(ev->id, c->last_id, c->id_len) <= 0))
            r->id_out_of_order++;
        memcpy(c->last_id, ev->id, ev->id_len);
        c->id_len = (uint8_t)ev->id_len;
    }
    if (!ev->has_seq) {
        r->no_seq++;
        return;
    }
    if (ev->seq <= c->last_seq) {
        r->duplicates++; /* or reordered: a stream must never do either */
    } else {
        c->gaps += ev->seq - c->last_seq - 1;
        c->last_seq = ev->seq;
    }
    if (r->measuring) {
        r->measured++;
        if (ev->has_t && x->t > ev->t)
            hist_add(&r->lat, x->t - ev->t);
    }
}

static void on_writable(struct sl_run *r, struct sl_conn *c, uint32_t i)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        conn_error(r, "connect", err);
        r->connect_errors++;
        conn_close(r, c);
        return;
    }
    /* a fresh socket takes a request this small in one write */
    if (write(c->fd, r->req, r->req_len) != (ssize_t)r->req_len ||
        epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        conn_error(r, "sending the request", errno);
        r->connect_errors++;
        conn_close(r, c);
        return;
    }
    c->state = SL_SENT;
}

static void on_readable(struct sl_run *r, struct sl_conn *c)
{
    struct feed_ctx x = {r, c, 0};
    ssize_t n = read(c->fd, r->buf, READ_CHUNK);
    int rc;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_error(r, n == 0 ? "the bridge closed a stream" : "read", n == 0 ? 0 : errno);
        if (c->state == SL_LIVE)
            r->closed++;
        else
            r->connect_errors++;
        conn_close(r, c);
        return;
    }
    x.t = load_now();
    r->wire_bytes += (uint64_t)n;
    rc = sse_parser_feed(&c->p, r->buf, (size_t)n, on_event, &x);
    if (c->state == SL_SENT && sse_parser_streaming(&c->p))
        c->state = SL_LIVE;
    if (rc != SSE_OK) {
        char what[64];

        snprintf(what, sizeof(what), "%s (HTTP %u)", sse_strerror(rc), c->p.status);
        conn_error(r, what, 0);
        if (rc == SSE_E_STATUS)
            r->refused++;
        else
            r->connect_errors++;
        conn_close(r, c);
    }
}

int sl_poll(struct sl_run *r, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(r->ep, evs, MAX_EVENTS, timeout_ms);

    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t idx = evs[i].data.u32;
        struct sl_conn *c = &r->conns[idx];

        if (c->state == SL_DEAD)
            continue;
        if (c->state == SL_CONNECTING)
            on_writable(r, c, idx);
        else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            on_readable(r, c);
    }
    return 0;
}
