/*
 * UnifiedPush distributors over socket.io (docs/unifiedpush.md, "socket.io"): a socket that
 * joins its tenant's namespace with auth.unifiedpush (or ?unifiedpush=1) instead of a stream
 * reads its user's push-provider messages from the store (upprovider/provider.h), the stored
 * ones first, then each new one, as the event "unifiedpush:message" with the exact bytes as a
 * binary attachment. Each event asks for an ack whose id is the message id: the client's ack
 * deletes the messages up to it. Loop thread only.
 */
#ifndef BRIDGE_SOCKETIO_SIO_UP_H
#define BRIDGE_SOCKETIO_SIO_UP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include "bridge.h"
#include "socketio/sio_server.h"

struct sio_up_set; /* the distributor sockets of one socket.io server */
struct sio_up;     /* one of them */

/* A set that the provider wakes for new messages (up_provider_set_wake()). Returns 0 and *out
 * (free with sio_up_set_free(), after its sockets), 0 and *out NULL when the provider is not
 * enabled, or -1. */
int sio_up_set_new(struct bridge *b, struct sio_up_set **out);
/* Uninstall the wake hook and free; every sio_up of the set must be gone. Accepts NULL. */
void sio_up_set_free(struct sio_up_set *set);

/* Does a CONNECT ask for UnifiedPush: auth.unifiedpush (a boolean) when given, else the
 * handshake's ?unifiedpush=1 (query)? */
bool sio_up_wanted(json_object *auth, bool query);

/*
 * Decide a CONNECT to tenant's namespace that asked for UnifiedPush: token (borrowed, NULL
 * when none; too_long: one was sent but was too large) must be a token of tenant with a
 * "sub"; auth.after or auth.offset (a message id,
 * number or decimal string) acknowledges the messages up to it, as Last-Event-ID does on the
 * SSE stream. Returns 0 and *out (free with sio_up_free()), or -1 with *err set to the
 * CONNECT_ERROR payload (caller owns it). *exp is the token's expiry (INT64_MAX: none).
 */
int sio_up_connect(struct sio_up_set *set, struct sio_socket *sk, const char *tenant,
                   const char *token, bool too_long, json_object *auth, struct sio_up **out,
                   int64_t *exp, json_object **err);
/* The transport can take more: emit the next messages from the store (socket.io's pull()). */
void sio_up_pull(struct sio_up *u);
/* The client acknowledged the event whose ack id is id (a message id). */
void sio_up_ack(struct sio_up *u, int64_t id);
/* The socket left. Accepts NULL. */
void sio_up_free(struct sio_up *u);

#endif
