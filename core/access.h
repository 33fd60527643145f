/*
 * Who may read, write and subscribe where. One decision procedure for MQTT (the plugin's ACL
 * check) and HTTP (the bridge), computed once per identity as a grant so that the per-message
 * check is a few comparisons and one hash lookup: no I/O, no JSON, no token parsing.
 */
#ifndef MQP_ACCESS_H
#define MQP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stream.h"
#include "token.h"

/* Same values as Mosquitto's MOSQ_ACL_*, so the plugin passes them through. */
enum mqp_access {
    MQP_ACCESS_READ = 1,
    MQP_ACCESS_WRITE = 2,
    MQP_ACCESS_SUBSCRIBE = 4,
    MQP_ACCESS_UNSUBSCRIBE = 8,
};

enum mqp_decision {
    MQP_DENY = 0,
    MQP_ALLOW = 1,
    MQP_DEFER = 2, /* not ours to decide: another auth method (password/ACL file) may */
};

enum mqp_grant_flags {
    MQP_GRANT_TOKEN = 1u << 0,       /* holder authenticated with one of our tokens */
    MQP_GRANT_PUBLISH = 1u << 1,     /* may write <tenant>/events/... (mqpush-publisher) */
    MQP_GRANT_ALL_TENANTS = 1u << 2, /* service identity with mqpush-bridge */
};

#define MQP_GRANT_INLINE_WORDS 2

/* An owner key: base64url (no padding) of the SHA-256 of a token's "sub". It names one user in
 * a topic level whatever characters the "sub" holds. */
#define MQP_OWNER_KEY_LEN 43

/*
 * Write the owner key of sub (NUL-terminated) into out. Returns 0, or -1 when sub is NULL or
 * empty (such a token names no user) or hashing failed; out is then "".
 */
int mqp_owner_key(const char *sub, char out[MQP_OWNER_KEY_LEN + 1]);

/*
 * Precomputed rights of one identity under one configuration generation. readable is a bitmap
 * over tenant->streams (by mqp_stream.index). Self-contained: holds no pointer into the
 * identity; tenant is borrowed from the config of that generation.
 */
struct mqp_grant {
    uint64_t generation;
    const struct mqp_tenant *tenant; /* NULL for service identities and foreign clients */
    unsigned flags;
    size_t words;
    uint64_t *readable; /* points to inline_bits or to heap memory */
    uint64_t inline_bits[MQP_GRANT_INLINE_WORDS];
    /* A tenant holder's owner key (mqp_owner_key() of its "sub"), "" when it has none: it
     * opens <tenant>/~unifiedpush/<owner>/... to that holder only. */
    char owner[MQP_OWNER_KEY_LEN + 1];
};

/*
 * Compute the grant of id under cfg. id NULL means a client that did not authenticate with
 * one of our tokens (anonymous, or admitted by another method): it may read public streams.
 * A tenant identity whose tenant is not in cfg (removed by a reload) gets a grant that denies
 * everything. Returns 0, or -1 when out of memory (g then denies everything).
 * Free heap parts with mqp_grant_clear(); a grant may be copied by value, but only one copy
 * may be cleared.
 */
int mqp_grant_compute(const struct mqp_config *cfg, const struct mqp_identity *id,
                      struct mqp_grant *g);
void mqp_grant_clear(struct mqp_grant *g);

/*
 * Decide access (one of enum mqp_access) to topic, a concrete topic for READ/WRITE or a
 * filter for SUBSCRIBE/UNSUBSCRIBE ("$share/<group>/" allowed; malformed: DENY). g should be
 * computed under cfg: a token holder's grant from another generation is denied everything
 * (recompute it when g->generation != cfg->generation).
 * Rules, in short: stream topics are read by their tenant's holders with a role (or anyone,
 * for public streams) and written by nobody; event topics are written by publishers of their
 * tenant; service identities with mqpush-bridge read every tenant's streams and write every
 * tenant's events; a token holder gets nothing else. UnifiedPush topics
 * <tenant>/~unifiedpush/<owner>/<endpoint> are read (and subscribed, wildcards only below
 * <owner>) by the tenant's holders whose owner key is <owner>, and written by the bridge only.
 * Clients without our token get public streams and DEFER on everything outside stream topics.
 */
enum mqp_decision mqp_access_check(const struct mqp_config *cfg, const struct mqp_grant *g,
                                   const char *topic, int access);

/* True when the grant lets its holder read stream s (for grants without a token: s is public). */
bool mqp_grant_can_read(const struct mqp_grant *g, const struct mqp_stream *s);

/* Per-request form for the bridge: may id (NULL: anonymous) read s? */
bool mqp_stream_readable(const struct mqp_stream *s, const struct mqp_identity *id);

#endif
