/* Engines behind store.h; only store.c picks between them. */
#ifndef BRIDGE_STORE_INT_H
#define BRIDGE_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

struct sqlite_store {
    struct store base; /* first: struct store * and struct sqlite_store * convert */
    sqlite3 *db;
};

extern const struct store_ops store__sqlite_ops;
/* PostgreSQL (pg*.c, pg_int.h); its open takes the whole connection URI. */
extern const struct store_ops store__pg_ops;
sqlite3 *store__sqlite_db(struct store *st);
/* Column i as a copy (caller frees), NULL when SQL NULL or out of memory. */
char *store__col_text(sqlite3_stmt *q, int i);
/* Bind v as text (borrowed until the statement runs), or NULL when v is NULL. */
void store__bind_text(sqlite3_stmt *q, int i, const char *v);

/* Push subscriptions and outbox on SQLite (sqlite_push.c); see struct store_ops. */
int store__sqlite_sub_insert(struct store *st, struct store_sub *s);
int store__sqlite_sub_get(struct store *st, const char *channel, const char *endpoint,
                          struct store_sub *out);
int store__sqlite_sub_delete(struct store *st, const char *channel, int64_t id,
                             const char *endpoint);
int store__sqlite_sub_delete_session(struct store *st, const char *channel, const char *tenant,
                                     const char *user, const char *session);
int store__sqlite_sub_rebind(struct store *st, const struct store_sub *s);
int store__sqlite_sub_delete_vapid(struct store *st, const char *channel, const char *keep);
int store__sqlite_sub_count_user(struct store *st, const char *channel, const char *tenant,
                                 const char *user);
int store__sqlite_sub_each(struct store *st, const char *channel,
                           int (*visit)(void *ctx, const struct store_sub *s), void *ctx);
int store__sqlite_msg_add(struct store *st, struct store_msg *msgs, size_t n);
int store__sqlite_msg_delete(struct store *st, int64_t id);
int store__sqlite_msg_retry(struct store *st, int64_t id, int attempts, int64_t due_ms);
int store__sqlite_msg_each(struct store *st, const char *channel,
                           int (*visit)(void *ctx, const struct store_msg *m), void *ctx);
int store__sqlite_msg_adopt(struct store *st, const char *channel, int64_t now_ms,
                            int (*visit)(void *ctx, const struct store_msg *m), void *ctx);
int store__sqlite_schema_latest(void);

/* SSF transmitter streams on SQLite (sqlite_ssf.c); see struct store_ops. */
int store__sqlite_ssf_stream_put(struct store *st, const struct store_ssf_stream *s);
int store__sqlite_ssf_stream_get(struct store *st, const char *tenant, const char *id,
                                 struct store_ssf_stream *out);
int store__sqlite_ssf_stream_delete(struct store *st, const char *tenant, const char *id);
int store__sqlite_ssf_stream_each(struct store *st, const char *tenant,
                                  int (*visit)(void *ctx, const struct store_ssf_stream *s),
                                  void *ctx);
int store__sqlite_ssf_subject_add(struct store *st, const char *stream_id, const char *subject,
                                  int verified);
int store__sqlite_ssf_subject_remove(struct store *st, const char *stream_id, const char *subject);
int store__sqlite_ssf_subject_count(struct store *st, const char *stream_id);
int store__sqlite_ssf_verify_add(struct store *st, const char *stream_id, const char *state,
                                 int64_t requested_ms);
int store__sqlite_ssf_verify_count(struct store *st, const char *stream_id);

/* The SSF transmitter's SET outbox on SQLite (sqlite_ssf_out.c); see struct store_ops. */
int store__sqlite_ssf_subject_has(struct store *st, const char *stream_id, const char *subject);
int store__sqlite_ssf_out_add(struct store *st, struct store_ssf_out *rows, size_t n);
int store__sqlite_ssf_out_delete(struct store *st, int64_t id);
int store__sqlite_ssf_out_delete_jti(struct store *st, const char *stream_id, const char *jti);
int store__sqlite_ssf_out_retry(struct store *st, int64_t id, int attempts, int64_t due_ms);
int store__sqlite_ssf_out_each(struct store *st,
                               int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx);
int store__sqlite_ssf_out_adopt(struct store *st, int64_t now_ms,
                                int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx);

/* UnifiedPush provider endpoints and messages on SQLite (sqlite_up.c); see struct store_ops. */
int store__sqlite_up_endpoint_add(struct store *st, const struct store_up_endpoint *e);
int store__sqlite_up_endpoint_get(struct store *st, const char *id, struct store_up_endpoint *out);
int store__sqlite_up_endpoint_delete(struct store *st, const char *tenant, const char *owner,
                                     const char *id);
int store__sqlite_up_endpoint_count(struct store *st, const char *tenant, const char *owner);
int store__sqlite_up_endpoint_each(struct store *st, const char *tenant, const char *owner,
                                   int (*visit)(void *ctx, const struct store_up_endpoint *e),
                                   void *ctx);
int store__sqlite_up_msg_add(struct store *st, const char *endpoint, const void *body, size_t len,
                             int64_t created_ms, int64_t *id);
int store__sqlite_up_msg_each(struct store *st, const char *tenant, const char *owner,
                              int64_t after, size_t limit,
                              int (*visit)(void *ctx, const struct store_up_msg *m), void *ctx);
int store__sqlite_up_msg_ack(struct store *st, const char *tenant, const char *owner,
                             int64_t up_to);
int store__sqlite_up_msg_expire(struct store *st, int64_t before_ms);

#endif
