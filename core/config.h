/*
 * Loading the streams file (schemas/streams.schema.json) into the stream model.
 * Every error names its JSON path ("$.tenants.demo.streams.s1.events[0].map.x: ...").
 */
#ifndef MQP_CONFIG_H
#define MQP_CONFIG_H

#include <stddef.h>
#include "stream.h"

/* A list of error messages, each "<json path>: <what is wrong>". */
struct mqp_errors {
    char **msgs;
    size_t n;
};
void mqp_errors_clear(struct mqp_errors *errs);

/*
 * Build a model from a parsed document. base_dir resolves relative "jwks_file" paths (may be
 * NULL for the current directory). Returns 0 and *out (caller frees with mqp_config_free()),
 * or -1 with every problem found appended to errs (start from {0}; caller clears with
 * mqp_errors_clear(); errs may be NULL). At most 100 problems are listed, then one line
 * "$: N more errors not listed". doc is not consumed; the model keeps its own reference.
 * Each successful build gets a generation greater than every earlier one in the process.
 */
int mqp_config_build(json_object *doc, const char *base_dir, struct mqp_config **out,
                     struct mqp_errors *errs);

/*
 * Read, parse and build from a file of at most 4 MiB (JSON nested at most 64 deep); relative
 * jwks_file paths resolve against the file's directory and cfg->path is set to path.
 * Same contract as mqp_config_build(); file errors are reported as "<path>: <what>".
 */
int mqp_config_load_file(const char *path, struct mqp_config **out, struct mqp_errors *errs);

/* Same from a buffer of len bytes (used by fuzzing; jwks_file paths resolve against base_dir). */
int mqp_config_load_buffer(const char *buf, size_t len, const char *base_dir,
                           struct mqp_config **out, struct mqp_errors *errs);

#endif
