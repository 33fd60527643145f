/*
 * Taking over a stopped bridge's broker session. Mosquitto gives each message of a shared
 * subscription to one member of the group, offline members with a persistent session included:
 * what it gave a bridge that died waits in that bridge's session. When a bridge's beat ran out
 * (cluster.c), one surviving bridge connects with the dead bridge's client id, resumes its
 * session, takes what was queued into its own outboxes like any event, leaves the group's
 * shared subscriptions, and lets the session end (session expiry 1 s on this connection), so
 * that the broker stops giving the dead member a share.
 */
#ifndef BRIDGE_CLUSTER_DRAIN_H
#define BRIDGE_CLUSTER_DRAIN_H

#include <stdbool.h>

struct bridge;

/* Quiet time after which the session is taken to be empty, and after leaving the group. */
#define DRAIN_QUIET_MS 1500
/* A drain that does not finish in this time is given up (the session stays for the bridge of
 * that id to come back to). */
#define DRAIN_MAX_MS 120000

/* Start draining node's session unless a drain is running. 0, or -1 (logged). */
int cluster_drain_start(struct bridge *b, const char *node);
bool cluster_drain_running(void);
/* Stop a running drain at once (bridge stopping); the session stays. */
void cluster_drain_stop(struct bridge *b);

#endif
