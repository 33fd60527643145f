/*
 * Fan-out of a domain event to the streams that carry it: parse once, match each stream's
 * criteria, apply its map, stamp id/namespace/name/timestamp (schemas/stream-event.schema.json)
 * and hand each copy to the caller with its stream topic.
 */
#ifndef MQP_EVENT_H
#define MQP_EVENT_H

#include <stddef.h>
#include "stream.h"

/* The event id: a UUIDv7 string (RFC 9562 section 5.7), time-ordered, 36 chars + NUL. */
#define MQP_EVENT_ID_LEN 36
/* Deepest nesting of arrays/objects accepted in an event. */
#define MQP_EVENT_MAX_DEPTH 64

/*
 * Fill buf (at least MQP_EVENT_ID_LEN + 1 bytes) with a new id, lowercase hex with dashes;
 * ids from one process are strictly increasing, also in lexical order and across threads.
 * Returns 0, or -1 when no random bytes could be had. Thread-safe.
 */
int mqp_event_id_new(char *buf);

enum mqp_event_status {
    MQP_EVENT_OK = 0,
    MQP_EVENT_NOT_EVENT_TOPIC, /* topic is not <tenant>/events/<ns>/<name> */
    MQP_EVENT_UNKNOWN_TENANT,
    MQP_EVENT_TOO_LARGE,   /* over cfg->limits.max_event_bytes */
    MQP_EVENT_NOT_JSON,    /* not JSON (RFC 8259: UTF-8, no NaN/Infinity, nothing after
                              the value), or nested deeper than MQP_EVENT_MAX_DEPTH */
    MQP_EVENT_NOT_OBJECT,  /* JSON, but not an object */
    MQP_EVENT_BAD_FIELD,   /* timestamp/correlationId not a string, context not an object */
    MQP_EVENT_NO_MEMORY,   /* out of memory, or of random bytes for the id */
    MQP_EVENT_EMIT_FAILED, /* the emit callback returned non-zero */
};
/* A short static description, e.g. "event is not JSON". */
const char *mqp_event_status_str(enum mqp_event_status st);

/*
 * Called once per stream copy, in configuration order. topic and body are borrowed for the
 * duration of the call (body is JSON text of body_len bytes, NUL-terminated). Return 0 to go on.
 */
typedef int (*mqp_emit_fn)(void *ctx, const struct mqp_stream *stream, const char *topic,
                           const char *body, size_t body_len);

/*
 * Fan out payload (len bytes) published on topic; emit must not be NULL. Checks run in this
 * order: topic, tenant, size, route; when no stream carries (namespace, name) the payload is
 * not parsed at all and MQP_EVENT_OK comes back with *n_emitted 0. Otherwise the payload is
 * parsed and checked, and each stream of the route gets at most one copy: from the first of
 * its events[] entries for (namespace, name) whose criteria match. Copies carry the members of
 * the event (or its map projection) after "id", "namespace", "name" and "timestamp" (the
 * event's own timestamp string, else the current UTC time as YYYY-MM-DDTHH:MM:SS.mmmZ); these
 * four replace same-named members. All copies of one event carry the same id.
 * On MQP_EVENT_EMIT_FAILED or MQP_EVENT_NO_MEMORY, copies emitted before the failure stay
 * emitted. n_emitted (may be NULL) receives the number of successful emit calls.
 */
enum mqp_event_status mqp_event_fanout(const struct mqp_config *cfg, const char *topic,
                                       const void *payload, size_t len, mqp_emit_fn emit, void *ctx,
                                       size_t *n_emitted);

/*
 * True when o holds a number that is not JSON (NaN, Infinity: json-c accepts them even in
 * strict mode). Every parser of outside JSON refuses such documents.
 */
bool mqp_json_has_non_json_number(json_object *o);

#endif
