/*
 * Engine.IO v4 transports over libwebsockets (protocol "Transports" and "Upgrade"): HTTP
 * long-polling (the handshake, held GETs, POSTed packets, errors, CORS) and WebSocket (frames
 * in, the probe and upgrade of a polling session).
 */
#include "socketio/eio_server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const ERR_MSG[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version"};

/* ---- HTTP replies ---- */

/* Query argument name into buf (lws has URL-decoded it): its length, or -1 when absent or
 * too long. Fragments are read one by one at their own length: lws_get_urlarg_by_name() stops
 * at the first argument longer than its buffer (a token, say) and misses those after it. */
static int qarg(struct lws *wsi, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    int i;

    for (i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        char *frag;
        int rc = -2;

        if (flen <= 0)
            return -1;
        frag = malloc((size_t)flen + 1);
        if (frag == NULL)
            return -1;
        if (lws_hdr_copy_fragment(wsi, frag, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0 &&
            (size_t)flen > nl && strncmp(frag, name, nl) == 0 && frag[nl] == '=') {
            size_t vl = (size_t)flen - nl - 1;

            rc = -1;
            if (vl < cap) {
                memcpy(buf, frag + nl + 1, vl);
                buf[vl] = '\0';
                rc = (int)vl;
            }
        }
        free(frag);
        if (rc != -2)
            return rc;
    }
}

/* CORS (Fetch standard, "CORS protocol"): a listed origin is echoed and may send credentials;
 * "*" admits the rest without credentials, since browsers refuse "*" with credentials. */
static int add_cors(struct eio_server *srv, struct lws *wsi, unsigned char **p, unsigned char *end)
{
    char origin[256];
    bool any = false;
    size_t i;

    if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
        return 0;
    for (i = 0; i < srv->p.n_cors_origins; i++) {
        if (strcmp(srv->p.cors_origins[i], "*") == 0)
            any = true;
        else if (strcmp(srv->p.cors_origins[i], origin) == 0)
            break;
    }
    if (i < srv->p.n_cors_origins) {
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                        (const unsigned char *)origin, (int)strlen(origin), p,
                                        end) ||
            lws_add_http_header_by_name(wsi,
                                        (const unsigned char *)"access-control-allow-credentials:",
                                        (const unsigned char *)"true", 4, p, end))
            return -1;
    } else if (any) {
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                        (const unsigned char *)"*", 1, p, end))
            return -1;
    }
    return lws_add_http_header_by_name(
        wsi, (const unsigned char *)"vary:", (const unsigned char *)"Origin", 6, p, end);
}

/* RFC 9112 9.6: after answering a request with the "close" connection option the server
 * closes the connection (lws does), and it SHOULD say so in the answer: Node's keep-alive agent
 * (node-fetch and so the socket.io protocol test suites) otherwise hands the closing socket to
 * its next request, which fails with "socket hang up". */
static int add_conn_close(struct lws *wsi, unsigned char **p, unsigned char *end)
{
    char v[128];
    const char *t;

    if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_CONNECTION) <= 0)
        return 0;
    for (t = v; *t; t++) /* the header is a comma-separated list of options */
        if (strncasecmp(t, "close", 5) == 0 && (t == v || t[-1] == ' ' || t[-1] == ',') &&
            (t[5] == '\0' || t[5] == ' ' || t[5] == ','))
            return lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                               (const unsigned char *)"close", 5, p, end);
    return 0;
}

/*
 * Write the headers now and the body (copied) at the next WRITEABLE. The request headers must
 * still be attached (cors); a held poll answers with cors false and its headers were kept in
 * extra when it was held.
 */
int eio__reply(struct eio_conn *c, int status, const char *ctype, const char *body, size_t len,
               bool cors, const char *extra)
{
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                       *end = hdr + sizeof(hdr) - 1;

    if (lws_add_http_common_headers(c->wsi, (unsigned)status, ctype, len, &p, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (cors && (add_cors(c->srv, c->wsi, &p, end) || add_conn_close(c->wsi, &p, end)))
        return -1;
    if (extra) {
        size_t el = strlen(extra);

        if ((size_t)(end - p) < el)
            return -1;
        memcpy(p, extra, el);
        p += el;
    }
    if (lws_finalize_write_http_header(c->wsi, start, &p, end))
        return -1;
    if (len == 0)
        return lws_http_transaction_completed(c->wsi) ? -1 : 0;
    free(c->reply);
    c->reply = malloc(LWS_PRE + len + 1);
    if (c->reply == NULL)
        return -1;
    memcpy(c->reply + LWS_PRE, body, len);
    c->reply_len = len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* 400 with {"code", "message"} (protocol "Errors"); 413 for a body over maxPayload. */
static int reply_error(struct eio_conn *c, int status, int code)
{
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", code,
                     status == 413 ? "Payload too large" : ERR_MSG[code]);

    return eio__reply(c, status, "application/json", body, (size_t)n, true, NULL);
}

/* ---- long-polling ---- */

/* Answer the held GET of s with what is queued (at least one packet is). */
static int answer_poll(struct eio_conn *c)
{
    struct eio_sess *s = c->sess;
    struct eio_server *srv = c->srv;
    int rc;

    eio__out_begin(srv, false, srv->p.max_payload);
    eio__gather(s);
    if (s->closed)
        return 0; /* core_close answered it */
    if (srv->out.len == 0)
        return 0; /* nothing after all: keep holding */
    s->get = NULL;
    c->sess = NULL;
    c->role = ROLE_NONE;
    rc = eio__reply(c, 200, "text/plain; charset=UTF-8", srv->out.data, srv->out.len, false,
                    (const char *)c->buf);
    free(c->buf);
    c->buf = NULL;
    return rc;
}

/* Peer gone from a held poll? lws does not read a connection while it serves a request. */
bool eio__peer_gone(struct lws *wsi)
{
    char b;
    ssize_t n = recv(lws_get_socket_fd(wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT);

    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* The CORS (and connection) headers of a request, kept as raw header lines for a reply
 * written later. */
static char *cors_lines(struct eio_server *srv, struct lws *wsi)
{
    unsigned char buf[LWS_PRE + 512], *p = buf + LWS_PRE, *end = buf + sizeof(buf) - 1;
    char *out;

    if (add_cors(srv, wsi, &p, end) != 0 || add_conn_close(wsi, &p, end) != 0)
        return NULL;
    out = malloc((size_t)(p - (buf + LWS_PRE)) + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, buf + LWS_PRE, (size_t)(p - (buf + LWS_PRE)));
    out[p - (buf + LWS_PRE)] = '\0';
    return out;
}

static int handshake_polling(struct eio_server *srv, struct eio_conn *c)
{
    struct eio_sess *s;
    char *open;
    int rc;

    if (srv->n >= srv->p.max_sessions)
        return eio__reply(c, 503, "application/json", "{\"code\":3,\"message\":\"Server busy\"}",
                          35, true, NULL);
    s = eio__sess_new(srv);
    if (s == NULL)
        return -1;
    if (srv->ops->on_open(srv->ud, s, c->wsi) != 0) {
        eio_session_close(s->core, "forbidden");
        return reply_error(c, 403, 4);
    }
    s->opened = true;
    open = eio_session_open_packet(s->core, true);
    if (open == NULL) {
        eio_session_close(s->core, "server error");
        return -1;
    }
    rc = eio__reply(c, 200, "text/plain; charset=UTF-8", open, strlen(open), true, NULL);
    free(open);
    return rc;
}

int eio_http(struct eio_server *srv, struct eio_conn *c, struct lws *wsi)
{
    char v[64], sid[64];
    bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    struct eio_sess *s;

    c->srv = srv;
    c->wsi = wsi;
    c->role = ROLE_NONE;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0) {
        /* preflight: what a cross-origin client may send (socket.io-client sends
         * Authorization through extraHeaders, and text/plain bodies) */
        return eio__reply(c, 204, NULL, "", 0, true,
                          "access-control-allow-methods: GET, POST, OPTIONS\r\n"
                          "access-control-allow-headers: authorization, content-type\r\n"
                          "access-control-max-age: 600\r\n");
    }
    if (qarg(wsi, "EIO", v, sizeof(v)) != 1 || v[0] != '4')
        return reply_error(c, 400, 5);
    if (qarg(wsi, "transport", v, sizeof(v)) < 0 || strcmp(v, "polling") != 0)
        return reply_error(c, 400, 0);
    if (qarg(wsi, "sid", sid, sizeof(sid)) < 0) {
        if (!get)
            return reply_error(c, 400, 2);
        return handshake_polling(srv, c);
    }
    s = eio__find(srv, sid);
    if (s == NULL)
        return reply_error(c, 400, 1);
    if (s->ws_only || eio_session_upgraded(s->core))
        return reply_error(c, 400, 3);
    if (get) {
        if (s->get && eio__peer_gone(s->get->wsi)) {
            /* the client gave up its poll (not yet seen by the probe): the session is over */
            lws_set_timeout(s->get->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            eio_session_close(s->core, "transport close");
            return reply_error(c, 400, 1);
        }
        if (s->get) {
            /* Two polls at once break the ordering of packets (protocol "Polling"). */
            reply_error(c, 400, 3);
            eio_session_close(s->core, "transport error");
            return 0;
        }
        if (s->upgrading && !eio__has_output(s)) {
            /* While the client upgrades, a poll is not held: it pauses polling once its poll
             * returns, and only then completes the upgrade (protocol "Upgrade"). */
            return eio__reply(c, 200, "text/plain; charset=UTF-8", "6", 1, true, NULL);
        }
        c->sess = s;
        c->role = ROLE_GET;
        s->get = c;
        /* headers for the answer, then hold without a timeout, freeing the header buffer */
        c->buf = cors_lines(srv, wsi);
        if (eio__has_output(s)) {
            lws_callback_on_writable(wsi);
        } else {
            lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        }
        lws_http_headers_detach(wsi);
        return 0;
    }
    if (!post)
        return reply_error(c, 400, 2);
    if (s->post) {
        reply_error(c, 400, 3);
        eio_session_close(s->core, "transport error");
        return 0;
    }
    {
        char cl[24];

        if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
            strtoull(cl, NULL, 10) == 0)
            return reply_error(c, 400, 3);
        if (strtoull(cl, NULL, 10) > srv->p.max_payload) {
            reply_error(c, 413, 3);
            eio_session_close(s->core, "transport error");
            return 0;
        }
    }
    c->sess = s;
    c->role = ROLE_POST;
    s->post = c;
    c->len = 0;
    c->too_large = false;
    return 0;
}

int eio_http_body(struct eio_conn *c, const void *in, size_t len)
{
    char *n;

    if (c->role != ROLE_POST)
        return 0;
    if (c->too_large || c->len + len > c->srv->p.max_payload) {
        c->too_large = true;
        return 0;
    }
    n = realloc(c->buf, c->len + len + 1);
    if (n == NULL)
        return -1;
    memcpy(n + c->len, in, len);
    c->buf = n;
    c->len += len;
    return 0;
}

static int feed(void *ud, const struct eio_packet *p)
{
    struct eio_sess *s = ud;

    /* Upgrade packets come on the WebSocket only. */
    if (p->type == EIO_UPGRADE)
        return -1;
    return eio_session_receive(s->core, p);
}

int eio_http_body_done(struct eio_conn *c)
{
    struct eio_sess *s = c->sess;
    int n, rc;

    if (c->role != ROLE_POST)
        return 0;
    c->role = ROLE_NONE;
    c->sess = NULL;
    if (s == NULL) {
        /* the session ended while the body came */
        rc = reply_error(c, 400, 1);
        goto out;
    }
    s->post = NULL;
    if (c->too_large) {
        rc = reply_error(c, 413, 3);
        eio_session_close(s->core, "transport error");
        goto out;
    }
    n = c->len ? eio_payload_parse(c->buf, c->len, MAX_PACKETS_PER_BODY, feed, s) : -1;
    if (n < 0 && !s->closed) {
        rc = reply_error(c, 400, 3);
        eio_session_close(s->core, "parse error");
        goto out;
    }
    rc = eio__reply(c, 200, "text/html", "ok", 2, true, NULL);
out:
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
    return rc;
}

int eio_http_writable(struct eio_conn *c)
{
    int n;

    if (c->role == ROLE_GET && c->sess)
        return answer_poll(c);
    if (c->reply == NULL)
        return 0;
    n = lws_write(c->wsi, (unsigned char *)c->reply + LWS_PRE, c->reply_len, LWS_WRITE_HTTP_FINAL);
    free(c->reply);
    c->reply = NULL;
    c->reply_len = 0;
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* ---- WebSocket ---- */

int eio_ws_established(struct eio_server *srv, struct eio_conn *c, struct lws *wsi)
{
    char v[64], sid[64];
    struct eio_sess *s;

    c->srv = srv;
    c->wsi = wsi;
    c->role = ROLE_WS;
    if (qarg(wsi, "EIO", v, sizeof(v)) != 1 || v[0] != '4' ||
        qarg(wsi, "transport", v, sizeof(v)) < 0 || strcmp(v, "websocket") != 0) {
        eio__ws_end(c);
        return 0;
    }
    if (qarg(wsi, "sid", sid, sizeof(sid)) < 0) {
        char *open;

        if (srv->n >= srv->p.max_sessions) {
            eio__ws_end(c);
            return 0;
        }
        s = eio__sess_new(srv);
        if (s == NULL)
            return -1;
        s->ws_only = true;
        s->ws = c;
        c->sess = s;
        if (srv->ops->on_open(srv->ud, s, wsi) != 0) {
            eio_session_close(s->core, "forbidden");
            return 0;
        }
        s->opened = true;
        open = eio_session_open_packet(s->core, false);
        if (open == NULL ||
            eio_session_send(s->core, EIO_OPEN, open + 1, strlen(open) - 1, false) != 0) {
            free(open);
            eio_session_close(s->core, "server error");
            return 0;
        }
        free(open);
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        return 0;
    }
    s = eio__find(srv, sid);
    /* Upgrade of a polling session (protocol "Upgrade"): one WebSocket, once. */
    if (s == NULL || s->ws_only || s->ws || eio_session_upgraded(s->core)) {
        eio__ws_end(c);
        return 0;
    }
    s->ws = c;
    c->sess = s;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    return 0;
}

static int ws_message(struct eio_conn *c, const char *data, size_t len, bool binary)
{
    struct eio_sess *s = c->sess;
    struct eio_packet pk;

    if (binary) {
        if (!eio__ws_carries(s)) {
            eio_session_close(s->core, "parse error");
            return 0;
        }
        pk.type = EIO_MESSAGE;
        pk.binary = true;
        pk.data = data;
        pk.len = len;
        eio_session_receive(s->core, &pk);
        return 0;
    }
    if (eio_packet_parse(data, len, &pk) != 0) {
        eio_session_close(s->core, "parse error");
        return 0;
    }
    if (eio__ws_carries(s)) {
        eio_session_receive(s->core, &pk);
        return 0;
    }
    /* probing: "2probe" is answered on the WebSocket, and a held poll is released with a noop
     * so that the client can pause polling; "5" completes the upgrade */
    if (pk.type == EIO_PING && pk.len == 5 && memcmp(pk.data, "probe", 5) == 0) {
        s->probe_reply = true;
        s->upgrading = true;
        lws_callback_on_writable(c->wsi);
        if (s->get) {
            struct eio_conn *g = s->get;

            s->get = NULL;
            g->sess = NULL;
            g->role = ROLE_NONE;
            eio__reply(g, 200, "text/plain; charset=UTF-8", "6", 1, false, g->buf);
            free(g->buf);
            g->buf = NULL;
        }
        return 0;
    }
    if (pk.type == EIO_UPGRADE && pk.len == 0) {
        if (s->get) {
            /* the client upgrades only once its poll came back */
            eio_session_close(s->core, "transport error");
            return 0;
        }
        eio_session_receive(s->core, &pk);
        if (!s->closed && eio__has_output(s))
            eio__schedule(s);
        return 0;
    }
    eio_session_close(s->core, "parse error");
    return 0;
}

int eio_ws_receive(struct eio_conn *c, const void *in, size_t len)
{
    struct lws *wsi = c->wsi;
    bool binary = lws_frame_is_binary(wsi) != 0;
    bool done = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    int rc;

    if (c->sess == NULL)
        return 0;
    if (c->len == 0 && done && !c->too_large)
        return ws_message(c, in, len, binary);
    if (c->len + len > c->srv->p.max_payload) {
        free(c->buf);
        c->buf = NULL;
        c->len = 0;
        /* RFC 6455 7.4.1: 1009, a message too big to process (socket.io's own server, on
         * npm ws, closes a message over maxPayload the same way) */
        c->close_code = 1009;
        eio_session_close(c->sess->core, "transport error");
        return 0;
    }
    {
        char *n = realloc(c->buf, c->len + len + 1);

        if (n == NULL)
            return -1;
        memcpy(n + c->len, in, len);
        c->buf = n;
        c->len += len;
    }
    if (!done)
        return 0;
    rc = ws_message(c, c->buf, c->len, binary);
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
    return rc;
}

/* A close frame, written raw (RFC 6455 5.5.1) since lws drops the connection without one
 * when a callback returns -1. */
static int ws_close_frame(struct lws *wsi, int code)
{
    unsigned char f[LWS_PRE + 4];

    f[LWS_PRE] = 0x88;
    f[LWS_PRE + 1] = 2;
    f[LWS_PRE + 2] = (unsigned char)(code >> 8);
    f[LWS_PRE + 3] = (unsigned char)(code & 0xff);
    lws_write(wsi, f + LWS_PRE, 4, LWS_WRITE_RAW);
    return -1;
}

int eio_ws_writable(struct eio_conn *c)
{
    struct eio_sess *s = c->sess;

    if (s == NULL)
        return c->close_after ? ws_close_frame(c->wsi, c->close_code ? c->close_code : 1000) : 0;
    if (s->probe_reply && !eio__ws_carries(s)) {
        unsigned char f[LWS_PRE + 2 + 6];

        s->probe_reply = false;
        memcpy(f + LWS_PRE,
               "\x81\x06"
               "3probe",
               8);
        return lws_write(c->wsi, f + LWS_PRE, 8, LWS_WRITE_RAW) < 0 ? -1 : 0;
    }
    if (!eio__ws_carries(s))
        return 0;
    return eio__ws_flush(s);
}

void eio_conn_closed(struct eio_conn *c)
{
    struct eio_sess *s = c->sess;

    if (s) {
        c->sess = NULL;
        if (c->role == ROLE_GET) {
            s->get = NULL;
            /* An aborted poll ends the session (the client went away). */
            eio_session_close(s->core, "transport close");
        } else if (c->role == ROLE_POST) {
            s->post = NULL;
        } else if (c->role == ROLE_WS) {
            bool carried = eio__ws_carries(s);

            s->ws = NULL;
            s->upgrading = false;
            if (carried)
                eio_session_close(s->core, "transport close");
        }
    }
    c->role = ROLE_NONE;
    free(c->buf);
    free(c->reply);
    c->buf = c->reply = NULL;
    c->len = c->reply_len = 0;
}
