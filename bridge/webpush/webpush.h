/*
 * The Web Push channel (RFC 8030, RFC 8291, RFC 8292): subscriptions made through the API are
 * kept in the store, bound to the token session that made them; events of the streams listed
 * in bridge.json "webpush.streams" are written to the store's outbox for every subscription
 * whose identity may read them, then encrypted on libuv's thread pool and sent through curl
 * multi. Everything here runs on the bridge's loop thread except the encryption.
 */
#ifndef BRIDGE_WEBPUSH_WEBPUSH_H
#define BRIDGE_WEBPUSH_WEBPUSH_H

#include <stdbool.h>
#include <stddef.h>
#include "bridge.h"

struct conn;

/* Bring the channel up when configured (b->webpush stays NULL otherwise): the VAPID key, the
 * subscriptions and the pending messages from the store, the broker subscriptions of its
 * streams. Returns 0, or -1 after logging why. */
int webpush_start(struct bridge *b);

/* A message from the broker. Returns 0 when it belonged to a Web Push or UnifiedPush stream and
 * is in the outbox, 1 when it belonged to neither, -1 when the outbox could not take it (leave
 * it unacknowledged: the broker delivers it again). */
int webpush_on_message(struct bridge *b, const char *topic, const void *payload, size_t len);

/* Several bridges on one store: take over the pending messages of bridges that stopped beating
 * (store.h msg_adopt) and send them. 0, or -1 when the store failed. */
int webpush_adopt(struct bridge *b);

/* Stop sending (before curl_loop_close(): transfers aborted then are kept for a restart). */
void webpush_close(struct bridge *b);
/* Work of the channels still on the thread pool or in curl (their callbacks are to come). */
bool webpush_busy(const struct bridge *b);
/* After the loop has ended. Accepts b->webpush NULL. */
void webpush_free(struct bridge *b);

/* Serve an /api/push/ (or /api/unifiedpush/) request whose body (may be NULL) has been read.
 * Returns 0, or -1 to close the connection. */
int webpush_api(struct conn *c, const char *path, const char *body, size_t len);
int unifiedpush_api(struct conn *c, const char *path, const char *body, size_t len);

/* The current VAPID public key (base64url, borrowed until the next rotation), or NULL when
 * Web Push is off or stream (tenant/stream) is not one of its streams. */
const char *webpush_key_for(const struct bridge *b, const char *tenant, const char *stream);

/* Tell the connected clients of Web Push streams the current key (SSE and socket.io event
 * mqpush:vapid-key), after a rotation. */
void webpush_announce_key(struct bridge *b);

/* A token session ended (logout, CAEP session-revoked): abandon its subscriptions. session
 * is the token's sid, else its jti. user or session NULL: any (not both): a session revoked
 * without naming its user, or every session of a user. Returns how many were dropped, or -1. */
int webpush_session_ended(struct bridge *b, const char *tenant, const char *user,
                          const char *session);

/* Prometheus lines of the requests each push service refused (4xx), for /metrics: at most
 * the 100 origins with the most. Returns text (caller frees) of *len bytes, or NULL. */
char *webpush_metrics_text(const struct bridge *b, size_t *len);

/* Gauges for /metrics, per push channel: subscriptions held and messages pending. */
void webpush_gauges(const struct bridge *b, uint64_t subscriptions[METRICS_PUSH_COUNT],
                    uint64_t pending[METRICS_PUSH_COUNT]);

#endif
