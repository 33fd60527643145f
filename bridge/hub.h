/*
 * The hub: the bridge's registry of live streams. It owns, per (tenant, stream), the broker
 * subscription (reference counted: subscribed while someone needs it, kept for the replay age
 * after the last one leaves), a bounded replay buffer, and the list of consumers (SSE, WebSocket,
 * socket.io connections). Everything runs on the bridge's event loop thread.
 */
#ifndef BRIDGE_HUB_H
#define BRIDGE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "stream.h" /* core */

/*
 * One stream event as received from the broker, shared by every consumer by reference count.
 * Immutable after creation; renderings for each wire format are made once, lazily, and cached.
 */
struct hub_event {
    unsigned refs;
    char id[40];          /* the event id (UUIDv7) from the body */
    char *ns_name;        /* "<namespace>:<name>" from the topic */
    char *json;           /* the stream event JSON, NUL-terminated */
    size_t json_len;
    json_object *parsed;  /* parsed lazily for per-connection criteria; may be NULL */
    uint64_t received_ms; /* loop time when it arrived */
    char *sse;            /* "id: ...\ndata: ...\n\n", built by hub_event_sse() */
    size_t sse_len;
};

struct hub_event *hub_event_ref(struct hub_event *ev);
void hub_event_unref(struct hub_event *ev);
/* The SSE frame of ev (cached). Returns NULL when out of memory. */
const char *hub_event_sse(struct hub_event *ev, size_t *len);
/* The parsed body (cached); NULL when the body is not JSON. */
json_object *hub_event_json(struct hub_event *ev);

struct hub;
struct hub_consumer;

/*
 * A consumer is told of each live event; it takes its own reference when it keeps ev.
 * Returns 0, or -1 when its queue is full: the hub then calls on_drop.
 */
struct hub_consumer_ops {
    int (*deliver)(void *owner, struct hub_event *ev);
    /* The consumer was removed by the hub (queue full, stream gone on reload). */
    void (*on_drop)(void *owner, const char *reason);
};

/* Why a resume could not be honoured; see the SSE "mqpush:reset" frame. */
enum hub_resume {
    HUB_RESUME_NONE = 0,     /* no cursor given */
    HUB_RESUME_OK,           /* cursor found: the events after it were replayed */
    HUB_RESUME_INVALID,      /* not an event id */
    HUB_RESUME_EXPIRED,      /* older than anything the buffer still holds */
    HUB_RESUME_UNKNOWN,      /* well-formed and recent, but never seen on this stream */
};

/* Subscribe function of the broker link, so the hub does not depend on it directly. */
struct hub_link_ops {
    void (*subscribe)(void *link, const char *filter);
    void (*unsubscribe)(void *link, const char *filter);
};

int hub_new(uv_loop_t *loop, const struct hub_link_ops *link_ops, void *link,
            size_t replay_max_events, unsigned replay_max_age_s, struct hub **out);
void hub_free(struct hub *hub);

/*
 * Attach a consumer to tenant/stream. When cursor is not NULL, the events after it are first
 * passed to ops->deliver (synchronously, in order), then the consumer joins the live tail: on
 * one loop thread nothing can slip between the two, so nothing is lost or doubled. *resume says
 * what happened to the cursor, *replayed how many events were replayed.
 * Returns 0 and *out (detach with hub_detach()), or -1 when out of memory.
 */
int hub_attach(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
               const struct hub_consumer_ops *ops, void *owner, struct hub_consumer **out,
               enum hub_resume *resume, size_t *replayed);
void hub_detach(struct hub_consumer *c);

/*
 * Events after cursor for the polling API: up to top events into items (each referenced;
 * caller unrefs). Returns the count; *resume as for hub_attach. Does not attach anything but
 * keeps the stream's broker subscription alive for the replay age.
 */
size_t hub_poll(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
                struct hub_event **items, size_t top, enum hub_resume *resume);

/* A message from the broker on <tenant>/<stream>/<ns>:<name>. Ignores other topics. */
void hub_on_message(struct hub *hub, const char *topic, const void *payload, size_t len);

/* Broker link came back: re-subscribe everything that is referenced. */
void hub_resubscribe(struct hub *hub);

/* Counters for /metrics. */
size_t hub_stream_count(const struct hub *hub);
size_t hub_consumer_count(const struct hub *hub);

#endif
