/*
 * The embedded default store: SQLite in WAL mode (readers never wait for the writer, and a
 * crash loses at most the transaction being written). The schema is versioned; migrations are
 * applied in order, each in its own transaction, when a store is opened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "errmsg.h"
#include "store_int.h"

/* migrations[i] takes the schema from version i to i + 1. Append only; never edit one. */
static const char *const migrations[] = {
    "CREATE TABLE kv ("
    "  ns TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (ns, key)"
    ") WITHOUT ROWID;",
    /* 2: push subscriptions and their outbox; a subscription's messages go with it. */
    "CREATE TABLE push_sub ("
    /* AUTOINCREMENT: an id is never given again, so a message still queued for a removed
     * subscription cannot reach the next one. */
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  channel TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL,"
    "  p256dh BLOB,"
    "  auth BLOB,"
    "  vapid_key TEXT,"
    "  tenant TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  session TEXT NOT NULL,"
    "  identity TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (channel, endpoint)"
    ");"
    "CREATE INDEX push_sub_session ON push_sub (channel, tenant, user, session);"
    "CREATE TABLE push_outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  sub_id INTEGER NOT NULL REFERENCES push_sub (id) ON DELETE CASCADE,"
    "  event_id TEXT NOT NULL,"
    "  body BLOB NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (sub_id, event_id)"
    ");",
    /* 3: streams of the SSF transmitter (SSF 1.0 section 8), their subjects and the
     * verification requests waiting for delivery; all go with their stream. */
    "CREATE TABLE ssf_stream ("
    "  id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL,"
    "  aud TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reason TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX ssf_stream_tenant ON ssf_stream (tenant, created_at);"
    "CREATE TABLE ssf_subject ("
    "  stream_id TEXT NOT NULL REFERENCES ssf_stream (id) ON DELETE CASCADE,"
    "  subject TEXT NOT NULL,"
    "  verified INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (stream_id, subject)"
    ");"
    "CREATE TABLE ssf_verify ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  stream_id TEXT NOT NULL REFERENCES ssf_stream (id) ON DELETE CASCADE,"
    "  state TEXT,"
    "  requested_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX ssf_verify_stream ON ssf_verify (stream_id);",
    /* The SSF transmitter's SET outbox: one row per SET and stream until delivered,
     * acknowledged or given up; a stream's SETs go with it. */
    "CREATE TABLE ssf_outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  stream_id TEXT NOT NULL REFERENCES ssf_stream (id) ON DELETE CASCADE,"
    "  jti TEXT NOT NULL,"
    "  claims TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  due_ms INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (stream_id, jti)"
    ");",
    /* UnifiedPush provider: endpoints by their opaque id, and the messages their distributors
     * have not received yet (bodies as BLOBs, byte for byte); messages go with their endpoint.
     * AUTOINCREMENT: a message id is never given twice, so an acknowledged id stays past. */
    "CREATE TABLE up_endpoint ("
    "  id TEXT PRIMARY KEY,"
    "  tenant TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX up_endpoint_owner ON up_endpoint (tenant, owner);"
    "CREATE TABLE up_message ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  endpoint TEXT NOT NULL REFERENCES up_endpoint (id) ON DELETE CASCADE,"
    "  body BLOB NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX up_message_endpoint ON up_message (endpoint, id);"
    "CREATE INDEX up_message_created ON up_message (created_ms);",
    /* 6: several bridges on one store. An outbox row belongs to the node (bridge) that added
     * it, '' for the rows from before; nodes says until when each bridge is alive, and the
     * rows of one that is not are adopted by another. */
    "CREATE TABLE nodes ("
    "  node TEXT PRIMARY KEY,"
    "  alive_until INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "ALTER TABLE push_outbox ADD COLUMN node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE ssf_outbox ADD COLUMN node TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX push_outbox_node ON push_outbox (node, id);"
    "CREATE INDEX ssf_outbox_node ON ssf_outbox (node, id);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store__sqlite_schema_latest(void)
{
    return N_MIGRATIONS;
}

char *store__col_text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);

    return t ? strdup((const char *)t) : NULL;
}

void store__bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

sqlite3 *store__sqlite_db(struct store *st)
{
    return ((struct sqlite_store *)st)->db;
}

static int read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &q, NULL) !=
        SQLITE_OK)
        goto out;
    if (sqlite3_step(q) != SQLITE_ROW)
        goto out;
    *version = sqlite3_column_type(q, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(q, 0);
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    int version;
    char sql[96];

    if (read_version(db, &version) < 0) {
        mqp_errmsg(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (version > N_MIGRATIONS) {
        mqp_errmsg(err, errlen, "the store has schema version %d, newer than this build's %d",
                   version, N_MIGRATIONS);
        return -1;
    }
    for (; version < N_MIGRATIONS; version++) {
        snprintf(sql, sizeof(sql),
                 "DELETE FROM schema_version; INSERT INTO schema_version "
                 "VALUES (%d);",
                 version + 1);
        /* BEGIN IMMEDIATE: two bridges opening one file migrate one after the other. */
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            mqp_errmsg(err, errlen, "migration to schema version %d failed: %s", version + 1,
                       sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

static void sqlite_close(struct store *st)
{
    struct sqlite_store *s = (struct sqlite_store *)st;

    sqlite3_close(s->db);
    free(s);
}

static int sqlite_open(const char *location, struct store **out, char *err, size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    int rc = -1;

    if (s == NULL) {
        mqp_errmsg(err, errlen, "out of memory");
        return -1;
    }
    s->base.ops = &store__sqlite_ops;
    if (sqlite3_open_v2(location, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        mqp_errmsg(err, errlen, "cannot open %.200s: %s", location,
                   s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    /* SQLite opens a file it may not write (read-only file or filesystem) for reading only,
     * and that connection stays so once the file is writable again: the bridge would run with
     * every event refused for good. Refuse it at start instead; a restart after the repair
     * gets a writable store (the broker keeps the events meanwhile). */
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        mqp_errmsg(err, errlen, "%.200s is read-only (the file or its filesystem)", location);
        goto out;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* WAL with synchronous=NORMAL: durable across process crashes, one fsync per checkpoint. */
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        mqp_errmsg(err, errlen, "cannot configure %.200s: %s", location, sqlite3_errmsg(s->db));
        goto out;
    }
    if (migrate(s->db, err, errlen) < 0)
        goto out;
    *out = &s->base;
    s = NULL;
    rc = 0;
out:
    if (s)
        sqlite_close(&s->base);
    return rc;
}

static int sqlite_schema_version(struct store *st)
{
    int version;

    return read_version(store__sqlite_db(st), &version) < 0 ? -1 : version;
}

static int run_kv(struct store *st, const char *sql, const char *ns, const char *key,
                  const void *val, size_t len)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (len > (size_t)INT32_MAX)
        return -1;
    if (sqlite3_prepare_v2(store__sqlite_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    if (val != NULL && (sqlite3_bind_blob(q, 3, val, (int)len, SQLITE_STATIC) != SQLITE_OK ||
                        sqlite3_bind_int64(q, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK))
        goto out;
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_kv_put(struct store *st, const char *ns, const char *key, const void *val,
                         size_t len)
{
    /* An empty value still needs a non-NULL pointer, or the blob binds as NULL. */
    return run_kv(st,
                  "INSERT INTO kv (ns, key, value, updated_at) VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT (ns, key) DO UPDATE SET value = ?3, updated_at = ?4",
                  ns, key, val ? val : "", len);
}

static int sqlite_kv_del(struct store *st, const char *ns, const char *key)
{
    return run_kv(st, "DELETE FROM kv WHERE ns = ?1 AND key = ?2", ns, key, NULL, 0);
}

static int sqlite_kv_get(struct store *st, const char *ns, const char *key, void **val, size_t *len)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;
    const void *blob;
    int n;

    *val = NULL;
    *len = 0;
    if (sqlite3_prepare_v2(store__sqlite_db(st), "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_bind_text(q, 1, ns, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    blob = sqlite3_column_blob(q, 0);
    n = sqlite3_column_bytes(q, 0);
    /* One spare byte so text values come back NUL-terminated. */
    *val = malloc((size_t)n + 1);
    if (*val == NULL)
        goto out;
    if (n > 0)
        memcpy(*val, blob, (size_t)n);
    ((char *)*val)[n] = '\0';
    *len = (size_t)n;
    rc = 1;
out:
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_node_beat(struct store *st, const char *node, int64_t now_ms, int64_t ttl_ms)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "INSERT INTO nodes (node, alive_until) VALUES (?1, ?2) "
                           "ON CONFLICT (node) DO UPDATE SET alive_until = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_ms + ttl_ms);
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

static int sqlite_node_claim_dead(struct store *st, int64_t now_ms, char *node, size_t len)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "DELETE FROM nodes WHERE node = (SELECT node FROM nodes "
                           "WHERE alive_until < ?1 AND node <> ?2 ORDER BY alive_until LIMIT 1) "
                           "RETURNING node",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_text(q, 2, st->node, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        snprintf(node, len, "%s", (const char *)sqlite3_column_text(q, 0));
        rc = sqlite3_step(q) == SQLITE_DONE ? 1 : -1;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    }
out:
    sqlite3_finalize(q);
    return rc;
}

const struct store_ops store__sqlite_ops = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .kv_put = sqlite_kv_put,
    .kv_get = sqlite_kv_get,
    .kv_del = sqlite_kv_del,
    .sub_insert = store__sqlite_sub_insert,
    .sub_get = store__sqlite_sub_get,
    .sub_delete = store__sqlite_sub_delete,
    .sub_delete_session = store__sqlite_sub_delete_session,
    .sub_delete_vapid = store__sqlite_sub_delete_vapid,
    .sub_rebind = store__sqlite_sub_rebind,
    .sub_count_user = store__sqlite_sub_count_user,
    .sub_each = store__sqlite_sub_each,
    .msg_add = store__sqlite_msg_add,
    .msg_delete = store__sqlite_msg_delete,
    .msg_retry = store__sqlite_msg_retry,
    .msg_each = store__sqlite_msg_each,
    .msg_adopt = store__sqlite_msg_adopt,
    .ssf_stream_put = store__sqlite_ssf_stream_put,
    .ssf_stream_get = store__sqlite_ssf_stream_get,
    .ssf_stream_delete = store__sqlite_ssf_stream_delete,
    .ssf_stream_each = store__sqlite_ssf_stream_each,
    .ssf_subject_add = store__sqlite_ssf_subject_add,
    .ssf_subject_remove = store__sqlite_ssf_subject_remove,
    .ssf_subject_count = store__sqlite_ssf_subject_count,
    .ssf_verify_add = store__sqlite_ssf_verify_add,
    .ssf_verify_count = store__sqlite_ssf_verify_count,
    .ssf_subject_has = store__sqlite_ssf_subject_has,
    .ssf_out_add = store__sqlite_ssf_out_add,
    .ssf_out_delete = store__sqlite_ssf_out_delete,
    .ssf_out_delete_jti = store__sqlite_ssf_out_delete_jti,
    .ssf_out_retry = store__sqlite_ssf_out_retry,
    .ssf_out_each = store__sqlite_ssf_out_each,
    .ssf_out_adopt = store__sqlite_ssf_out_adopt,
    .up_endpoint_add = store__sqlite_up_endpoint_add,
    .up_endpoint_get = store__sqlite_up_endpoint_get,
    .up_endpoint_delete = store__sqlite_up_endpoint_delete,
    .up_endpoint_count = store__sqlite_up_endpoint_count,
    .up_endpoint_each = store__sqlite_up_endpoint_each,
    .up_msg_add = store__sqlite_up_msg_add,
    .up_msg_each = store__sqlite_up_msg_each,
    .up_msg_ack = store__sqlite_up_msg_ack,
    .up_msg_expire = store__sqlite_up_msg_expire,
    .node_beat = sqlite_node_beat,
    .node_claim_dead = sqlite_node_claim_dead,
};
