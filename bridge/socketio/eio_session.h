/*
 * An Engine.IO v4 session, apart from its transports: the session id, the open packet, the
 * heartbeat (the server pings every pingInterval and closes the session when no pong comes
 * within pingTimeout), the queue of packets to send, and what received packets mean. The HTTP
 * long-polling and WebSocket transports (in the server) move bytes; this module decides.
 * See socket.io's docs/engine.io-protocol/v4-current.md, "Handshake" and "Heartbeat".
 */
#ifndef BRIDGE_SOCKETIO_EIO_SESSION_H
#define BRIDGE_SOCKETIO_EIO_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>
#include "socketio/eio_packet.h"

/* 20 characters, as the reference server's ids: 15 random bytes in base64url. */
#define EIO_SID_LEN 20

struct eio_session;

struct eio_params {
    unsigned ping_interval_ms; /* 25000 */
    unsigned ping_timeout_ms;  /* 20000 */
    size_t max_payload;        /* bytes per polling body, both ways; 1000000 */
    size_t max_queue_bytes;    /* unsent bytes before the session is closed as slow */
};

struct eio_session_ops {
    /* A message packet's data (borrowed for the call). */
    void (*on_message)(void *ud, const char *data, size_t len, bool binary);
    /* Packets were queued: the transport should write when it can. */
    void (*on_queued)(void *ud);
    /* The session ended (reason: "ping timeout", "client close", "parse error",
     * "queue full", "server close"). After this, only eio_session_free() may be called. */
    void (*on_close)(void *ud, const char *reason);
};

/* Returns 0 and *out (free with eio_session_free()), or -1. Starts the heartbeat. */
int eio_session_new(uv_loop_t *loop, const struct eio_params *p, const struct eio_session_ops *ops,
                    void *ud, struct eio_session **out);

/* The session id (borrowed, NUL-terminated). */
const char *eio_session_sid(const struct eio_session *s);

/* The open packet text, "0{...}" (caller frees), with upgrades ["websocket"] when
 * can_upgrade. */
char *eio_session_open_packet(const struct eio_session *s, bool can_upgrade);

/* Queue a packet. Returns 0, or -1 when the queue limit is passed (the session then closes
 * with "queue full") or the session is closed. */
int eio_session_send(struct eio_session *s, enum eio_type type, const void *data, size_t len,
                     bool binary);

/*
 * A packet from the client: pong ends the wait for it, message goes to on_message, close
 * closes, ping "probe" is answered with pong "probe" (the upgrade check), upgrade switches the
 * session to the WebSocket transport, noop is ignored; open or a stray packet is a protocol
 * error (the session closes with "parse error"). Returns 0, or -1 when the session closed.
 */
int eio_session_receive(struct eio_session *s, const struct eio_packet *p);

/* Move queued packets into a polling body (at most max_payload bytes, but always at least one
 * packet when any is queued). Returns the number of packets taken. */
size_t eio_session_take_polling(struct eio_session *s, struct eio_buf *out);

/* The next queued packet for a WebSocket frame: its text form (type digit + data) or, for
 * binary messages, the raw bytes; borrowed until eio_session_pop(). NULL when none. */
const char *eio_session_peek(const struct eio_session *s, size_t *len, bool *binary);
void eio_session_pop(struct eio_session *s);

/* True once the client sent "upgrade": from then on the WebSocket carries the session. */
bool eio_session_upgraded(const struct eio_session *s);
size_t eio_session_queued_bytes(const struct eio_session *s);

/* End the session from the server side (on_close is called with reason). */
void eio_session_close(struct eio_session *s, const char *reason);

/* Stop the timers and free once they are closed. Accepts NULL. */
void eio_session_free(struct eio_session *s);

#endif
