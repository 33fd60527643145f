/*
 * The bridge's plain GET endpoints: /healthz, /metrics, /stream/v1/streams and the demo page.
 */
#ifndef BRIDGE_HTTP_ROUTES_H
#define BRIDGE_HTTP_ROUTES_H

#include <stdbool.h>
#include "conn.h"

/* Is path one of ours (for 405 rather than 404)? */
bool routes_known(const char *path);

/* Serve GET path on c (404 when it is none of ours). Returns 0, or -1 to close. */
int routes_serve(struct conn *c, const char *path);

#endif
