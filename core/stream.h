/*
 * The stream model: tenants, their streams, and the routing table from (namespace, name) to
 * the streams that carry an event. Built by config.c, read by the plugin and the bridge.
 * Everything here is immutable once loaded; a reload builds a new model and swaps it in.
 */
#ifndef MQP_STREAM_H
#define MQP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <uthash.h>
#include "criteria.h"
#include "jwk.h"
#include "projection.h"

/* Identifiers (tenant, stream, namespace, name): 1..128 of [A-Za-z0-9._-], see schema. */
#define MQP_ID_MAX 128

/* Role names with a fixed meaning. */
#define MQP_ROLE_LISTENER "stream-listener"
#define MQP_ROLE_PUBLISHER "mqpush-publisher"
#define MQP_ROLE_BRIDGE "mqpush-bridge"
#define MQP_ROLE_ADMIN "mqpush-admin"

struct mqp_subscriber_criteria; /* subscriber.h */

/* One entry of a stream's "events" array. */
struct mqp_stream_event {
    char *namespace_;
    char *name;
    struct mqp_projection *map;    /* NULL: the event passes whole */
    struct mqp_criteria *criteria; /* NULL: every event matches */
};

struct mqp_stream {
    char *id;
    char *name;
    char *description;
    bool public_subscribe;
    char **subscriber_roles;
    size_t n_subscriber_roles;
    struct mqp_stream_event *events;
    size_t n_events;
    /* NULL: every reader gets every event; else see mqp_stream_subscriber_match() */
    struct mqp_subscriber_criteria *subscriber_criteria;
    size_t index; /* position in tenant->streams, bit number in access grants */
    const struct mqp_tenant *tenant;
    UT_hash_handle hh; /* tenant->by_id */
};

/* Streams that carry one (namespace, name), in configuration order. */
struct mqp_route {
    char *key; /* "<namespace>:<name>" */
    const struct mqp_stream **streams;
    const struct mqp_stream_event **entries; /* entries[i] belongs to streams[i] */
    size_t n;
    UT_hash_handle hh;
};

/* Who may sign tokens for a tenant (or for services, when tenant is NULL). */
struct mqp_issuer {
    char *issuer;       /* exact "iss" */
    char *audience;     /* required in "aud" */
    char *roles_client; /* resource_access.<client>.roles is read for this client;
                           defaults to audience */
    struct mqp_jwks *jwks;
};

struct mqp_tenant {
    char *id;
    struct mqp_issuer issuer;
    struct mqp_stream *streams; /* array of n_streams */
    size_t n_streams;
    struct mqp_stream *by_id;     /* uthash head over streams */
    struct mqp_route *routes;     /* uthash head */
    bool has_subscriber_criteria; /* some stream of the tenant has subscriber criteria */
    UT_hash_handle hh;            /* config->tenants_by_id */
    UT_hash_handle hh_iss;        /* config->tenants_by_issuer */
};

struct mqp_limits {
    size_t max_event_bytes; /* default 256 KiB */
    size_t max_token_bytes; /* default 8 KiB */
    int64_t leeway_seconds; /* exp/nbf leeway, default 30 */
    bool require_exp;       /* tokens without exp are refused, default true */
};

struct mqp_config {
    struct mqp_tenant *tenants; /* array */
    size_t n_tenants;
    struct mqp_tenant *tenants_by_id;
    struct mqp_tenant *tenants_by_issuer;
    bool has_service;
    struct mqp_issuer service; /* valid when has_service */
    struct mqp_limits limits;
    bool has_subscriber_criteria; /* some stream of some tenant has subscriber criteria */
    char *path;                   /* file it was loaded from, may be NULL */
    json_object *doc;             /* the parsed document, for channel sections */
    uint64_t generation;          /* distinct for every load in this process */
};

/* Lookups; all return borrowed pointers or NULL. len-based so topic levels need no copy. */
const struct mqp_tenant *mqp_config_tenant(const struct mqp_config *cfg, const char *id,
                                           size_t len);
const struct mqp_tenant *mqp_config_tenant_by_issuer(const struct mqp_config *cfg, const char *iss);
const struct mqp_stream *mqp_tenant_stream(const struct mqp_tenant *t, const char *id, size_t len);
const struct mqp_route *mqp_tenant_route(const struct mqp_tenant *t, const char *ns, size_t ns_len,
                                         const char *name, size_t name_len);

/*
 * A stream looked up by its ids and remembered while the configuration generation stays, for
 * holders of ids that check every event (a reload frees the streams of the previous model).
 * Start from {0}.
 */
struct mqp_stream_ref {
    uint64_t generation;
    const struct mqp_stream *stream;
};

/* The stream tenant/stream of cfg (borrowed), or NULL; looked up again only when cfg is of
 * another generation than at the last call with ref. */
const struct mqp_stream *mqp_stream_ref_get(struct mqp_stream_ref *ref,
                                            const struct mqp_config *cfg, const char *tenant,
                                            const char *stream);

/* True when s is a valid identifier for a tenant, stream, namespace or event name. */
bool mqp_id_valid(const char *s, size_t len);

/*
 * For config.c only: build the indexes over the streams of every tenant of cfg: routes (in
 * stream order, each stream at most once per route) and the has_subscriber_criteria flags.
 * Returns 0, or -1 when out of memory (cfg is then fit only for mqp_config_free()).
 */
int mqp__config_build_indexes(struct mqp_config *cfg);

/* Free a model built by config.c (accepts NULL). */
void mqp_config_free(struct mqp_config *cfg);

#endif
