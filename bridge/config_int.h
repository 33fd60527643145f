/*
 * Inside the bridge.json loader: the checks of single values and the strict JSON reader that
 * config.c applies (config_values.c). Each rule here has its twin in
 * schemas/bridge.schema.json.
 */
#ifndef BRIDGE_CONFIG_INT_H
#define BRIDGE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include <stdint.h>
#include "core/config.h" /* struct mqp_errors */

struct bridge_config;

/* One load of bridge.json: where problems go. */
struct bridge_config_ctx {
    struct mqp_errors *errs;
    size_t n;        /* problems found */
    size_t n_listed; /* of which appended to errs */
    const char *dir; /* absolute directory of bridge.json, for relative paths */
};

/* Record "<path>: <message>" (only counted past the first 100; see finish_report). */
void bridge_config__report(struct bridge_config_ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append "$: N more errors not listed" when some were only counted. */
void bridge_config__finish_report(struct bridge_config_ctx *x);
/* Report every key of obj that is not in known (NULL-terminated). */
void bridge_config__check_keys(struct bridge_config_ctx *x, json_object *obj, const char *path,
                               const char *const *known);
/* The object at key (borrowed), NULL when absent or not an object (then reported). */
json_object *bridge_config__get_object(struct bridge_config_ctx *x, json_object *obj,
                                       const char *key, const char *path);
/* *out: copy of the non-empty string at key (caller frees), NULL when absent or wrong. */
void bridge_config__get_string(struct bridge_config_ctx *x, json_object *obj, const char *key,
                               const char *path, char **out);
/* *out = the integer at key when it lies in [min, max]; unchanged when absent or wrong. */
void bridge_config__get_uint(struct bridge_config_ctx *x, json_object *obj, const char *key,
                             const char *path, uint64_t min, uint64_t max, uint64_t *out);
/* *out = the boolean at key; unchanged when absent or wrong. */
void bridge_config__get_bool(struct bridge_config_ctx *x, json_object *obj, const char *key,
                             const char *path, bool *out);
/* file resolved against dir (absolute files unchanged); caller frees; NULL when out of memory. */
char *bridge_config__join_path(const char *dir, const char *file);

/* The "webpush" section (config_webpush.c). */
void bridge_config__webpush(struct bridge_config_ctx *x, json_object *doc,
                            struct bridge_config *cfg);
void bridge_config__webpush_free(struct bridge_config *cfg);

/* The "ssf" section (config_ssf.c). */
void bridge_config__ssf(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg);
void bridge_config__ssf_free(struct bridge_config *cfg);

/* Decimal digits only: no sign, spaces or leading zeros; *out <= max. */
bool bridge_config__decimal(const char *s, unsigned long max, unsigned long *out);

/* An IPv4 literal, localhost, or (when v6_allowed) an IPv6 literal without brackets. */
bool bridge_config__ip_or_localhost(const char *host, bool v6_allowed);

/*
 * "ipv4:port", "localhost:port" or "[ipv6]:port", port 1..65535. Returns NULL with the host
 * in host (hostlen bytes) and the port in *port, or a message saying what is wrong.
 */
const char *bridge_config__listen(const char *s, char *host, size_t hostlen, int *port);

/* "<IPv4>/<0..32>" or "<IPv6>/<0..128>". */
bool bridge_config__cidr(const char *s);

/* http:// or https://, a non-empty authority, no spaces or control characters. */
bool bridge_config__public_url(const char *u);

/* A tenant or stream id as in the streams file: 1..128 of [A-Za-z0-9._-]. */
bool bridge_config__id(const char *s);

/* A usable route path: starts with '/', no '?', '#', spaces or control characters. */
bool bridge_config__route_path(const char *p);

/* One of the paths the bridge serves itself, or under a prefix it keeps. */
bool bridge_config__reserved_path(const char *p);

/*
 * The whole file, NUL-terminated, if it holds at most max bytes. Returns the buffer (caller
 * frees with free()) and *len, or NULL with a message in err.
 */
char *bridge_config__read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/*
 * Parse buf as RFC 8259 JSON, nested at most 64 deep. Returns the document (caller releases
 * with json_object_put()), or NULL with a message in err.
 */
json_object *bridge_config__parse_json(const char *buf, size_t len, char *err, size_t errlen);

#endif
