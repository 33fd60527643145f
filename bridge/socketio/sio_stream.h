/*
 * mqpush streams over socket.io (docs/socketio.md): one namespace per tenant, a socket reads
 * one stream (from auth.stream or ?stream=), each event emitted as "<namespace>:<name>" with
 * the stream event and its offset; the token from auth.token, the handshake's Authorization
 * header (kept for the Engine.IO session) or ?token=, decided by http_decide() as for SSE;
 * connection state recovery from the hub's replay buffer; slow sockets dropped by the hub.
 */
#ifndef BRIDGE_SOCKETIO_SIO_STREAM_H
#define BRIDGE_SOCKETIO_SIO_STREAM_H

#include <stddef.h>
#include "bridge.h"

struct eio_server;

/* Start serving (when socketio.enabled). Returns 0 or -1. */
int sio_stream_start(struct bridge *b);
/* The Engine.IO server for the HTTP server's /socket.io/ routes, or NULL when disabled. */
struct eio_server *sio_stream_eio(struct bridge *b);
/* The VAPID key changed: emit mqpush:vapid-key on every socket of a Web Push stream. */
void sio_stream_announce_key(struct bridge *b);
/* After a reload: disconnect the sockets whose stream is gone or no longer readable. */
void sio_stream_recheck(struct bridge *b);
/* Close every session (SIGTERM). */
void sio_stream_shutdown(struct bridge *b);
/* Release what is left, once the connections are gone. Accepts a bridge without socket.io. */
void sio_stream_free(struct bridge *b);
/* Open sockets and Engine.IO sessions, for the drain at shutdown and /metrics. */
size_t sio_stream_sockets(const struct bridge *b);
size_t sio_stream_sessions(const struct bridge *b);

#endif
