/*
 * Counters and gauges of the bridge, rendered in the Prometheus text exposition format
 * (version 0.0.4) for GET /metrics. Loop-thread only: plain integers, no atomics.
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_channel {
    METRICS_CH_SSE = 0,
    METRICS_CH_WS,
    METRICS_CH_POLL,
    METRICS_CH_SOCKETIO,
    METRICS_CH_COUNT
};

enum metrics_result {
    METRICS_RES_OK = 0,
    METRICS_RES_DROPPED,  /* the consumer was removed as slow before it got the event */
    METRICS_RES_FILTERED, /* per-connection criteria did not match */
    METRICS_RES_COUNT
};

/* Outbound pushes (durable channels), per channel and outcome. */
enum metrics_push_channel {
    METRICS_PUSH_WEBPUSH = 0,
    METRICS_PUSH_UNIFIEDPUSH,
    METRICS_PUSH_SET, /* SETs of the SSF transmitter (RFC 8935 push, RFC 8936 poll) */
    METRICS_PUSH_COUNT
};

enum metrics_push_result {
    METRICS_PUSH_DELIVERED = 0, /* 2xx */
    METRICS_PUSH_RETRIED,       /* network error, 5xx, 429: tried again later */
    METRICS_PUSH_EXPIRED,       /* its TTL ran out before it was accepted */
    METRICS_PUSH_GONE,          /* 404/410: the subscription was dropped */
    METRICS_PUSH_REJECTED,      /* other 4xx (400, 401, 403, 413): dropped, logged */
    METRICS_PUSH_REFUSED,       /* the SSRF guard refused the address */
    METRICS_PUSH_DROPPED,       /* not queued: the channel's backlog was full */
    METRICS_PUSH_RES_COUNT
};

struct metrics {
    uint64_t connections[METRICS_CH_COUNT]; /* gauge: open streams per channel */
    uint64_t deliveries[METRICS_CH_COUNT][METRICS_RES_COUNT];
    uint64_t http_requests;
    uint64_t http_errors; /* 4xx/5xx answered */
    uint64_t push[METRICS_PUSH_COUNT][METRICS_PUSH_RES_COUNT];
};

/* Gauges and counters owned by other modules, read when rendering. */
struct metrics_extra {
    uint64_t events_in;
    uint64_t slow_clients_dropped;
    uint64_t queue_bytes;
    uint64_t streams;
    uint64_t consumers;
    uint64_t broker_connects;
    int broker_up;
    int store_up;
    uint64_t store_failures;
    uint64_t push_subscriptions[METRICS_PUSH_COUNT]; /* gauges */
    uint64_t push_pending[METRICS_PUSH_COUNT];       /* messages in the outbox */
};

const char *metrics_channel_name(enum metrics_channel ch);

/*
 * Render m and x as Prometheus text. Returns a NUL-terminated buffer (caller frees with
 * free()) and its length in *len, or NULL when out of memory.
 */
char *metrics_render(const struct metrics *m, const struct metrics_extra *x, size_t *len);

#endif
