/*
 * Stream "map" projections. A map is {"outKey": "source.path", "nested": {"k": "path"}}.
 * Applied to an event it yields {"correlationId", "context", outKey: <value at path>, ...}:
 * the push-service form, where a mapped event keeps its correlation id and context.
 * correlationId/context are left out when the event lacks them, and a map that names one of
 * them itself (top level) supplies that value instead. Paths that do not resolve leave their
 * key out; a nested map whose paths all miss still gives {}. A path resolving to JSON null
 * gives null.
 */
#ifndef MQP_PROJECTION_H
#define MQP_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

struct mqp_projection; /* opaque, immutable */

/* Deepest nesting of map objects accepted (the top-level map is depth 1). */
#define MQP_PROJECTION_MAX_DEPTH 8
/* Most keys accepted in one map, counting every nesting level. */
#define MQP_PROJECTION_MAX_KEYS 256

/*
 * Compile a map object. Every value must be a path string or a nested map.
 * Returns 0 and *out (caller frees with mqp_projection_free()), or -1 with err (err may be
 * NULL). Messages name the offending key relative to the map: "nested.k: empty path".
 */
int mqp_projection_compile(json_object *map, struct mqp_projection **out, char *err, size_t errlen);
void mqp_projection_free(struct mqp_projection *p);

/*
 * Project event. Returns a new object (caller frees with json_object_put()); values are shared
 * with event by reference count, so event may be released afterwards. NULL when out of memory.
 */
json_object *mqp_projection_apply(const struct mqp_projection *p, json_object *event);

/*
 * Add the projection of event to dst, an object that may already hold members: those keep
 * their value and position, and mapped keys of the same name are skipped (event.c stamps id,
 * namespace, name and timestamp first this way, in one object per copy). With borrow_keys,
 * dst refers to the key strings of p instead of copying them: dst must then be released
 * before p. Returns 0, or -1 when out of memory or dst is not an object (dst may then hold
 * part of the projection).
 */
int mqp_projection_apply_into(const struct mqp_projection *p, json_object *event, json_object *dst,
                              bool borrow_keys);

#endif
