/*
 * Subscriber criteria: which events of a stream each subscriber receives, decided by the claims
 * of its own token. In the streams file a stream may say
 *
 *   "subscriberCriteria": {"payload.userId": {"claim": "sub"},
 *                          "payload.tenantId": {"claim": "org.id"}}
 *
 * that is, event path -> {"claim": claim path}: a subscriber receives an event only when, for
 * every entry, the event path exists in the stream event, the claim path exists in the verified
 * claims, and both hold equal values (mqp_json_equal()). Both paths use the syntax of
 * jsonpath.h; event paths apply to the stream event as delivered (after the map projection,
 * with id/namespace/name/timestamp stamped).
 *
 * Every channel that delivers stream events (MQTT through the plugin's ACL check, the bridge's
 * SSE, WebSocket, polling and socket.io) calls mqp_stream_subscriber_match() for each event and
 * subscriber, so they all decide alike.
 */
#ifndef MQP_SUBSCRIBER_H
#define MQP_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "stream.h"
#include "token.h"

struct mqp_subscriber_criteria; /* opaque, immutable */

/* Most event paths accepted in one subscriberCriteria object. */
#define MQP_SUBSCRIBER_MAX_ENTRIES 32

/*
 * Compile a subscriberCriteria object (at least one entry). Returns 0 and *out (caller frees
 * with mqp_subscriber_criteria_free()), or -1 with a message in err (err may be NULL) and in
 * *where the event path the message is about (borrowed from spec), or NULL when it is about
 * spec as a whole. where may be NULL.
 */
int mqp_subscriber_criteria_compile(json_object *spec, struct mqp_subscriber_criteria **out,
                                    const char **where, char *err, size_t errlen);
void mqp_subscriber_criteria_free(struct mqp_subscriber_criteria *c);

/*
 * May the holder of id receive event (a stream event of s, borrowed) on stream s?
 * - s has no subscriber criteria: true.
 * - id NULL (anonymous reader of a public stream): false.
 * - a service identity: true; it relays to others and must apply this check per subscriber.
 * - otherwise every entry must match as described above; a claim that is absent or JSON null
 *   never matches (a token without the claim must not see events whose field is null).
 * s NULL (a stream removed by a reload) is false. Reads only; safe from any thread as long as
 * s and id stay alive.
 */
bool mqp_stream_subscriber_match(const struct mqp_stream *s, const struct mqp_identity *id,
                                 json_object *event);

/*
 * For MQTT deliveries: the stream whose subscriber criteria apply to a message on topic (a
 * concrete "<tenant>/<stream>/..." topic), borrowed from cfg, or NULL when none apply (cfg has
 * no subscriber criteria at all, topic names no stream, or the stream has none). Costs one flag
 * test when no stream of cfg has subscriber criteria.
 */
const struct mqp_stream *mqp_subscriber_stream(const struct mqp_config *cfg, const char *topic);

/*
 * Parse a stream event body of len bytes as delivered on MQTT (strict JSON, UTF-8, nested at
 * most MQP_EVENT_MAX_DEPTH deep). Returns the object (caller frees with json_object_put()), or
 * NULL when body is not a JSON object; such a body matches no subscriber criteria.
 */
json_object *mqp_subscriber_parse_event(const void *body, size_t len);

#endif
