/*
 * Per-client state of the plugin: what a verified token said about the client, reduced to what
 * the ACL check needs. The ACL check runs once per subscriber per delivered message, so a lookup
 * is one hash probe and the grant is precomputed. The token is not kept; its claims only when
 * the client's tenant has streams with subscriber criteria (core/subscriber.h), which compare
 * them with every event delivered on those streams.
 *
 * State is keyed by MQTT client id and outlives a disconnect: a persistent session is checked
 * while its client is offline. Nothing here calls the broker, so it can be tested on its own.
 */
#ifndef MQP_PLUGIN_CLIENTS_H
#define MQP_PLUGIN_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "token.h"

struct mqp_client {
    UT_hash_handle hh;      /* mqp_clients.by_id, keyed by id */
    struct mqp_grant grant; /* rights under the config generation grant.generation */
    /* The broker connection that presented the token. Compared by address only, never
     * dereferenced: it tells this connection's events from those of an older connection
     * with the same client id. */
    const void *conn;
    char **roles; /* one allocation: the pointer array followed by the strings */
    size_t n_roles;
    int64_t exp; /* token exp, INT64_MAX when it had none */
    /* One reference to the verified claims, or NULL when the tenant had no stream with
     * subscriber criteria at authentication (a reload re-runs it, see plugin_int.h). */
    json_object *claims;
    const char *tenant; /* points into id[]'s allocation; NULL for services */
    enum mqp_identity_kind kind;
    bool online;
    /* Read from the state file at start (state.h): conn is NULL until the ACL check binds the
     * offline session Mosquitto restored under this id. */
    bool restored;
    struct mqp_client *next; /* links a list returned by mqp_clients_take_expired() */
    char id[];               /* client id, NUL, then tenant id, NUL */
};

struct mqp_clients {
    struct mqp_client *by_id; /* uthash head */
    /* No entry expires before this: lets the expiry sweep skip the scan. */
    int64_t earliest_exp;
};

void mqp_clients_init(struct mqp_clients *t);

/*
 * Store state for client id from a verified identity, with its grant computed under cfg,
 * replacing any entry id had; the claims are kept when a stream of the identity's tenant has
 * subscriber criteria under cfg. The new entry is online and bound to conn. Returns the entry
 * (owned by t), or NULL when memory ran out (id then keeps its previous entry, if any).
 */
struct mqp_client *mqp_clients_put(struct mqp_clients *t, const char *id,
                                   const struct mqp_identity *ident, const struct mqp_config *cfg,
                                   const void *conn);

/*
 * Put an entry for id read from the state file: offline, restored, bound to no connection yet,
 * with owner (the owner key of its grant, MQP_OWNER_KEY_LEN characters, or NULL) kept. Returns
 * the entry (owned by t), or NULL.
 */
struct mqp_client *mqp_clients_restore(struct mqp_clients *t, const char *id,
                                       const struct mqp_identity *ident, const char *owner,
                                       const struct mqp_config *cfg);

/* The entry of id (borrowed), or NULL. */
struct mqp_client *mqp_clients_find(const struct mqp_clients *t, const char *id);

/* Unlink c from t and free it. */
void mqp_clients_remove(struct mqp_clients *t, struct mqp_client *c);

size_t mqp_clients_count(const struct mqp_clients *t);

/*
 * The grant of c under cfg (borrowed from c). When cfg is of another generation than the one
 * the grant was computed under, it is recomputed from the stored kind, tenant and roles
 * (keeping its owner key).
 * Never NULL; when memory runs out the grant denies everything (fails closed) until the next
 * reload.
 */
const struct mqp_grant *mqp_client_grant(struct mqp_client *c, const struct mqp_config *cfg);

/*
 * Unlink every entry whose exp is before cutoff and return them as a list chained through
 * ->next (caller frees each with mqp_client_free()). NULL when none expired. Cheap when nothing
 * can have expired yet: no scan before the earliest exp.
 */
struct mqp_client *mqp_clients_take_expired(struct mqp_clients *t, int64_t cutoff);

/* Free one entry that is no longer in a table (accepts NULL). */
void mqp_client_free(struct mqp_client *c);

/* Free every entry. */
void mqp_clients_clear(struct mqp_clients *t);

#endif
