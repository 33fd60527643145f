/*
 * Stream sessions: one client reading one stream, as Server-Sent Events or as a WebSocket
 * (one JSON text frame per event). A session reads its events from the hub by cursor and
 * writes everything pending in one call when its socket is writable. It also owns the
 * heartbeat, the end of the stream when the token expires, and the resume handshake
 * (replayed events, then "mqpush:ready"). See docs/http-api.md for the wire format.
 */
#ifndef BRIDGE_SSE_SESSION_H
#define BRIDGE_SSE_SESSION_H

#include "bridge.h"
#include "http/conn.h"

/*
 * Start serving an SSE request on c: either GET /stream/v1/streams/{stream_id} (route NULL),
 * whose refusals are HTTP errors, or a configured POST route, which always answers 200 and
 * puts refusals in the body. Reads the request (token, tenant, criteria, cursor) from c.
 * Returns 0, or -1 when the connection must close.
 */
int session_open_http(struct conn *c, const char *stream_id, const struct bridge_sse_route *route);

/* The same over an established WebSocket; refusals are close frames (4400/4401/4403/4404). */
int session_open_ws(struct conn *c, const char *stream_id);

/* c is writable: send what is pending. Returns -1 when the connection must close. */
int session_writable(struct conn *c);

/* The connection of c is gone: release its session. */
void session_closed(struct conn *c);

/* After a reload (b->streams is new): end the sessions whose stream is gone or which may no
 * longer read it. */
void sessions_recheck(struct bridge *b);

/* The VAPID key changed: send mqpush:vapid-key on every session of a Web Push stream. */
void sessions_announce_key(struct bridge *b);

/* End every session (shutdown). */
void sessions_shutdown(struct bridge *b);

/* Release the session timer (after sessions_shutdown()). */
void sessions_fini(struct bridge *b);

/* Open sessions, for limits. */
size_t sessions_count(const struct bridge *b);

#endif
