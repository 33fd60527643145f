/*
 * SET delivery of the SSF transmitter: the events of the configured streams become SETs
 * (ssf/set_make.h) for every SSF stream of their tenant that asked for their type, kept in the
 * store's outbox until delivered by push (RFC 8935, ssf/push.c) or acknowledged by poll
 * (RFC 8936, ssf/poll.c). Loop thread only. docs/ssf.md describes the behaviour.
 */
#ifndef BRIDGE_SSF_DELIVERY_H
#define BRIDGE_SSF_DELIVERY_H

#include <stddef.h>
#include <stdint.h>
#include "bridge.h"

/* Load the outbox and subscribe the configured streams at the broker; called by
 * ssf_transmitter_start(). Returns 0, or -1 after logging why. */
int ssf_delivery_start(struct bridge *b);
/* Several bridges on one store: take over the pending SETs of bridges that stopped beating
 * (store.h ssf_out_adopt) and deliver them. 0, or -1 when the store failed. */
int ssf_delivery_adopt(struct bridge *b);
/* Close the timers (the loop then runs their callbacks); pending SETs stay in the outbox. */
void ssf_delivery_close(struct bridge *b);
/* Free what is left once the loop has run; called by ssf_transmitter_free(). */
void ssf_delivery_free(struct bridge *b);

/*
 * A stream event from the broker (topic "<tenant>/<stream>/<ns>:<name>", payload borrowed).
 * Its SETs are in the outbox when this returns (the broker's QoS 1 acknowledgement follows).
 * Returns 0 when the topic is a stream the transmitter carries, 1 when it is not, -1 when its
 * SETs could not be written to the store (leave the event unacknowledged). An event that cannot
 * be made into SETs is logged and counts as carried: a second delivery would fare no better.
 */
int ssf_delivery_on_message(struct bridge *b, const char *topic, const void *payload, size_t len);

/* The stream's status, configuration or existence changed (stream management API): release
 * held SETs, drop those of a disabled or deleted stream. */
void ssf_delivery_stream_changed(struct bridge *b, const char *tenant, const char *stream_id);

/* SSF 1.0 section 8.1.4: queue the verification SET answering a request (state may be NULL).
 * Returns 0, or -1 when it could not be stored. */
int ssf_delivery_verify(struct bridge *b, const char *tenant, const char *stream_id,
                        const char *state);

/* SETs waiting in the outbox (gauge). */
uint64_t ssf_delivery_pending(const struct bridge *b);

/* Per-stream error counts as Prometheus text (caller frees with free()), "" when none; NULL
 * when out of memory. */
char *ssf_delivery_metrics_text(const struct bridge *b, size_t *len);

#endif
