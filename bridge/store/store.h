/*
 * The bridge's durable state behind one small interface: the embedded default (SQLite, WAL)
 * or a PostgreSQL server that several bridges share. Channels keep their subscriptions and
 * outboxes here. The schema is versioned; opening a store migrates it to the newest version.
 * Calls may block on disk or on the network: run them off the event loop (libuv thread pool)
 * or batch them.
 *
 * Several bridges on one store: each names itself (store_set_node()) and beats (node_beat)
 * while it runs. A row of an outbox belongs to the bridge that added it, which alone sends it;
 * the rows of a bridge that stopped beating are adopted by another (msg_adopt, ssf_out_adopt).
 */
#ifndef BRIDGE_STORE_H
#define BRIDGE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * A push subscription (Web Push, UnifiedPush): where to send, for whom, and the session of the
 * token that made it (abandoned when that session ends). Strings are owned by the record when
 * it comes from the store (free with store_sub_clear()); borrowed when given to it.
 */
struct store_sub {
    int64_t id;
    char *channel;  /* "webpush", "unifiedpush" */
    char *endpoint; /* unique per channel */
    unsigned char p256dh[65];
    unsigned char auth[16];
    int has_keys;    /* p256dh and auth are set (message encryption, RFC 8291) */
    char *vapid_key; /* the VAPID public key it was made with (base64url), or NULL */
    char *tenant;
    char *stream;
    char *user;         /* the token's "sub", "" when it had none */
    char *session;      /* its "sid", else its "jti", else "" */
    char *identity;     /* JSON: what the read rules need of the token (store_identity) */
    int64_t expires_at; /* the token's exp, seconds; INT64_MAX when none */
    int64_t created_at; /* seconds */
};

/* A message waiting in the push outbox for one subscription; same ownership as store_sub. */
struct store_msg {
    int64_t id; /* increasing: the order of arrival */
    int64_t sub_id;
    char *event_id;
    unsigned char *body;
    size_t body_len;
    int64_t created_ms;
    int64_t expires_ms; /* give up after this (the message's TTL) */
    int64_t due_ms;     /* next attempt */
    int attempts;
};

/*
 * A stream of the SSF transmitter (OpenID SSF 1.0 section 8.1.1): what the receiver asked for
 * (config: the JSON of events_requested, delivery and description) and its status (section
 * 8.1.2). Same ownership as store_sub. SET delivery keeps its outbox in tables of its own
 * that reference the stream id.
 */
struct store_ssf_stream {
    char *id; /* stream_id, unique over all tenants */
    char *tenant;
    char *aud;    /* the "aud" of its SETs */
    char *config; /* JSON object */
    char *status; /* "enabled", "paused", "disabled" */
    char *reason; /* why the status was set, or NULL */
    int64_t created_at;
    int64_t updated_at; /* seconds */
};

/*
 * A SET waiting in the SSF transmitter's outbox for one stream (RFC 8935 push or RFC 8936
 * poll): its claims (JSON text, signed when sent) until delivered, acknowledged or given up.
 * Same ownership as store_sub.
 */
struct store_ssf_out {
    int64_t id; /* increasing: the order of the stream's SETs */
    char *stream_id;
    char *jti; /* unique per stream */
    char *claims;
    int64_t created_ms;
    int64_t due_ms; /* next push attempt */
    int attempts;
};

/*
 * A UnifiedPush endpoint this bridge provides (UnifiedPush SERV 1.0.1, the push provider's
 * side): the opaque id in its URL and the user it belongs to (tenant and owner key,
 * core/access.h). Fixed-size fields: nothing to free.
 */
struct store_up_endpoint {
    char id[48];
    char tenant[132];
    char owner[48];
    int64_t created_at; /* seconds */
};

/* A message waiting for an endpoint's distributor; borrowed for the visit that shows it. */
struct store_up_msg {
    int64_t id; /* increasing: the order of arrival over all endpoints */
    const char *endpoint;
    const unsigned char *body; /* exactly the bytes the application server sent */
    size_t body_len;
    int64_t created_ms;
};

/* Engine operations; a store is a vtable plus the engine's own state. */
struct store_ops {
    const char *scheme; /* "sqlite", "postgresql" */
    int (*open)(const char *location, struct store **out, char *err, size_t errlen);
    void (*close)(struct store *st);
    int (*schema_version)(struct store *st);
    int (*kv_put)(struct store *st, const char *ns, const char *key, const void *val, size_t len);
    /* *val is malloc()ed, caller frees; returns 1 found, 0 absent, -1 error. */
    int (*kv_get)(struct store *st, const char *ns, const char *key, void **val, size_t *len);
    int (*kv_del)(struct store *st, const char *ns, const char *key);
    /* Push subscriptions. insert: 0 and s->id set, 1 when the endpoint is taken, -1 error. */
    int (*sub_insert)(struct store *st, struct store_sub *s);
    /* 1 and *out filled (owned), 0 absent, -1 error. */
    int (*sub_get)(struct store *st, const char *channel, const char *endpoint,
                   struct store_sub *out);
    /* Delete by id (0 for all), endpoint, session (user, session; NULL for any, not both) or
     * every subscription whose vapid_key differs from keep: the number deleted, or -1. Their
     * pending messages go too. */
    int (*sub_delete)(struct store *st, const char *channel, int64_t id, const char *endpoint);
    int (*sub_delete_session)(struct store *st, const char *channel, const char *tenant,
                              const char *user, const char *session);
    int (*sub_delete_vapid)(struct store *st, const char *channel, const char *keep);
    /* Give subscription s->id a new owner (tenant, stream, user, session, identity,
     * expires_at), keeping its id and pending messages. 0, or -1 (also when it is gone). */
    int (*sub_rebind)(struct store *st, const struct store_sub *s);
    int (*sub_count_user)(struct store *st, const char *channel, const char *tenant,
                          const char *user);
    /* Visit every subscription of channel (borrowed for the call); 0 or -1. */
    int (*sub_each)(struct store *st, const char *channel,
                    int (*visit)(void *ctx, const struct store_sub *s), void *ctx);
    /* Add messages in one transaction (ids set; a duplicate (sub, event) keeps the first and
     * gets id 0), owned by the store's node. 0 or -1 (then none was added). */
    int (*msg_add)(struct store *st, struct store_msg *msgs, size_t n);
    int (*msg_delete)(struct store *st, int64_t id);
    int (*msg_retry)(struct store *st, int64_t id, int attempts, int64_t due_ms);
    /* Visit the pending messages of channel's subscriptions that the store's node owns,
     * oldest first; 0 or -1. */
    int (*msg_each)(struct store *st, const char *channel,
                    int (*visit)(void *ctx, const struct store_msg *m), void *ctx);
    /* Take over the pending messages of channel whose owner is another node with no beat
     * alive at now_ms (a bridge that stopped, or "" for rows older than ownership), and visit
     * each taken, oldest first (borrowed for the call). Each row goes to one adopter even when
     * several adopt at once. The number taken, or -1; a visit returning non-zero stops the
     * visits and makes it -1, the rows stay taken (msg_each shows them). */
    int (*msg_adopt)(struct store *st, const char *channel, int64_t now_ms,
                     int (*visit)(void *ctx, const struct store_msg *m), void *ctx);
    /* SSF transmitter streams. put: insert, or replace the stream of that id; 0 or -1. */
    int (*ssf_stream_put)(struct store *st, const struct store_ssf_stream *s);
    /* The stream id of tenant: 1 and *out filled (owned), 0 absent, -1 error. */
    int (*ssf_stream_get)(struct store *st, const char *tenant, const char *id,
                          struct store_ssf_stream *out);
    /* With its subjects and verification requests: 1 deleted, 0 absent, -1 error. */
    int (*ssf_stream_delete)(struct store *st, const char *tenant, const char *id);
    /* Visit tenant's streams, oldest first (borrowed for the call); 0 or -1. */
    int (*ssf_stream_each)(struct store *st, const char *tenant,
                           int (*visit)(void *ctx, const struct store_ssf_stream *s), void *ctx);
    /* Subjects (SSF 8.1.3) by their canonical JSON. add: 0 (also when already there) or -1;
     * remove: the number removed (0 or 1), or -1. */
    int (*ssf_subject_add)(struct store *st, const char *stream_id, const char *subject,
                           int verified);
    int (*ssf_subject_remove)(struct store *st, const char *stream_id, const char *subject);
    int (*ssf_subject_count)(struct store *st, const char *stream_id);
    /* A verification request (SSF 8.1.4) for delivery to answer; state may be NULL. 0 or -1. */
    int (*ssf_verify_add)(struct store *st, const char *stream_id, const char *state,
                          int64_t requested_ms);
    int (*ssf_verify_count)(struct store *st, const char *stream_id);
    /* Is subject (canonical JSON) one of the stream's? 1, 0, or -1. */
    int (*ssf_subject_has)(struct store *st, const char *stream_id, const char *subject);
    /* The SET outbox. add: in one transaction, ids set, owned by the store's node; a duplicate
     * (stream, jti) keeps the first and gets id 0; 0 or -1 (then none was added). delete_jti:
     * 1, 0 absent, -1. */
    int (*ssf_out_add)(struct store *st, struct store_ssf_out *rows, size_t n);
    int (*ssf_out_delete)(struct store *st, int64_t id);
    int (*ssf_out_delete_jti)(struct store *st, const char *stream_id, const char *jti);
    int (*ssf_out_retry)(struct store *st, int64_t id, int attempts, int64_t due_ms);
    /* Visit every pending SET that the store's node owns, oldest first (borrowed for the
     * call); 0 or -1. adopt: as msg_adopt, for every stream. */
    int (*ssf_out_each)(struct store *st, int (*visit)(void *ctx, const struct store_ssf_out *o),
                        void *ctx);
    int (*ssf_out_adopt)(struct store *st, int64_t now_ms,
                         int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx);
    /* UnifiedPush provider endpoints. add: 0, 1 when the id is taken, -1 error. get: 1 and
     * *out, 0 absent, -1. delete: the caller's own endpoint id, with its messages; the number
     * deleted (0 or 1) or -1. each: tenant and owner's endpoints, oldest first; 0 or -1. */
    int (*up_endpoint_add)(struct store *st, const struct store_up_endpoint *e);
    int (*up_endpoint_get)(struct store *st, const char *id, struct store_up_endpoint *out);
    int (*up_endpoint_delete)(struct store *st, const char *tenant, const char *owner,
                              const char *id);
    int (*up_endpoint_count)(struct store *st, const char *tenant, const char *owner);
    int (*up_endpoint_each)(struct store *st, const char *tenant, const char *owner,
                            int (*visit)(void *ctx, const struct store_up_endpoint *e), void *ctx);
    /* Keep a message of len bytes (copied) for endpoint; 0 and *id set, or -1. */
    int (*up_msg_add)(struct store *st, const char *endpoint, const void *body, size_t len,
                      int64_t created_ms, int64_t *id);
    /* Visit up to limit messages of tenant and owner's endpoints with an id above after,
     * oldest first: the number visited, or -1. A visit returning non-zero stops early. */
    int (*up_msg_each)(struct store *st, const char *tenant, const char *owner, int64_t after,
                       size_t limit, int (*visit)(void *ctx, const struct store_up_msg *m),
                       void *ctx);
    /* Delete tenant and owner's messages with id <= up_to (received), or every message made
     * before before_ms (too old): the number deleted, or -1. */
    int (*up_msg_ack)(struct store *st, const char *tenant, const char *owner, int64_t up_to);
    int (*up_msg_expire)(struct store *st, int64_t before_ms);
    /* Bridges sharing the store: node is alive until now_ms + ttl_ms (insert or extend its
     * row in nodes); its outbox rows are not adopted before then. 0 or -1. */
    int (*node_beat)(struct store *st, const char *node, int64_t now_ms, int64_t ttl_ms);
    /* Claim a bridge other than this store's node whose beat ran out before now_ms: its beat
     * row is deleted, by one claimer only, and its name copied to node (len bytes). 1 claimed,
     * 0 none, -1 error. Call it after the adopts, which go by the beats. */
    int (*node_claim_dead)(struct store *st, int64_t now_ms, char *node, size_t len);
};

struct store {
    const struct store_ops *ops;
    char node[64]; /* the bridge owning the rows this store adds; "" until store_set_node() */
};

/*
 * Open the store named by url ("sqlite:///abs/path.db", "sqlite://relative.db",
 * "sqlite::memory:", or a libpq connection URI "postgresql://user@host:port/db?..." which
 * may also begin with "postgres://"), creating and migrating it. Returns 0 and *out (close
 * with store_close()), or -1 with a message in err (unknown scheme, cannot open or connect,
 * migration failed, newer schema).
 */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

/* Name the node (bridge) that owns the outbox rows st adds and visits from now on; node is
 * copied, cut to 63 bytes; NULL means "". */
void store_set_node(struct store *st, const char *node);

/* Free the strings of a record filled by the store, and zero it. Accepts NULL. */
void store_sub_clear(struct store_sub *s);
void store_msg_clear(struct store_msg *m);
void store_ssf_stream_clear(struct store_ssf_stream *s);
void store_ssf_out_clear(struct store_ssf_out *o);

/* The newest schema version this build knows. */
int store_schema_latest(void);

#endif
