/*
 * The PostgreSQL engine's shared parts (pg*.c): the connection and its statements. store.c
 * sees only store__pg_ops (store_int.h).
 */
#ifndef BRIDGE_STORE_PG_INT_H
#define BRIDGE_STORE_PG_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"

struct pg_store {
    struct store base; /* first: struct store * and struct pg_store * convert */
    PGconn *conn;
    /* A libpq connection serves one statement at a time; the store may be called from the
     * loop and from the thread pool. */
    pthread_mutex_t lock;
    int lost;         /* the connection broke and is not back yet (logged once) */
    int64_t retry_at; /* after a failed reconnection: no new attempt before this (ms) */
};

#define PG_MAX_PARAMS 12

/*
 * The parameters of one statement, sent apart from its text (never spliced into it): text
 * (NULL sends SQL NULL), integers as decimal text, bytes in binary format for bytea columns.
 * Text and bytes are borrowed until the statement ran.
 */
struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
};

void pg__text(struct pg_params *a, const char *v);
void pg__int(struct pg_params *a, int64_t v);
void pg__bytes(struct pg_params *a, const void *v, size_t len);

/*
 * Run sql with the parameters a (NULL: none). The result of a statement that ran (caller
 * frees with PQclear()), or NULL on error. A connection that broke is reset at the next
 * call, so one call fails and the next runs on a new connection.
 */
PGresult *pg__exec(struct store *st, const char *sql, const struct pg_params *a);
/* As pg__exec() for a statement without rows: the number of rows it changed, or -1. */
int pg__changes(struct store *st, const char *sql, const struct pg_params *a);
/* As pg__changes(), when the count does not matter: 0, or -1. */
int pg__run(struct store *st, const char *sql, const struct pg_params *a);
/*
 * Run sql n times, with the parameters fill() sets for row i, in one transaction and one
 * round trip (libpq pipeline mode). ids[i] is the first column of row i's result, 0 when it
 * returned no row. 0, or -1 when anything failed: then none was done and every ids[i] is 0.
 */
int pg__batch(struct store *st, const char *sql, size_t n,
              void (*fill)(void *ctx, size_t i, struct pg_params *a), void *ctx, int64_t *ids);

/* Cells of a text-format result. text: borrowed, NULL for SQL NULL; dup: a copy (caller
 * frees), NULL for SQL NULL or out of memory; bytes: bytea decoded (caller frees with
 * PQfreemem()), NULL for SQL NULL or out of memory. */
int64_t pg__col_int(const PGresult *r, int row, int col);
const char *pg__col_text(const PGresult *r, int row, int col);
char *pg__col_dup(const PGresult *r, int row, int col);
unsigned char *pg__col_bytes(const PGresult *r, int row, int col, size_t *len);

/* Create or update the schema on conn (pg_schema.c), one transaction per migration under an
 * advisory lock, so that bridges opening one database at once migrate it once. 0 or -1 with
 * a message in err. */
int store__pg_migrate(PGconn *conn, char *err, size_t errlen);
int store__pg_schema_version(struct store *st);

/* Push subscriptions and their outbox (pg_push.c); see struct store_ops. */
int store__pg_sub_insert(struct store *st, struct store_sub *s);
int store__pg_sub_get(struct store *st, const char *channel, const char *endpoint,
                      struct store_sub *out);
int store__pg_sub_delete(struct store *st, const char *channel, int64_t id, const char *endpoint);
int store__pg_sub_delete_session(struct store *st, const char *channel, const char *tenant,
                                 const char *user, const char *session);
int store__pg_sub_delete_vapid(struct store *st, const char *channel, const char *keep);
int store__pg_sub_rebind(struct store *st, const struct store_sub *s);
int store__pg_sub_count_user(struct store *st, const char *channel, const char *tenant,
                             const char *user);
int store__pg_sub_each(struct store *st, const char *channel,
                       int (*visit)(void *ctx, const struct store_sub *s), void *ctx);
int store__pg_msg_add(struct store *st, struct store_msg *msgs, size_t n);
int store__pg_msg_delete(struct store *st, int64_t id);
int store__pg_msg_retry(struct store *st, int64_t id, int attempts, int64_t due_ms);
int store__pg_msg_each(struct store *st, const char *channel,
                       int (*visit)(void *ctx, const struct store_msg *m), void *ctx);
int store__pg_msg_adopt(struct store *st, const char *channel, int64_t now_ms,
                        int (*visit)(void *ctx, const struct store_msg *m), void *ctx);

/* SSF transmitter streams, subjects and verification requests (pg_ssf.c). */
int store__pg_ssf_stream_put(struct store *st, const struct store_ssf_stream *s);
int store__pg_ssf_stream_get(struct store *st, const char *tenant, const char *id,
                             struct store_ssf_stream *out);
int store__pg_ssf_stream_delete(struct store *st, const char *tenant, const char *id);
int store__pg_ssf_stream_each(struct store *st, const char *tenant,
                              int (*visit)(void *ctx, const struct store_ssf_stream *s), void *ctx);
int store__pg_ssf_subject_add(struct store *st, const char *stream_id, const char *subject,
                              int verified);
int store__pg_ssf_subject_remove(struct store *st, const char *stream_id, const char *subject);
int store__pg_ssf_subject_count(struct store *st, const char *stream_id);
int store__pg_ssf_verify_add(struct store *st, const char *stream_id, const char *state,
                             int64_t requested_ms);
int store__pg_ssf_verify_count(struct store *st, const char *stream_id);

/* The SET outbox and the subject lookup that fills it (pg_ssf_out.c). */
int store__pg_ssf_subject_has(struct store *st, const char *stream_id, const char *subject);
int store__pg_ssf_out_add(struct store *st, struct store_ssf_out *rows, size_t n);
int store__pg_ssf_out_delete(struct store *st, int64_t id);
int store__pg_ssf_out_delete_jti(struct store *st, const char *stream_id, const char *jti);
int store__pg_ssf_out_retry(struct store *st, int64_t id, int attempts, int64_t due_ms);
int store__pg_ssf_out_each(struct store *st, int (*visit)(void *ctx, const struct store_ssf_out *o),
                           void *ctx);
int store__pg_ssf_out_adopt(struct store *st, int64_t now_ms,
                            int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx);

/* UnifiedPush provider endpoints and messages (pg_up.c). */
int store__pg_up_endpoint_add(struct store *st, const struct store_up_endpoint *e);
int store__pg_up_endpoint_get(struct store *st, const char *id, struct store_up_endpoint *out);
int store__pg_up_endpoint_delete(struct store *st, const char *tenant, const char *owner,
                                 const char *id);
int store__pg_up_endpoint_count(struct store *st, const char *tenant, const char *owner);
int store__pg_up_endpoint_each(struct store *st, const char *tenant, const char *owner,
                               int (*visit)(void *ctx, const struct store_up_endpoint *e),
                               void *ctx);
int store__pg_up_msg_add(struct store *st, const char *endpoint, const void *body, size_t len,
                         int64_t created_ms, int64_t *id);
int store__pg_up_msg_each(struct store *st, const char *tenant, const char *owner, int64_t after,
                          size_t limit, int (*visit)(void *ctx, const struct store_up_msg *m),
                          void *ctx);
int store__pg_up_msg_ack(struct store *st, const char *tenant, const char *owner, int64_t up_to);
int store__pg_up_msg_expire(struct store *st, int64_t before_ms);

#endif
