/*
 * Inside the SSF transmitter: its state and the helpers shared by transmitter.c (keys,
 * discovery) and streams_api.c (stream management).
 */
#ifndef BRIDGE_SSF_TRANSMITTER_INT_H
#define BRIDGE_SSF_TRANSMITTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "bridge.h"

struct ssf_tx_keys;
struct ssf_delivery;
struct conn;

struct ssf_transmitter {
    struct bridge *b;
    struct ssf_tx_keys *keys;      /* owned */
    struct ssf_delivery *delivery; /* owned: SET delivery (ssf/delivery.c) */
};

/* SSF 1.0 section 8.1.1: delivery method URNs (RFC 8935 push, RFC 8936 poll). */
#define SSF_DELIVERY_PUSH "urn:ietf:rfc:8935"
#define SSF_DELIVERY_POLL "urn:ietf:rfc:8936"

/* Does "ssf.transmitter.streams" name a stream of tenant? */
bool ssf__tx_serves(const struct bridge *b, const char *tenant);

/*
 * The tenant's issuer, "<public_url>/ssf/<tenant>" (without a trailing '/' of public_url),
 * followed by suffix (may be ""; must not overlap buf), into buf; tenant NULL: public_url and
 * suffix. Returns 0, or -1 when it does not fit.
 */
int ssf__tx_url(const struct bridge *b, const char *tenant, const char *suffix, char *buf,
                size_t cap);

/*
 * The event types the tenant's transmitter streams carry: for each event of each configured
 * stream (as the streams file has it now), the configured type, else
 * "urn:mqpush:<tenant>:event:<namespace>:<name>"; no duplicates. New array (caller frees with
 * json_object_put()), or NULL when out of memory.
 */
json_object *ssf__tx_events_supported(const struct bridge *b, const char *tenant);

/* A copy of v with the members of every object in name order: one text per Subject
 * Identifier. New object (caller frees with json_object_put()). */
json_object *ssf__canonical(json_object *v);

/* POST <issuer>/poll/<stream_id> (RFC 8936, ssf/poll.c) for an authorized caller of tenant;
 * body borrowed (NULL when none). Returns 0, or -1 to close. */
int ssf__poll_api(struct conn *c, const char *tenant, const char *stream_id, json_object *body);

/* Reply with o (consumed) as JSON. Returns what http_reply() does. */
int ssf__tx_reply_json(struct conn *c, int status, json_object *o);

#endif
