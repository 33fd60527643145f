/*
 * Prometheus text exposition (format 0.0.4): HELP and TYPE lines, then samples.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const channel_names[METRICS_CH_COUNT] = {"sse", "ws", "poll", "socketio"};
static const char *const result_names[METRICS_RES_COUNT] = {"ok", "dropped", "filtered"};
static const char *const push_names[METRICS_PUSH_COUNT] = {"webpush", "unifiedpush", "set"};
static const char *const push_results[METRICS_PUSH_RES_COUNT] = {
    "delivered", "retried", "expired", "gone", "rejected", "refused", "dropped"};

const char *metrics_channel_name(enum metrics_channel ch)
{
    return ch < METRICS_CH_COUNT ? channel_names[ch] : "unknown";
}

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t ncap = (b->cap + (size_t)n) * 2;
            char *np = realloc(b->p, ncap);

            if (np == NULL) {
                b->failed = 1;
                return;
            }
            b->p = np;
            b->cap = ncap;
        }
    }
}

static void scalar(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v);
}

char *metrics_render(const struct metrics *m, const struct metrics_extra *x, size_t *len)
{
    struct buf b = {malloc(4096), 0, 4096, 0};
    int ch, r;

    if (b.p == NULL)
        return NULL;
    scalar(&b, "mqpush_bridge_events_in_total", "counter",
           "Stream events received from the broker.", x->events_in);
    put(&b, "# HELP mqpush_bridge_connections Open client streams per channel.\n"
            "# TYPE mqpush_bridge_connections gauge\n");
    for (ch = 0; ch < METRICS_CH_COUNT; ch++)
        put(&b, "mqpush_bridge_connections{channel=\"%s\"} %" PRIu64 "\n", channel_names[ch],
            m->connections[ch]);
    put(&b, "# HELP mqpush_bridge_deliveries_total Events handed to clients, per channel and "
            "result.\n# TYPE mqpush_bridge_deliveries_total counter\n");
    for (ch = 0; ch < METRICS_CH_COUNT; ch++)
        for (r = 0; r < METRICS_RES_COUNT; r++)
            put(&b, "mqpush_bridge_deliveries_total{channel=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                channel_names[ch], result_names[r], m->deliveries[ch][r]);
    scalar(&b, "mqpush_bridge_slow_clients_dropped_total", "counter",
           "Clients disconnected because their backlog passed the limit.", x->slow_clients_dropped);
    scalar(&b, "mqpush_bridge_queue_bytes", "gauge",
           "Bytes of events waiting to be written to clients.", x->queue_bytes);
    scalar(&b, "mqpush_bridge_streams", "gauge", "Streams held in the hub.", x->streams);
    scalar(&b, "mqpush_bridge_consumers", "gauge", "Clients attached to streams.", x->consumers);
    scalar(&b, "mqpush_bridge_http_requests_total", "counter", "HTTP requests received.",
           m->http_requests);
    scalar(&b, "mqpush_bridge_http_errors_total", "counter", "HTTP requests answered 4xx/5xx.",
           m->http_errors);
    scalar(&b, "mqpush_bridge_broker_connects_total", "counter",
           "Successful connections to the broker.", x->broker_connects);
    scalar(&b, "mqpush_bridge_broker_up", "gauge", "1 while the broker link is up.",
           (uint64_t)(x->broker_up != 0));
    scalar(&b, "mqpush_bridge_store_up", "gauge",
           "1 while the store takes writes (0: events are left unacknowledged at the broker).",
           (uint64_t)(x->store_up != 0));
    scalar(&b, "mqpush_bridge_store_failures_total", "counter",
           "Times the store stopped taking writes.", x->store_failures);
    put(&b, "# HELP mqpush_bridge_push_total Outbound push attempts, per channel and outcome.\n"
            "# TYPE mqpush_bridge_push_total counter\n");
    for (ch = 0; ch < METRICS_PUSH_COUNT; ch++)
        for (r = 0; r < METRICS_PUSH_RES_COUNT; r++)
            put(&b, "mqpush_bridge_push_total{channel=\"%s\",result=\"%s\"} %" PRIu64 "\n",
                push_names[ch], push_results[r], m->push[ch][r]);
    put(&b, "# HELP mqpush_bridge_push_subscriptions Push subscriptions held.\n"
            "# TYPE mqpush_bridge_push_subscriptions gauge\n");
    for (ch = 0; ch < METRICS_PUSH_COUNT; ch++)
        put(&b, "mqpush_bridge_push_subscriptions{channel=\"%s\"} %" PRIu64 "\n", push_names[ch],
            x->push_subscriptions[ch]);
    put(&b, "# HELP mqpush_bridge_push_pending Messages in the outbox, not yet accepted.\n"
            "# TYPE mqpush_bridge_push_pending gauge\n");
    for (ch = 0; ch < METRICS_PUSH_COUNT; ch++)
        put(&b, "mqpush_bridge_push_pending{channel=\"%s\"} %" PRIu64 "\n", push_names[ch],
            x->push_pending[ch]);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
