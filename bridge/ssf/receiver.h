/*
 * The Shared Signals receiver (OpenID SSF 1.0 with RFC 8935 push delivery): POST
 * /ssf/receive/{tenant} takes a Security Event Token from a transmitter listed in bridge.json
 * "ssf.receiver", checks it (bridge/ssf/set.c), and publishes its event to the broker as
 * <tenant>/events/<namespace>/<event name>, so that it reaches the tenant's streams like any
 * other event. A CAEP session-revoked event also ends the Web Push subscriptions of the
 * session it names. docs/ssf.md describes the endpoint, its answers and its configuration.
 * Everything here runs on the bridge's loop thread.
 */
#ifndef BRIDGE_SSF_RECEIVER_H
#define BRIDGE_SSF_RECEIVER_H

#include <stddef.h>
#include "bridge.h"

struct conn;

/* Bring the receiver up when configured (b->ssf_receiver stays NULL otherwise): the key sets
 * of its transmitters (files read now, jwks_uri fetched in the background). Needs b->curl and
 * b->guard. Returns 0, or -1 after logging why. */
int ssf_receiver_start(struct bridge *b);

/* SIGHUP: read the key files again (a file that fails keeps the keys it had) and fetch every
 * jwks_uri again. */
void ssf_receiver_reload(struct bridge *b);

/* Stop the refresh timer (before curl_loop_close(), which aborts fetches in flight). */
void ssf_receiver_close(struct bridge *b);
/* After the loop has run the close callbacks. Accepts b->ssf_receiver NULL. */
void ssf_receiver_free(struct bridge *b);

/* Serve a request under /ssf/ whose body (may be NULL) has been read. Returns 0, or -1 to
 * close the connection. */
int ssf_receiver_api(struct conn *c, const char *path, const char *body, size_t len);

#endif
