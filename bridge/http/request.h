/*
 * Reading an HTTP request on the bridge (query arguments, headers) and deciding who may read
 * which stream. Every channel that serves a stream (SSE, WebSocket, polling, later socket.io)
 * comes through http_resolve_stream(), so they refuse alike, and like the plugin: the token
 * check and the read rule are core/'s.
 */
#ifndef BRIDGE_HTTP_REQUEST_H
#define BRIDGE_HTTP_REQUEST_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include "bridge.h"
#include "token.h"

/* Copy query argument name (without '=') into buf. Returns its length, -1 when absent, -2
 * when longer than cap - 1. lws has already URL-decoded it. */
int http_query_arg(struct lws *wsi, const char *name, char *buf, size_t cap);

/* The bearer token from "Authorization: Bearer" or ?token=, malloc()ed (caller frees), or
 * NULL when there is none. *too_long is set when one was there but over max bytes. */
char *http_bearer_token(struct lws *wsi, size_t max, bool *too_long);

/* Does the Accept header (absent: yes) admit text/event-stream? */
bool http_accepts_event_stream(struct lws *wsi);

/* Copy header "Last-Event-ID" into buf; returns its length or -1. */
int http_last_event_id(struct lws *wsi, char *buf, size_t cap);

enum http_denial {
    HTTP_OK = 0,
    HTTP_BAD_REQUEST,   /* 400: no tenant named */
    HTTP_UNAUTHORIZED,  /* 401: token missing for a private stream */
    HTTP_TOKEN_INVALID, /* 401: token present and refused */
    HTTP_FORBIDDEN,     /* 403 */
    HTTP_NOT_FOUND,     /* 404: tenant or stream */
};

/* Who is asking, once the token (if any) is checked. */
struct http_caller {
    struct mqp_identity *id;         /* NULL: anonymous; owned (free with http_caller_clear()) */
    const struct mqp_tenant *tenant; /* borrowed from b->streams; NULL when not named */
};

/*
 * Verify the request's token (if any) and find the tenant it speaks for (the token's, or
 * ?tenant= for anonymous and service callers). Returns HTTP_OK and fills who, or a denial
 * with a short message in msg.
 */
enum http_denial http_identify(struct bridge *b, struct lws *wsi, const char *tenant,
                               struct http_caller *who, char *msg, size_t msglen);

/*
 * http_identify(), then stream_id in the caller's tenant, then the read rule. tenant, when not
 * NULL, is the tenant the route is bound to (a tenant token must be of that tenant). On
 * HTTP_OK, *stream is borrowed from b->streams (valid until the next reload).
 */
enum http_denial http_resolve_stream(struct bridge *b, struct lws *wsi, const char *tenant,
                                     const char *stream_id, struct http_caller *who,
                                     const struct mqp_stream **stream, char *msg, size_t msglen);

/*
 * The same decision for a channel whose token and tenant do not come from the request line
 * (socket.io: the CONNECT packet's auth, the namespace). token may be NULL (anonymous); tenant
 * is the one named (a tenant token must be of it).
 */
enum http_denial http_decide(struct bridge *b, const char *token, const char *tenant,
                             const char *stream_id, struct http_caller *who,
                             const struct mqp_stream **stream, char *msg, size_t msglen);

/* http_decide() without a stream: who the token's holder is, for a resource that is not a
 * stream (socket.io's UnifiedPush distributor sockets). */
enum http_denial http_decide_caller(struct bridge *b, const char *token, const char *tenant,
                                    struct http_caller *who, char *msg, size_t msglen);

void http_caller_clear(struct http_caller *who);

/* Status code and "error" code of a denial. */
int http_denial_status(enum http_denial d);
const char *http_denial_code(enum http_denial d);

#endif
