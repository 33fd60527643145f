/*
 * An Engine.IO v4 server on libwebsockets: the HTTP long-polling and WebSocket transports, the
 * upgrade from one to the other, and the table of sessions (socket.io's
 * docs/engine.io-protocol/v4-current.md, "Transports" and "Upgrade"). What a session means is
 * left to an application (the Socket.IO layer, or a raw echo): it gets messages and, when a
 * transport can take data, is asked to write what it has pending, so that everything queued
 * for a client leaves in one write.
 *
 * The server does not own the lws context: the host's lws callback forwards the requests under
 * the mount path and the WebSocket events of those connections. Loop thread only.
 */
#ifndef BRIDGE_SOCKETIO_EIO_SERVER_H
#define BRIDGE_SOCKETIO_EIO_SERVER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct eio_server;
struct eio_sess;

struct eio_server_params {
    unsigned ping_interval_ms;
    unsigned ping_timeout_ms;
    size_t max_payload;     /* a polling body or a WebSocket message, either way */
    size_t max_queue_bytes; /* unsent control packets and messages queued by the application */
    size_t max_sessions;    /* handshakes over this are refused (503) */
    const char *const *cors_origins; /* borrowed; "*" allows any origin without credentials */
    size_t n_cors_origins;
};

struct eio_app_ops {
    /* A session opened; the handshake request's headers and query can be read from wsi now
     * (and only now). Return 0 to accept, -1 to refuse (403, code 4 "Forbidden"). */
    int (*on_open)(void *ud, struct eio_sess *s, struct lws *wsi);
    /* A message packet (data borrowed for the call). */
    void (*on_message)(void *ud, struct eio_sess *s, const char *data, size_t len, bool binary);
    /* A transport can take data: write with eio_sess_put() until it refuses or nothing is
     * left. Called after eio_sess_want_write(), once per write. */
    void (*pull)(void *ud, struct eio_sess *s);
    /* The session ended (reason as in eio_session.h, or "transport close", "transport error",
     * "server shutdown"). The application forgets s; nothing else is called for it. */
    void (*on_close)(void *ud, struct eio_sess *s, const char *reason);
};

/* Per lws connection state of the transports: embed it zeroed in the per-session data. */
struct eio_conn {
    struct eio_server *srv;
    struct eio_sess *sess;
    struct lws *wsi;
    int role;  /* what this connection is to its session (eio_server.c) */
    char *buf; /* a POST body or a WebSocket message being received; owned */
    size_t len;
    bool too_large;
    char *reply; /* an HTTP reply body waiting for WRITEABLE, LWS_PRE in front; owned */
    size_t reply_len;
    bool close_after; /* the WebSocket ends after the pending write */
    int close_code;   /* of its close frame; 0: 1000 */
};

/* Returns 0 and *out (free with eio_server_free()), or -1. params' strings are borrowed. */
int eio_server_new(uv_loop_t *loop, const struct eio_server_params *p,
                   const struct eio_app_ops *ops, void *ud, struct eio_server **out);
/* Close every session ("server shutdown"): their held polls are answered, WebSockets closed. */
void eio_server_shutdown(struct eio_server *srv);
/* After eio_server_shutdown(); the connections must be gone. Accepts NULL. */
void eio_server_free(struct eio_server *srv);
size_t eio_server_sessions(const struct eio_server *srv);

/*
 * Forwarded from the host's lws callback for connections under the mount path. Each returns
 * 0, or -1 when the connection must close (the callback's return value).
 */
int eio_http(struct eio_server *srv, struct eio_conn *c, struct lws *wsi);
int eio_http_body(struct eio_conn *c, const void *in, size_t len);
int eio_http_body_done(struct eio_conn *c);
int eio_http_writable(struct eio_conn *c);
int eio_ws_established(struct eio_server *srv, struct eio_conn *c, struct lws *wsi);
int eio_ws_receive(struct eio_conn *c, const void *in, size_t len);
int eio_ws_writable(struct eio_conn *c);
void eio_conn_closed(struct eio_conn *c);

/* The application's side of a session. */
const char *eio_sess_id(const struct eio_sess *s);
void eio_sess_set_app(struct eio_sess *s, void *app);
void *eio_sess_app(const struct eio_sess *s);
/* Queue one message (copied) behind the session's control packets. Returns 0, or -1 when the
 * queue limit is passed (the session then closes) or the session is closed. */
int eio_sess_send(struct eio_sess *s, const void *data, size_t len, bool binary);
/* The application has output for pull(): a write is arranged when a transport can take it. */
void eio_sess_want_write(struct eio_sess *s);
/*
 * In pull() only: append one message to the write being built. Returns 0, or 1 when the write
 * is full (stop: pull() is called again for the rest).
 */
int eio_sess_put(struct eio_sess *s, const void *data, size_t len, bool binary);
/* End the session from the server side. */
void eio_sess_close(struct eio_sess *s, const char *reason);
bool eio_sess_is_websocket(const struct eio_sess *s);

#endif
