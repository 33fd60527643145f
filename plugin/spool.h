/*
 * Events whose stream copies may not have been routed when the broker stops. The plugin fans
 * an event out with mosquitto_broker_publish_copy(), which Mosquitto 2.0 only queues: its main
 * loop routes the queue at the top of the next iteration (src/loop.c), after the publisher's
 * PUBACK has gone out. A clean stop ends the loop without that iteration, so the copies of the
 * events of the last iteration would be lost although their publishers were told they were
 * kept. The spool holds each fanned-out event until the second tick after it (by then its
 * copies were routed); at the stop what it holds is written next to the state file, and the
 * next start fans it out again.
 */
#ifndef MQP_PLUGIN_SPOOL_H
#define MQP_PLUGIN_SPOOL_H

#include <stddef.h>

struct mqp_spool_entry;

struct mqp_spool {
    struct mqp_spool_entry *cur;  /* fanned out since the last tick */
    struct mqp_spool_entry *prev; /* fanned out before it: routed at the next iteration's top */
};

/* Keep a copy of the event on topic (payload len bytes); 0, or -1 when out of memory. */
int mqp_spool_add(struct mqp_spool *s, const char *topic, const void *payload, size_t len, int qos);
/* A tick: what was fanned out before the last tick has been routed. */
void mqp_spool_tick(struct mqp_spool *s);
void mqp_spool_clear(struct mqp_spool *s);

/* Write what s holds to path (mode 0600), or remove path when s is empty. 0 or -1. */
int mqp_spool_save(const struct mqp_spool *s, const char *path);
/*
 * Call fan(ctx, topic, payload, len, qos) for each event in path, oldest first, then remove
 * path. Returns the number of events, 0 when there is no file, -1 when it is unreadable.
 */
int mqp_spool_replay(const char *path,
                     void (*fan)(void *ctx, const char *topic, const void *payload, size_t len,
                                 int qos),
                     void *ctx);

#endif
