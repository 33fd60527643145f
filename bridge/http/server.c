/*
 * The bridge's HTTP and WebSocket server: libwebsockets on the bridge's libuv loop (lws is
 * built with LWS_WITH_LIBUV and adopts our loop as a foreign loop). One protocol serves both
 * plain HTTP and WebSocket upgrades; requests are routed by path here and handed to the
 * channel modules.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "conn.h"
#include "sse/poll.h"
#include "request.h"
#include "routes.h"
#include "socketio/sio_stream.h"
#include "sse/session.h"

struct http_server {
    struct bridge *b;
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
};

static const char STREAM_PREFIX[] = "/stream/v1/streams/";

int http_reply(struct conn *c, int status, const char *ctype, const char *body, size_t len,
               const char *extra)
{
    unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;

    c->b->metrics.http_requests++;
    if (status >= 400)
        c->b->metrics.http_errors++;
    free(c->reply);
    c->reply = NULL;
    c->reply_len = 0;
    if (lws_add_http_common_headers(c->wsi, (unsigned)status, ctype, len, &p, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"access-control-allow-origin:",
                                    (const unsigned char *)"*", 1, &p, end))
        return -1;
    if (c->close_after_reply &&
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end))
        return -1;
    while (extra && *extra) {
        const char *colon = strchr(extra, ':'), *eol = strstr(extra, "\r\n");
        char name[64];
        const char *v;

        if (colon == NULL || eol == NULL || colon > eol ||
            (size_t)(colon - extra) + 2 > sizeof(name))
            return -1;
        memcpy(name, extra, (size_t)(colon - extra) + 1);
        name[colon - extra + 1] = '\0';
        for (v = colon + 1; *v == ' '; v++)
            ;
        if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)name,
                                        (const unsigned char *)v, (int)(eol - v), &p, end))
            return -1;
        extra = eol + 2;
    }
    if (lws_finalize_write_http_header(c->wsi, start, &p, end))
        return -1;
    if (len == 0 && !c->close_after_reply) {
        c->kind = CONN_IDLE;
        return lws_http_transaction_completed(c->wsi) ? -1 : 0;
    }
    c->reply = malloc(LWS_PRE + len);
    if (c->reply == NULL)
        return -1;
    if (len)
        memcpy(c->reply + LWS_PRE, body, len);
    c->reply_len = len;
    c->kind = CONN_REPLY;
    lws_callback_on_writable(c->wsi);
    return 0;
}

int http_reply_error(struct conn *c, int status, const char *code, const char *msg)
{
    json_object *o = json_object_new_object();
    const char *s;
    int rc;

    if (o == NULL)
        return -1;
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(msg));
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = http_reply(c, status, "application/json", s, strlen(s),
                    status == 401 ? "www-authenticate: Bearer realm=\"mqpush\"\r\n" : NULL);
    json_object_put(o);
    return rc;
}

static int write_reply(struct conn *c)
{
    int n =
        lws_write(c->wsi, (unsigned char *)c->reply + LWS_PRE, c->reply_len, LWS_WRITE_HTTP_FINAL);

    free(c->reply);
    c->reply = NULL;
    c->reply_len = 0;
    c->kind = CONN_IDLE;
    if (n < 0 || c->close_after_reply)
        return -1;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

static void conn_cleanup(struct conn *c)
{
    if (c->in_eio)
        eio_conn_closed(&c->eio);
    c->in_eio = false;
    if (c->ss)
        session_closed(c);
    api_closed(c);
    free(c->reply);
    free(c->body);
    c->reply = c->body = NULL;
    c->reply_len = c->body_len = 0;
}

static bool is_method(struct lws *wsi, enum lws_token_indexes t)
{
    return lws_hdr_total_length(wsi, t) > 0;
}

static const struct bridge_sse_route *route_for(const struct bridge *b, const char *path)
{
    size_t i;

    for (i = 0; i < b->cfg->sse.n_routes; i++)
        if (strcmp(b->cfg->sse.routes[i].path, path) == 0)
            return &b->cfg->sse.routes[i];
    return NULL;
}

/* "/stream/v1/streams/{id}[/events]": copies id; returns 1 (stream), 2 (events), 0 (no). */
static int stream_path(const char *path, char *id, size_t cap)
{
    const char *rest, *slash;
    size_t len;

    if (strncmp(path, STREAM_PREFIX, sizeof(STREAM_PREFIX) - 1) != 0)
        return 0;
    rest = path + sizeof(STREAM_PREFIX) - 1;
    slash = strchr(rest, '/');
    len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len == 0 || len >= cap)
        return 0;
    memcpy(id, rest, len);
    id[len] = '\0';
    if (slash == NULL)
        return 1;
    return strcmp(slash, "/events") == 0 ? 2 : 0;
}

/* Engine.IO's path (socket.io-client asks for "/socket.io/"). */
static bool eio_path(const char *path)
{
    return strcmp(path, "/socket.io/") == 0 || strcmp(path, "/socket.io") == 0;
}

static int on_http(struct conn *c, const char *path)
{
    struct lws *wsi = c->wsi;
    bool get = is_method(wsi, WSI_TOKEN_GET_URI), post = is_method(wsi, WSI_TOKEN_POST_URI);
    char id[MQP_ID_MAX + 2];
    int kind;

    if (c->in_eio)
        eio_conn_closed(&c->eio); /* the connection's previous request was Engine.IO's */
    c->in_eio = false;
    if (eio_path(path) && sio_stream_eio(c->b) && !c->b->stopping) {
        c->in_eio = true;
        return eio_http(sio_stream_eio(c->b), &c->eio, wsi);
    }

    /* A body we are not going to read would be taken for the next request. */
    c->close_after_reply = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 ||
                           lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    if (c->b->stopping)
        return http_reply_error(c, 503, "unavailable", "shutting down");
    if (is_method(wsi, WSI_TOKEN_OPTIONS_URI))
        return http_reply(c, 204, NULL, NULL, 0,
                          "access-control-allow-methods: GET, POST, DELETE, OPTIONS\r\n"
                          "access-control-allow-headers: authorization, content-type, "
                          "last-event-id, accept\r\n"
                          "access-control-max-age: 600\r\n");
    {
        const struct api_route *r = api_find(path);

        if (r)
            return api_begin(c, r, path);
    }
    kind = stream_path(path, id, sizeof(id));
    if (kind == 1) {
        if (!get)
            return http_reply_error(c, 405, "method_not_allowed", "use GET");
        return session_open_http(c, id, NULL);
    }
    if (kind == 2) {
        if (!get)
            return http_reply_error(c, 405, "method_not_allowed", "use GET");
        return poll_serve(c, id);
    }
    {
        const struct bridge_sse_route *r = route_for(c->b, path);

        if (r) {
            if (!post)
                return http_reply_error(c, 405, "method_not_allowed", "use POST");
            c->route = r;
            if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
                /* lws reads request bodies by Content-Length only */
                c->body_too_large = true;
                return session_open_http(c, NULL, r);
            }
            if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
                char cl[24];

                lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH);
                if (strtoull(cl, NULL, 10) > c->b->cfg->limits.max_body_bytes) {
                    c->body_too_large = true;
                    return session_open_http(c, NULL, r);
                }
                if (strtoull(cl, NULL, 10) > 0) {
                    c->kind = CONN_BODY_WAIT; /* served at LWS_CALLBACK_HTTP_BODY_COMPLETION */
                    c->close_after_reply = false;
                    return 0;
                }
            }
            return session_open_http(c, NULL, r);
        }
    }
    if (!get)
        return routes_known(path) ? http_reply_error(c, 405, "method_not_allowed", "use GET")
                                  : http_reply_error(c, 404, "not_found", "no such path");
    return routes_serve(c, path);
}

static int on_body(struct conn *c, const void *in, size_t len)
{
    char *n;

    if (c->kind != CONN_BODY_WAIT)
        return 0;
    if (c->body_too_large || c->body_len + len > c->b->cfg->limits.max_body_bytes) {
        c->body_too_large = true;
        return 0;
    }
    n = realloc(c->body, c->body_len + len + 1);
    if (n == NULL)
        return -1;
    memcpy(n + c->body_len, in, len);
    c->body = n;
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

/* Raw frame: FIN + opcode 8, unmasked from a server (RFC 6455 5.2), payload = 2-byte code then
 * the reason (5.5.1). */
int http_ws_close(struct lws *wsi, int code, const char *reason)
{
    unsigned char buf[LWS_PRE + 4 + 123], *p = buf + LWS_PRE;
    size_t rl = strlen(reason);

    if (rl > 123)
        rl = 123; /* a control frame carries at most 125 bytes (RFC 6455 5.5) */
    p[0] = 0x88;
    p[1] = (unsigned char)(2 + rl); /* < 126: the one-byte length form */
    p[2] = (unsigned char)(code >> 8);
    p[3] = (unsigned char)(code & 0xff);
    memcpy(p + 4, reason, rl);
    lws_write(wsi, p, 4 + rl, LWS_WRITE_RAW);
    return -1;
}

static int on_ws_established(struct conn *c)
{
    char path[256], id[MQP_ID_MAX + 2];

    c->ws = true;
    if (lws_hdr_copy(c->wsi, path, sizeof(path), WSI_TOKEN_GET_URI) >= 0 && eio_path(path) &&
        sio_stream_eio(c->b) && !c->b->stopping) {
        c->in_eio = true;
        return eio_ws_established(sio_stream_eio(c->b), &c->eio, c->wsi);
    }
    if (lws_hdr_copy(c->wsi, path, sizeof(path), WSI_TOKEN_GET_URI) < 0 ||
        stream_path(path, id, sizeof(id)) != 1) {
        c->kind = CONN_WS_REFUSE;
        c->close_code = 4404;
        snprintf(c->close_reason, sizeof(c->close_reason), "not_found");
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    return session_open_ws(c, id);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct conn *c = user;
    struct http_server *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        c->b = srv->b;
        c->wsi = wsi;
        return on_http(c, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
        if (c->in_eio)
            return eio_http_body(&c->eio, in, len);
        return on_body(c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->in_eio)
            return eio_http_body_done(&c->eio);
        if (c->kind != CONN_BODY_WAIT)
            return 0;
        if (c->api)
            return api_body_done(c);
        return session_open_http(c, NULL, c->route);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (c->in_eio)
            return eio_http_writable(&c->eio);
        if (c->kind == CONN_REPLY)
            return write_reply(c);
        if (c->kind == CONN_STREAM)
            return session_writable(c);
        if (c->kind == CONN_API_WAIT)
            return api_writable(c);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        c->b = srv->b;
        c->wsi = wsi;
        return on_ws_established(c);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c->in_eio)
            return eio_ws_writable(&c->eio);
        if (c->kind == CONN_WS_REFUSE)
            return http_ws_close(wsi, c->close_code, c->close_reason);
        if (c->kind == CONN_STREAM)
            return session_writable(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c->in_eio)
            return eio_ws_receive(&c->eio, in, len);
        return 0; /* the stream is one-way: client messages are ignored */
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_CLOSED:
        if (c)
            conn_cleanup(c);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int http_server_start(struct bridge *b)
{
    struct lws_context_creation_info info;
    struct http_server *srv = calloc(1, sizeof(*srv));
    void *loops[1] = {b->loop};

    if (srv == NULL)
        return -1;
    srv->b = b;
    srv->protocols[0].name = "mqpush-stream";
    srv->protocols[0].callback = callback;
    srv->protocols[0].per_session_data_size = sizeof(struct conn);
    /* lws keeps a receive buffer of this size per WebSocket; clients send little (pongs,
     * CONNECT), and longer messages come in pieces that are put together again */
    srv->protocols[0].rx_buffer_size = 128;
    /* lws cuts every send to tx_packet_size (default: the rx buffer size) and queues the rest
     * for another POLLOUT round: allow a whole coalesced write in one send() */
    srv->protocols[0].tx_packet_size = 512 * 1024;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
                   LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.foreign_loops = loops;
    info.port = b->cfg->listen_port;
    /* libwebsockets 4.1 parses an IPv4 literal into the IPv4 layout of an IPv6 socket address
     * (lws_interface_to_sa()), which leaves the address "::": the bridge would listen on every
     * interface. An IPv4 address therefore gets an IPv4 socket. */
    if (strchr(b->cfg->listen_host, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.iface = b->cfg->listen_host; /* an IP literal: the config turns localhost into one */
    info.protocols = srv->protocols;
    info.user = srv;
    info.pcontext = &srv->ctx;
    info.max_http_header_data = (unsigned short)b->cfg->limits.max_header_bytes;
    /* A header buffer (max_header_bytes and under 1 KiB of lws's index) is held by each
     * connection whose request head is still arriving; lws keeps the others unread until one
     * is free. With a fixed 256, as many clients sending their heads a byte at a time
     * (slowloris) stalled every new request until lws's 10 s header timeout ended them. One
     * per connection lws may hold, up to 4096: the pool only grows to what was used at once,
     * at most 4096 x 9 KiB, 36 MiB, with the default limits. */
    info.max_http_header_pool = (unsigned short)(b->cfg->limits.max_connections + 256 < 4096
                                                     ? b->cfg->limits.max_connections + 256
                                                     : 4096);
    info.fd_limit_per_thread = (unsigned)(b->cfg->limits.max_connections + 256);
    info.timeout_secs = 10;
    info.keepalive_timeout = 30;
    info.count_threads = 1;
    lws_set_log_level(LLL_ERR, NULL);
    srv->ctx = lws_create_context(&info);
    if (srv->ctx == NULL) {
        fprintf(stderr, "mqpush-bridge: cannot listen on %s:%d\n", b->cfg->listen_host,
                b->cfg->listen_port);
        free(srv);
        return -1;
    }
    b->http = srv;
    return 0;
}

void http_server_shutdown(struct http_server *srv)
{
    if (srv == NULL)
        return;
    sessions_shutdown(srv->b);
    sio_stream_shutdown(srv->b);
}

void http_server_close(struct http_server *srv)
{
    if (srv && srv->ctx)
        lws_context_destroy(srv->ctx);
}

void http_server_free(struct http_server *srv)
{
    int tries;

    if (srv == NULL)
        return;
    /* On a foreign loop lws finishes its takedown in steps, each after the loop has run the
     * close callbacks of the last; it clears srv->ctx (info.pcontext) once the context is
     * gone. */
    for (tries = 0; srv->ctx && tries < 4; tries++) {
        lws_context_destroy(srv->ctx);
        uv_run(srv->b->loop, UV_RUN_NOWAIT);
    }
    free(srv);
}
