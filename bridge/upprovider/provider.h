/*
 * The UnifiedPush push provider (UnifiedPush SERV 1.0.1, the side that gives out endpoints):
 * a distributor, authenticated with a tenant token that has a "sub", creates endpoints under
 * /api/unifiedpush/endpoints; application servers POST messages to them under /up/<id>; each
 * message is kept in the store until the owner's distributor has received it (or it is older
 * than unifiedpush.provider.max_age_s) and is delivered by MQTT (<tenant>/~unifiedpush/<owner
 * key>/<id>, readable by the owner only, core/access.h), on the owner's SSE connections
 * (GET /api/unifiedpush/messages) and on the owner's socket.io sockets (socketio/sio_up.h,
 * woken through up_provider_set_wake()). See docs/unifiedpush.md.
 */
#ifndef BRIDGE_UPPROVIDER_PROVIDER_H
#define BRIDGE_UPPROVIDER_PROVIDER_H

#include <stddef.h>
#include "bridge.h"
#include "http/conn.h"

/* Set b->up_provider up when unifiedpush.provider is enabled (its timer starts). 0 or -1. */
int up_provider_start(struct bridge *b);
/* Close its handles on the loop (before the store closes). Accepts a bridge without one. */
void up_provider_close(struct bridge *b);
/* Free it once the HTTP server (and with it every SSE connection) is gone. */
void up_provider_free(struct bridge *b);

/* Called on the loop after a message for tenant's user owner was stored (both borrowed for the
 * call): the other channels that read the owner's messages from the store wake up. */
typedef void (*up_provider_wake_fn)(void *ud, const char *tenant, const char *owner);
/* Install the one wake hook (fn NULL removes it; ud borrowed until then). No-op when the
 * provider is not enabled. */
void up_provider_set_wake(struct bridge *b, up_provider_wake_fn fn, void *ud);

/* http/api.h routes: /api/unifiedpush/endpoints[/<id>], /api/unifiedpush/messages[/ack]
 * (the distributor's side) and /up/<id> (the application server's side). 404 when the
 * provider is not enabled. body is borrowed, len bytes, binary-safe. */
int up_provider_api(struct conn *c, const char *path, const char *body, size_t len);
int up_provider_push_api(struct conn *c, const char *path, const char *body, size_t len);

#endif
