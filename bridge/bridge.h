/*
 * The mqpush-bridge daemon's shared context: one libuv loop hosting libwebsockets (HTTP,
 * WebSocket), the libmosquitto client socket and timers. Everything reachable from here is used
 * on the loop thread only.
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include <stdbool.h>
#include <uv.h>
#include "config.h"
#include "hub.h"
#include "metrics.h"
#include "stream.h"
#include "store/health.h"
#include "store/store.h"

struct mqlink;
struct http_server;
struct stream_registry;
struct curl_loop;
struct sio_stream;
struct webpush;
struct guard;
struct ssf_receiver;
struct ssf_transmitter;
struct up_provider;

struct bridge {
    uv_loop_t *loop;
    struct bridge_config *cfg;
    struct mqp_config *streams; /* core model of the streams file; replaced on reload, so
                                   never keep pointers into it across loop iterations */
    /* The broker link: publishes and the outbound pushes' subscriptions, and everything when
     * broker.share_group is unset. */
    struct mqlink *link;
    /* With broker.share_group, the plain subscriptions of SSE, WebSocket and socket.io on a
     * connection of their own ("<client_id>-fanout", a short session), so that the persistent
     * session holding the group's share queues nothing else for a bridge that died (Mosquitto's
     * max_queued_messages counts both). NULL otherwise. */
    struct mqlink *fanout;
    struct hub *hub;
    struct store *store;
    struct http_server *http;
    struct stream_registry *sessions; /* open SSE/WebSocket sessions (sse/session.c) */
    struct curl_loop *curl;           /* outgoing HTTP (net/curl_loop.c) */
    struct sio_stream *socketio;      /* socket.io delivery, NULL when disabled */
    struct webpush *webpush;          /* Web Push delivery, NULL when disabled */
    struct webpush *unifiedpush;      /* UnifiedPush delivery (same machinery), or NULL */
    struct guard *guard;              /* outbound SSRF guard (net/guard.c), from outbound.allow */
    /* the SSF push receiver (ssf/receiver.c), NULL when not configured */
    struct ssf_receiver *ssf_receiver;
    /* the SSF transmitter (ssf/transmitter.c), NULL when not configured */
    struct ssf_transmitter *ssf_transmitter;
    /* the UnifiedPush push provider (upprovider/provider.c), NULL when not enabled */
    struct up_provider *up_provider;
    struct metrics metrics;
    struct store_health store_health;
    bool stopping; /* SIGTERM seen: refuse new connections, close the others */
};

/* Milliseconds of loop time (uv_now), the clock every bridge timer uses. */
uint64_t bridge_now_ms(const struct bridge *b);

/* The broker filter through which an outbound push channel (SSF SET push, Web Push,
 * UnifiedPush) takes tenant/stream's events: "<tenant>/<stream>/#", or with broker.share_group
 * the shared subscription "$share/<group>/<tenant>/<stream>/#" so that one bridge of the group
 * delivers each event. Returns a malloc()ed string (caller frees), or NULL when out of memory. */
char *bridge_durable_filter(const struct bridge *b, const char *tenant, const char *stream);

#endif
