/*
 * The polling fallback: GET /stream/v1/streams/{id}/events?after=<cursor>&top=<n> answers the
 * buffered events after a cursor as {reset, items, next} (docs/http-api.md).
 */
#ifndef BRIDGE_SSE_POLL_H
#define BRIDGE_SSE_POLL_H

#include "http/conn.h"

/* Serve one poll on c. Returns 0, or -1 when the connection must close. */
int poll_serve(struct conn *c, const char *stream_id);

#endif
