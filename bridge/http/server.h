/*
 * The bridge's HTTP and WebSocket server: libwebsockets on the bridge's libuv loop.
 * Routes: GET /healthz, GET /metrics, GET /stream/v1/streams, GET /stream/v1/streams/{id}
 * (SSE, or WebSocket on upgrade), GET /stream/v1/streams/{id}/events (polling), the POST SSE
 * routes from bridge.json, and the demo page at /.
 */
#ifndef BRIDGE_HTTP_SERVER_H
#define BRIDGE_HTTP_SERVER_H

#include "bridge.h"

struct http_server;

/*
 * Start listening on b->cfg->listen_host:listen_port. Returns 0 and sets b->http, or -1 with a
 * log line (port taken, lws could not start).
 */
int http_server_start(struct bridge *b);

/* Stop accepting; tell every open stream to end (SSE clients are told nothing more: they
 * reconnect with Last-Event-ID to another bridge or after restart). */
void http_server_shutdown(struct http_server *srv);

/* Destroy the lws context (after the loop has run the close callbacks). Accepts NULL. */
void http_server_free(struct http_server *srv);

/* Open connections (all channels) for limits and /metrics. */
size_t http_server_connections(const struct http_server *srv);

#endif
