/*
 * UnifiedPush SERV 1.0.1 endpoint discovery: before the bridge pushes to an endpoint of the
 * SERV form it GETs the endpoint, which must answer exactly {"unifiedpush":{"version":1}}
 * (a distributor's proof that it is one). Through curl multi and the SSRF guard, never
 * following a redirect.
 */
#ifndef BRIDGE_WEBPUSH_DISCOVERY_H
#define BRIDGE_WEBPUSH_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include "bridge.h"

/* ok: the answer was the discovery document; why (borrowed for the call) says what was wrong. */
typedef void (*wp_discover_fn)(void *ud, bool ok, const char *why);

/*
 * GET url (checked by guard_check_url() already). Returns 0, and done is called exactly once
 * from the loop (also with ok false when the bridge stops), or -1 and done is not called.
 */
int wp_discover(struct bridge *b, const char *url, wp_discover_fn done, void *ud);

/* Is body (len bytes) the discovery document? Exposed for the unit test. */
bool wp_discovery_body_ok(const char *body, size_t len);

#endif
