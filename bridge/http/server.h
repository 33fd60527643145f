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

/* Refuse new requests (503) and end every open stream: SSE responses end, WebSockets get
 * close code 1001. Clients reconnect with their last event id. */
void http_server_shutdown(struct http_server *srv);

/* Begin the lws takedown: closes every connection and lws's loop handles. */
void http_server_close(struct http_server *srv);

/* Finish the takedown (once the loop has run) and free srv. Accepts NULL. */
void http_server_free(struct http_server *srv);

#endif
