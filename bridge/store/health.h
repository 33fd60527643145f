/*
 * Is the store taking writes? The bridge learns it from its own writes: an outbox that could not
 * take an event, and the beat that cluster.c writes every few seconds, which also notices a store
 * that failed while idle and one that works again (disk space freed, file writable). The state
 * shows on /healthz and /metrics and in the log, once per change.
 */
#ifndef BRIDGE_STORE_HEALTH_H
#define BRIDGE_STORE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

struct bridge;

struct store_health {
    bool failing;
    uint64_t failures; /* changes from working to failing, for /metrics */
    char why[160];     /* the latest failure, while failing */
};

/* A write to the store failed (why: what could not be written); logged when this changes the
 * state. */
void store_health_failed(struct bridge *b, const char *why);
/* A write to the store succeeded. */
void store_health_ok(struct bridge *b);

#endif
