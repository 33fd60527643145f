/*
 * The hub: the bridge's registry of live streams. Per (tenant, stream) it owns the broker
 * subscription (reference counted: held while a consumer is attached, and for the replay age
 * after the last one left or polled), a bounded buffer of recent events, and its consumers.
 *
 * Consumers do not get a queue of their own: each holds a cursor (a sequence number) into its
 * stream's buffer and is woken when an event arrives. When its connection can take data it
 * reads every pending event at once, so a burst becomes one socket write. An idle consumer
 * costs a few dozen bytes; a consumer whose backlog passes the byte limit and has not caught up
 * for a second, or whose cursor falls out of the buffer (bounded in bytes), is dropped as slow.
 *
 * Everything runs on the bridge's loop thread.
 */
#ifndef BRIDGE_HUB_H
#define BRIDGE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <uv.h>

/* Length of an event id (a UUID in its 36-character text form). */
#define HUB_ID_LEN 36

/*
 * One stream event as received from the broker. Owned by its stream's buffer; consumers
 * borrow it between hub_consumer_peek() and the next return to the loop.
 */
struct hub_event {
    uint64_t seq; /* position in its stream, from 1 */
    char id[HUB_ID_LEN + 1];
    char *ns_name; /* "<namespace>:<name>" from the topic */
    char *json;    /* the stream event JSON on one line, NUL-terminated */
    size_t json_len;
    char *sse; /* "id: <id>\ndata: <json>\n\n" */
    size_t sse_len;
    uint64_t end_bytes;   /* the stream's running total of sse_len up to and including this */
    uint64_t received_ms; /* loop time of arrival */
    json_object *parsed;  /* the body, parsed (for per-connection criteria) */
};

struct hub;
struct hub_consumer;

struct hub_consumer_ops {
    /* Events are waiting: arrange to call hub_consumer_peek() when the connection is writable.
     * Called once until the consumer has read everything (see hub_consumer_peek()). */
    void (*wake)(void *owner);
    /* The hub removed the consumer (reason: "slow", "stream-removed"). The consumer is already
     * freed: the owner must forget its pointer and end its connection. */
    void (*on_drop)(void *owner, const char *reason);
};

/* What became of a resume cursor; see the SSE "mqpush:reset" frame. */
enum hub_resume {
    HUB_RESUME_NONE = 0, /* no cursor given */
    HUB_RESUME_OK,       /* the events after it are pending for the consumer */
    HUB_RESUME_INVALID,  /* not an event id */
    HUB_RESUME_EXPIRED,  /* older than what the buffer still holds */
    HUB_RESUME_UNKNOWN,  /* recent, but never seen on this stream */
};

/* "invalid", "expired", "unknown", or NULL for NONE and OK. */
const char *hub_resume_reason(enum hub_resume r);

/* How the hub reaches the broker link, so that it does not depend on it. */
struct hub_link_ops {
    void (*subscribe)(void *link, const char *filter);
    void (*unsubscribe)(void *link, const char *filter);
};

struct hub_params {
    size_t replay_max_events;  /* events a reconnecting client can get back */
    unsigned replay_max_age_s; /* and how old they may be */
    size_t send_queue_bytes;   /* a consumer's backlog limit */
};

/* Returns 0 and *out (free with hub_free()), or -1 when out of memory. */
int hub_new(uv_loop_t *loop, const struct hub_params *p, const struct hub_link_ops *link_ops,
            void *link, struct hub **out);
/* Drops every consumer without calling on_drop; closes the timer. Accepts NULL. */
void hub_free(struct hub *hub);
/* New limits (after a reload). Buffers shrink lazily. */
void hub_set_params(struct hub *hub, const struct hub_params *p);

/*
 * Attach a consumer to tenant/stream. cursor (may be NULL) is an event id: when the buffer
 * holds it, the events after it become pending first, and *replay tells how many; on one loop
 * thread nothing can come between them and the live tail, so nothing is lost or doubled.
 * Returns 0 and *out (detach with hub_detach()), or -1 when out of memory.
 */
int hub_attach(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
               const struct hub_consumer_ops *ops, void *owner, struct hub_consumer **out,
               enum hub_resume *resume, size_t *replay);
/* Accepts NULL. */
void hub_detach(struct hub_consumer *c);

/*
 * The next pending event of c (borrowed), or NULL when it has read everything; after NULL the
 * consumer is woken again by the next event. Call hub_consumer_advance() once it is sent.
 */
const struct hub_event *hub_consumer_peek(struct hub_consumer *c);
void hub_consumer_advance(struct hub_consumer *c);
/* Has the broker confirmed the subscription of c's stream (SUBACK)? Until then an event
 * published now might not reach the bridge, so a client must not be told it is live. */
bool hub_consumer_live(const struct hub_consumer *c);

/* Bytes of SSE frames pending for c, for /metrics. */
uint64_t hub_consumer_backlog(const struct hub_consumer *c);
/* The newest event id of c's stream, or NULL when none is buffered (borrowed). */
const char *hub_consumer_head_id(const struct hub_consumer *c);

/*
 * Polling: visit the buffered events after cursor (from the oldest when cursor is NULL or
 * cannot be honoured), oldest first, until visit returns false. Keeps the stream's broker
 * subscription for the replay age. Returns 0, or -1 when out of memory.
 */
int hub_poll(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
             bool (*visit)(void *ctx, const struct hub_event *ev), void *ctx,
             enum hub_resume *resume);

/* A message from the broker on <tenant>/<stream>/<ns>:<name>. Ignores bodies that are not
 * stream events and duplicates of buffered events (QoS 1 redelivery). Returns 0, or 1 when the
 * hub holds no such stream (so that the caller can drop a stale subscription). */
int hub_on_message(struct hub *hub, const char *topic, const void *payload, size_t len);

/* The broker granted the subscription filter ("<tenant>/<stream>/#"): its stream is live; its
 * consumers are woken so that they can say so. */
void hub_on_subscribed(struct hub *hub, const char *filter);

/* Drop the consumers of every stream for which keep() returns false ("stream-removed"). */
void hub_prune(struct hub *hub, bool (*keep)(void *ctx, const char *tenant, const char *stream),
               void *ctx);

/* Counters for /metrics. */
size_t hub_stream_count(const struct hub *hub);
size_t hub_consumer_count(const struct hub *hub);
uint64_t hub_backlog_bytes(const struct hub *hub);
uint64_t hub_events_in(const struct hub *hub);
uint64_t hub_slow_dropped(const struct hub *hub);

#endif
