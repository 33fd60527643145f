/*
 * The bridge's JSON APIs (/api/push/, /ssf/, later /api/unifiedpush/): each channel serves
 * the paths under its prefix. The request body (Content-Length only: lws 4.1 does not read
 * chunked request bodies) is read whole, up to limits.max_body_bytes, before the handler runs.
 */
#ifndef BRIDGE_HTTP_API_H
#define BRIDGE_HTTP_API_H

#include <stddef.h>
#include "conn.h"

/* Serve path with body (NULL when none, len bytes). Returns 0, or -1 to close. */
typedef int (*api_serve_fn)(struct conn *c, const char *path, const char *body, size_t len);

struct api_route {
    const char *prefix;
    api_serve_fn serve;
};

/* The route whose prefix path starts with, or NULL. */
const struct api_route *api_find(const char *path);

/* Begin a request for route r: answer at once when there is no body, else wait for it. */
int api_begin(struct conn *c, const struct api_route *r, const char *path);

/* The body has been read (LWS_CALLBACK_HTTP_BODY_COMPLETION). */
int api_body_done(struct conn *c);

/*
 * For a handler that must wait (a DNS lookup) before it answers: the connection waits. When
 * the result is in, the handler calls api_wake(c); resume(c, arg) then runs in the writable
 * callback, where it may reply (its return is the callback's). If the connection closes
 * first, abandon(arg) is called instead and c must not be used again. Returns 0.
 */
int api_defer(struct conn *c, int (*resume)(struct conn *c, void *arg), void (*abandon)(void *arg),
              void *arg);
void api_wake(struct conn *c);

/* From the server's callbacks: the writable callback of a waiting connection, and its close. */
int api_writable(struct conn *c);
void api_closed(struct conn *c);

#endif
