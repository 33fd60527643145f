/*
 * Stream criteria: a set of path -> required value. An event matches when every path exists
 * and its value equals the required one (objects and arrays by deep equality with key order
 * irrelevant, numbers by value so 1 and 1.0 are equal, strings bytewise). Push-service criteria
 * ({"correlationId": ..., "context": {...}}) are this form with top-level paths, so "context"
 * must deep-equal the given object; as there, an empty-string or null correlationId means
 * "no constraint".
 *
 * A missing path never matches, not even a required null: {"payload.x": null} asks for an
 * explicit JSON null at payload.x (the push service compares with lodash isEqual, and
 * isEqual(undefined, null) is false).
 */
#ifndef MQP_CRITERIA_H
#define MQP_CRITERIA_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

struct mqp_criteria; /* opaque, immutable */

/* Most path -> value pairs accepted in one criteria object. */
#define MQP_CRITERIA_MAX_ENTRIES 256

/*
 * Compile a criteria object. NULL or {} gives a criteria that matches everything.
 * Returns 0 and *out (caller frees with mqp_criteria_free()), or -1 with err (err may be NULL).
 * Messages start with the offending key: "payload..x: empty segment at offset 8".
 * The required values are shared with spec by reference count.
 */
int mqp_criteria_compile(json_object *spec, struct mqp_criteria **out, char *err, size_t errlen);
void mqp_criteria_free(struct mqp_criteria *c);
/* NULL criteria match everything. event is borrowed. */
bool mqp_criteria_match(const struct mqp_criteria *c, json_object *event);
/*
 * Deep equality with numeric comparison by value (int64/uint64 against double exactly, no
 * rounding). NULL is JSON null. Values nested deeper than 128 levels compare unequal.
 */
bool mqp_json_equal(json_object *a, json_object *b);

#endif
