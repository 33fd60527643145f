/*
 * The mqpush topic space:
 *   <tenant>/events/<namespace>/<name>       publishers write domain events here
 *   <tenant>/<stream>/<namespace>:<name>     the plugin writes stream events here
 *   <tenant>/~unifiedpush/<owner>/<endpoint> the bridge writes UnifiedPush messages here for
 *                                            the one user whose owner key is <owner>
 * Parsing works on views into the topic string; nothing is allocated.
 */
#ifndef MQP_TOPIC_H
#define MQP_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define MQP_EVENTS_LEVEL "events"
/* Cannot be a stream id (those are [A-Za-z0-9._-]), so it never shadows a stream. */
#define MQP_UNIFIEDPUSH_LEVEL "~unifiedpush"

/* A level of a topic or filter: pointer into the original string and its length. */
struct mqp_level {
    const char *s;
    size_t len;
};

/* Up to the first three levels of a topic; n counts every level, rest is all after level 2. */
struct mqp_topic_view {
    struct mqp_level level[3];
    size_t n;         /* total number of levels */
    const char *rest; /* text after the second '/', NULL when n < 3 */
};

/* Split topic (or filter) into a view. Never fails; "" has one empty level. */
void mqp_topic_split(const char *topic, struct mqp_topic_view *v);

/*
 * Parse "<tenant>/events/<namespace>/<name>" (exactly four levels, none empty, no wildcard).
 * Returns true and fills tenant/ns/name on a match.
 */
bool mqp_topic_parse_event(const char *topic, struct mqp_level *tenant, struct mqp_level *ns,
                           struct mqp_level *name);

/*
 * Write "<tenant>/<stream>/<namespace>:<name>" into buf (cap bytes, NUL-terminated).
 * Returns the length written, or 0 when it does not fit.
 */
size_t mqp_topic_stream(char *buf, size_t cap, const char *tenant, const char *stream,
                        const char *ns, const char *name);

/*
 * The inverse: split a stream topic "<tenant>/<stream>/<namespace>:<name>" into its parts,
 * each copied NUL-terminated into a buffer of MQP_ID_MAX + 1 bytes. Returns 0, or -1 when topic
 * has another shape or a part is longer than MQP_ID_MAX.
 */
int mqp_topic_parse_stream(const char *topic, char *tenant, char *stream, char *ns, char *name);

/*
 * For a subscription filter: skip a leading "$share/<group>/" (MQTT v5 section 4.8.2).
 * Returns a pointer into filter; NULL when the $share form is malformed.
 */
const char *mqp_topic_strip_share(const char *filter);

/* True when the level is exactly "+" or "#". */
bool mqp_level_is_wildcard(const struct mqp_level *l);
bool mqp_level_eq(const struct mqp_level *l, const char *s);

#endif
