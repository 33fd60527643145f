/*
 * The bridge among others on one store. Every CLUSTER_BEAT_MS the bridge writes its beat (named
 * by broker.client_id; alive for CLUSTER_ALIVE_MS), which doubles as the store's health probe,
 * and takes over the pending deliveries (Web Push, UnifiedPush, SSF SETs) of bridges whose beat
 * ran out, and (with broker.share_group) the broker session that bridge left (cluster_drain.h).
 * Alone on its store the same runs: it adopts what a bridge of another name, or a store from
 * before outboxes had owners, left behind.
 */
#ifndef BRIDGE_CLUSTER_H
#define BRIDGE_CLUSTER_H

#include <uv.h>

struct bridge;

/* A dead bridge's share of the group queues in its broker session until its beat runs out and
 * another drains it: the shorter, the less Mosquitto's max_queued_messages must hold. */
#define CLUSTER_BEAT_MS 1000
#define CLUSTER_ALIVE_MS 5000

/* Beat and adopt once now, then every CLUSTER_BEAT_MS; the channels must have started, and the
 * store been named (store_set_node()) before they read it. 0, or -1 when the timer cannot be
 * made. */
int cluster_start(struct bridge *b);
/* Close the timer (on the loop). */
void cluster_close(struct bridge *b);

#endif
