/*
 * mqpush-sio-conformance: the bridge's socket.io engine set up as the reference servers that
 * socket.io's protocol test suites run against (docs/socket.io-protocol/v5-current.md and
 * docs/engine.io-protocol/v4-current.md, "Test suite"): Socket.IO at /socket.io/ (echo_sio.c)
 * and a raw Engine.IO echo at /engine.io/ (echo_eio.c), on 127.0.0.1.
 *
 * Usage: mqpush-sio-conformance [port]   (default 3000; SIGINT or SIGTERM stops it)
 *
 * libwebsockets runs on our libuv loop (a foreign loop, as in the bridge's http/server.c); one
 * lws protocol serves HTTP and WebSocket alike and hands the connections under each path to the
 * matching Engine.IO server.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include <uv.h>
#include "echo_eio.h"
#include "echo_sio.h"
#include "socketio/eio_server.h"
#include "socketio/sio_server.h"

#define DEFAULT_PORT 3000
/* What the reference servers are configured with in the "Test suite" sections. */
#define PING_INTERVAL_MS 300
#define PING_TIMEOUT_MS 200
#define MAX_PAYLOAD 1000000
#define CONNECT_TIMEOUT_MS 1000
/* Ours: bounds the reference leaves open. */
#define MAX_QUEUE_BYTES (8 * 1024 * 1024)
#define MAX_SESSIONS 4096
#define MAX_ATTACHMENTS 64
/* Time for the close packets and frames of a shutdown to leave before lws goes. */
#define DRAIN_MS 100

struct conformance {
    uv_loop_t loop;
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
    struct sio_server *sio;
    struct eio_server *raw;
    uv_signal_t sig_int, sig_term;
    uv_timer_t drain;
    bool stopping;
};

/* One lws connection (the per-session data). */
struct conn {
    struct eio_conn eio;
    bool in_eio; /* this request or WebSocket belongs to an Engine.IO server */
};

static const char *const CORS_ANY[] = {"*"};

/* The Engine.IO server mounted at path, or NULL. Both spellings, with and without the final
 * slash, as clients send either. */
static struct eio_server *route(struct conformance *cf, const char *path)
{
    if (cf->stopping)
        return NULL;
    if (strcmp(path, "/socket.io/") == 0 || strcmp(path, "/socket.io") == 0)
        return sio_server_eio(cf->sio);
    if (strcmp(path, "/engine.io/") == 0 || strcmp(path, "/engine.io") == 0)
        return cf->raw;
    return NULL;
}

/* 404 (503 while stopping) without a body, keeping the connection when lws can. */
static int reply_status(struct lws *wsi, unsigned status)
{
    unsigned char hdr[LWS_PRE + 256], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;

    if (lws_add_http_common_headers(wsi, status, "text/plain", 0, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_http(struct conformance *cf, struct conn *c, struct lws *wsi, const char *path)
{
    struct eio_server *srv;

    if (c->in_eio)
        eio_conn_closed(&c->eio); /* the connection's previous request was Engine.IO's */
    c->in_eio = false;
    srv = route(cf, path);
    if (srv == NULL)
        return reply_status(wsi, cf->stopping ? 503 : 404);
    c->in_eio = true;
    return eio_http(srv, &c->eio, wsi);
}

static int on_ws_established(struct conformance *cf, struct conn *c, struct lws *wsi)
{
    char path[256];
    struct eio_server *srv = NULL;

    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) >= 0)
        srv = route(cf, path);
    if (srv == NULL)
        return -1; /* no WebSocket lives there */
    c->in_eio = true;
    return eio_ws_established(srv, &c->eio, wsi);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    struct conformance *cf = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(cf, c, wsi, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
        return c->in_eio ? eio_http_body(&c->eio, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return c->in_eio ? eio_http_body_done(&c->eio) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return c->in_eio ? eio_http_writable(&c->eio) : 0;
    case LWS_CALLBACK_ESTABLISHED:
        return on_ws_established(cf, c, wsi);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->in_eio ? eio_ws_writable(&c->eio) : 0;
    case LWS_CALLBACK_RECEIVE:
        return c->in_eio ? eio_ws_receive(&c->eio, in, len) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_CLOSED:
        if (c && c->in_eio)
            eio_conn_closed(&c->eio);
        if (c)
            c->in_eio = false;
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int listen_on(struct conformance *cf, int port)
{
    struct lws_context_creation_info info;
    void *loops[1] = {&cf->loop};

    cf->protocols[0].name = "mqpush-sio-conformance";
    cf->protocols[0].callback = callback;
    cf->protocols[0].per_session_data_size = sizeof(struct conn);
    cf->protocols[0].rx_buffer_size = 4096;
    /* lws cuts every send to tx_packet_size: let a whole gathered write go in one send() */
    cf->protocols[0].tx_packet_size = 512 * 1024;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.foreign_loops = loops;
    info.port = port;
    info.iface = "127.0.0.1"; /* a test server: loopback only */
    info.protocols = cf->protocols;
    info.user = cf;
    info.pcontext = &cf->ctx;
    info.max_http_header_pool = 256;
    info.timeout_secs = 10;
    info.keepalive_timeout = 30;
    info.count_threads = 1;
    lws_set_log_level(LLL_ERR, NULL);
    cf->ctx = lws_create_context(&info);
    return cf->ctx ? 0 : -1;
}

static int servers_new(struct conformance *cf)
{
    struct sio_params sp;
    struct eio_server_params ep;

    memset(&ep, 0, sizeof(ep));
    ep.ping_interval_ms = PING_INTERVAL_MS;
    ep.ping_timeout_ms = PING_TIMEOUT_MS;
    ep.max_payload = MAX_PAYLOAD;
    ep.max_queue_bytes = MAX_QUEUE_BYTES;
    ep.max_sessions = MAX_SESSIONS;
    ep.cors_origins = CORS_ANY;
    ep.n_cors_origins = 1;
    memset(&sp, 0, sizeof(sp));
    sp.eio = ep;
    sp.connect_timeout_ms = CONNECT_TIMEOUT_MS;
    sp.max_attachments = MAX_ATTACHMENTS;
    if (echo_sio_new(&cf->loop, &sp, &cf->sio) != 0)
        return -1;
    return echo_eio_new(&cf->loop, &ep, &cf->raw);
}

/* After the drain: lws first (its connections drop their sessions), then the servers. */
static void on_drain(uv_timer_t *t)
{
    struct conformance *cf = t->data;

    lws_context_destroy(cf->ctx);
    sio_server_free(cf->sio);
    eio_server_free(cf->raw);
    cf->sio = NULL;
    cf->raw = NULL;
    uv_close((uv_handle_t *)&cf->sig_int, NULL);
    uv_close((uv_handle_t *)&cf->sig_term, NULL);
    uv_close((uv_handle_t *)&cf->drain, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct conformance *cf = h->data;

    (void)signum;
    if (cf->stopping)
        return;
    cf->stopping = true;
    fprintf(stderr, "mqpush-sio-conformance: stopping\n");
    /* polls are answered with a close packet and WebSockets closed; the writes go out while
     * the drain timer runs */
    sio_server_shutdown(cf->sio);
    eio_server_shutdown(cf->raw);
    uv_timer_start(&cf->drain, on_drain, DRAIN_MS, 0);
}

static int parse_port(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

int main(int argc, char **argv)
{
    static struct conformance cf; /* lws and the loop point into it until the very end */
    int port = DEFAULT_PORT, rc = 1, tries;

    if (argc > 2 || (argc == 2 && (port = parse_port(argv[1])) < 0)) {
        fprintf(stderr, "Usage: %s [port]   (default %d, listens on 127.0.0.1)\n", argv[0],
                DEFAULT_PORT);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&cf.loop) != 0)
        return 1;
    if (servers_new(&cf) != 0 || listen_on(&cf, port) != 0) {
        fprintf(stderr, "mqpush-sio-conformance: cannot listen on 127.0.0.1:%d\n", port);
        goto out;
    }
    uv_signal_init(&cf.loop, &cf.sig_int);
    uv_signal_init(&cf.loop, &cf.sig_term);
    uv_timer_init(&cf.loop, &cf.drain);
    cf.sig_int.data = cf.sig_term.data = cf.drain.data = &cf;
    uv_signal_start(&cf.sig_int, on_signal, SIGINT);
    uv_signal_start(&cf.sig_term, on_signal, SIGTERM);
    fprintf(stderr,
            "mqpush-sio-conformance: listening on 127.0.0.1:%d (Socket.IO at /socket.io/, "
            "Engine.IO echo at /engine.io/)\n",
            port);
    uv_run(&cf.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    /* On a foreign loop lws finishes its takedown in steps, each once the loop has run the
     * close callbacks of the last; it clears cf.ctx (info.pcontext) when it is done. */
    for (tries = 0; cf.ctx && tries < 4; tries++) {
        lws_context_destroy(cf.ctx);
        uv_run(&cf.loop, UV_RUN_NOWAIT);
    }
    sio_server_free(cf.sio);
    eio_server_free(cf.raw);
    uv_run(&cf.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&cf.loop) != 0) {
        fprintf(stderr, "mqpush-sio-conformance: handles left open at exit\n");
        rc = 1;
    }
    return rc;
}
