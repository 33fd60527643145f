/*
 * Paths into JSON documents, in the dotted form push-service configurations use:
 * "payload.items[0].id", "payload.items.0.id", "context['a.b']", "context[\"a.b\"]".
 * Resolution follows lodash's get(): a numeric segment indexes an array and names a key on an
 * object; a segment on null or a scalar resolves to nothing; and when the root object has a
 * member spelled exactly like the whole path text ("a.b" as one key), that member wins.
 * Unlike JavaScript, only JSON structure resolves: no "length", no characters of strings.
 * Array indexes are canonical decimals ("0", "17"; not "01", "-1", " 1").
 * Inside quotes a backslash takes the next byte literally; [""] names the empty key.
 */
#ifndef MQP_JSONPATH_H
#define MQP_JSONPATH_H

#include <stddef.h>
#include <json-c/json.h>

struct mqp_path; /* opaque, immutable */

/* Longest path text and deepest path accepted; longer ones are configuration errors. */
#define MQP_PATH_MAX_LEN 1024
#define MQP_PATH_MAX_SEGMENTS 32

/*
 * Compile path text. Returns 0 and *out (caller frees with mqp_path_free()), or -1 with a
 * message in err (err may be NULL): empty path, empty segment ("a..b", "a.", ".a", "a[]"),
 * unbalanced bracket or quote, text after "]" that is not "." or "[", too long, too many
 * segments.
 */
int mqp_path_compile(const char *text, struct mqp_path **out, char *err, size_t errlen);
void mqp_path_free(struct mqp_path *path);
/* The text the path was compiled from (borrowed). */
const char *mqp_path_text(const struct mqp_path *path);

/*
 * Resolve path in root. Returns the value (borrowed from root; NULL JSON values come back as
 * NULL too) and sets *found to 1 when the path exists, 0 otherwise (found may be NULL).
 */
json_object *mqp_path_get(const struct mqp_path *path, json_object *root, int *found);

#endif
