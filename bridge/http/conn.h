/*
 * One HTTP or WebSocket connection of the bridge's server (the lws per-session data), shared
 * by the server and the channel modules that take a connection over.
 */
#ifndef BRIDGE_HTTP_CONN_H
#define BRIDGE_HTTP_CONN_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include "bridge.h"
#include "config.h"
#include "socketio/eio_server.h"

struct stream_sess;
struct api_route;

enum conn_kind {
    CONN_IDLE = 0,  /* between requests */
    CONN_REPLY,     /* headers sent, body (reply) to write */
    CONN_BODY_WAIT, /* reading a POST body for a route */
    CONN_STREAM,    /* taken over by a stream session (SSE or WebSocket) */
    CONN_WS_REFUSE, /* WebSocket to be closed with close_code */
    CONN_API_WAIT,  /* a JSON API handler waits (http/api.h api_defer()) */
};

struct conn {
    struct bridge *b;
    struct lws *wsi;
    enum conn_kind kind;
    bool ws;
    char *reply; /* owned */
    size_t reply_len;
    char *body; /* POST body being read, owned */
    size_t body_len;
    bool body_too_large;
    bool close_after_reply;               /* the request had a body we did not read: do not reuse */
    const struct bridge_sse_route *route; /* borrowed from b->cfg */
    struct stream_sess *ss;               /* owned, CONN_STREAM */
    int close_code;                       /* CONN_WS_REFUSE */
    char close_reason[48];
    const struct api_route *api; /* a JSON API request (http/api.h) waiting for its body */
    /* CONN_API_WAIT: resumed in the writable callback once api_wake() was called; abandoned
     * when the connection closes first. */
    int (*api_resume)(struct conn *c, void *arg);
    void (*api_abandon)(void *arg);
    void *api_arg;
    bool api_woken;
    /* room for "/.well-known/ssf-configuration/ssf/" and a tenant id of up to 128 bytes */
    char api_path[192];
    bool in_eio;         /* this request or WebSocket is Engine.IO's (socket.io) */
    struct eio_conn eio; /* its transport state */
};

/*
 * Answer with status, Content-Type ctype and body (copied). extra is NULL or more header
 * lines, each "name: value\r\n". Returns 0, or -1 when the connection must close.
 */
int http_reply(struct conn *c, int status, const char *ctype, const char *body, size_t len,
               const char *extra);
/* {"error": code, "message": msg} with status; 401 adds WWW-Authenticate. */
int http_reply_error(struct conn *c, int status, const char *code, const char *msg);
/*
 * End a WebSocket with a close frame of code and reason; returns -1 for the callback to
 * return. (Written raw, RFC 6455 5.5.1: lws's own close path drops a connection without the
 * frame when a callback returns -1.)
 */
int http_ws_close(struct lws *wsi, int code, const char *reason);

#endif
