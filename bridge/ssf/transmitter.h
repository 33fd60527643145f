/*
 * The Shared Signals transmitter (OpenID SSF 1.0): the bridge offers the events of configured
 * streams ("ssf.transmitter") to SSF receivers as Security Event Tokens. This part serves its
 * signing keys (GET /jwks.json), its per-tenant Transmitter Configuration Metadata (GET
 * /.well-known/ssf-configuration/ssf/{tenant}, section 7) and the stream management API
 * (section 8) under /ssf/{tenant}/streams; ssf/delivery.h delivers the SETs.
 * docs/ssf.md describes the endpoints and the configuration. Loop thread only.
 */
#ifndef BRIDGE_SSF_TRANSMITTER_H
#define BRIDGE_SSF_TRANSMITTER_H

#include <stddef.h>
#include "bridge.h"

struct conn;

/* Bring the transmitter up when configured (b->ssf_transmitter stays NULL otherwise): load
 * its keys from b->store, making one on first start. Returns 0, or -1 after logging why. */
int ssf_transmitter_start(struct bridge *b);
/* Accepts b->ssf_transmitter NULL. */
void ssf_transmitter_free(struct bridge *b);

/* JSON API handlers (http/api.h): GET /jwks.json; GET /.well-known/ssf-configuration/... and
 * the legacy /.well-known/sse-configuration/...; POST /api/ssf/keys/rotate; /ssf/{tenant}/...
 * (the stream management API, bridge/ssf/streams_api.c). Return 0, or -1 to close. */
int ssf_transmitter_jwks_api(struct conn *c, const char *path, const char *body, size_t len);
int ssf_transmitter_wellknown_api(struct conn *c, const char *path, const char *body, size_t len);
int ssf_transmitter_admin_api(struct conn *c, const char *path, const char *body, size_t len);
int ssf_streams_api(struct conn *c, const char *path, const char *body, size_t len);

#endif
