/*
 * Push subscriptions and their outbox on SQLite. Deleting a subscription deletes its pending
 * messages (foreign key ON DELETE CASCADE, enabled per connection in sqlite.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define SUB_COLUMNS                                                                                \
    "id, channel, endpoint, p256dh, auth, vapid_key, tenant, stream, user, session, identity, "    \
    "expires_at, created_at"

/* One row of SUB_COLUMNS into out (owned strings). 0, or -1 when out of memory. */
static int read_sub(sqlite3_stmt *q, struct store_sub *out)
{
    const void *k = sqlite3_column_blob(q, 3), *a = sqlite3_column_blob(q, 4);

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(q, 0);
    out->channel = store__col_text(q, 1);
    out->endpoint = store__col_text(q, 2);
    if (k && a && sqlite3_column_bytes(q, 3) == (int)sizeof(out->p256dh) &&
        sqlite3_column_bytes(q, 4) == (int)sizeof(out->auth)) {
        memcpy(out->p256dh, k, sizeof(out->p256dh));
        memcpy(out->auth, a, sizeof(out->auth));
        out->has_keys = 1;
    }
    out->vapid_key = store__col_text(q, 5);
    out->tenant = store__col_text(q, 6);
    out->stream = store__col_text(q, 7);
    out->user = store__col_text(q, 8);
    out->session = store__col_text(q, 9);
    out->identity = store__col_text(q, 10);
    out->expires_at = sqlite3_column_int64(q, 11);
    out->created_at = sqlite3_column_int64(q, 12);
    if (!out->channel || !out->endpoint || !out->tenant || !out->stream || !out->user ||
        !out->session || !out->identity) {
        store_sub_clear(out);
        return -1;
    }
    return 0;
}

int store__sqlite_sub_insert(struct store *st, struct store_sub *s)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO push_sub (channel, endpoint, p256dh, auth, vapid_key, "
                           "tenant, stream, user, session, identity, expires_at, created_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                           "ON CONFLICT (channel, endpoint) DO NOTHING",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, s->channel);
    store__bind_text(q, 2, s->endpoint);
    if (s->has_keys) {
        sqlite3_bind_blob(q, 3, s->p256dh, (int)sizeof(s->p256dh), SQLITE_STATIC);
        sqlite3_bind_blob(q, 4, s->auth, (int)sizeof(s->auth), SQLITE_STATIC);
    }
    store__bind_text(q, 5, s->vapid_key);
    store__bind_text(q, 6, s->tenant);
    store__bind_text(q, 7, s->stream);
    store__bind_text(q, 8, s->user ? s->user : "");
    store__bind_text(q, 9, s->session ? s->session : "");
    store__bind_text(q, 10, s->identity ? s->identity : "{}");
    sqlite3_bind_int64(q, 11, s->expires_at);
    sqlite3_bind_int64(q, 12, s->created_at);
    step = sqlite3_step(q);
    if (step != SQLITE_DONE)
        goto out;
    if (sqlite3_changes(db) == 0) {
        rc = 1;
        goto out;
    }
    s->id = sqlite3_last_insert_rowid(db);
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_sub_get(struct store *st, const char *channel, const char *endpoint,
                          struct store_sub *out)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT " SUB_COLUMNS " FROM push_sub WHERE channel = ?1 AND "
                           "endpoint = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, channel);
    store__bind_text(q, 2, endpoint);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE)
        rc = 0;
    else if (step == SQLITE_ROW)
        rc = read_sub(q, out) == 0 ? 1 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

/* Run a DELETE with up to four text arguments (NULL binds NULL); the rows deleted, or -1. */
static int run_delete(struct store *st, const char *sql, const char *a1, const char *a2,
                      const char *a3, const char *a4)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, a1);
    store__bind_text(q, 2, a2);
    store__bind_text(q, 3, a3);
    store__bind_text(q, 4, a4);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(db);
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_sub_delete(struct store *st, const char *channel, int64_t id,
                             const char *endpoint)
{
    char num[24];

    if (endpoint)
        return run_delete(st, "DELETE FROM push_sub WHERE channel = ?1 AND endpoint = ?2", channel,
                          endpoint, NULL, NULL);
    if (id == 0)
        return run_delete(st, "DELETE FROM push_sub WHERE channel = ?1", channel, NULL, NULL, NULL);
    snprintf(num, sizeof(num), "%lld", (long long)id);
    return run_delete(st, "DELETE FROM push_sub WHERE channel = ?1 AND id = CAST(?2 AS INTEGER)",
                      channel, num, NULL, NULL);
}

int store__sqlite_sub_delete_session(struct store *st, const char *channel, const char *tenant,
                                     const char *user, const char *session)
{
    /* NULL user or session: any (a revoked session of unknown user, all of a user's). */
    return run_delete(st,
                      "DELETE FROM push_sub WHERE channel = ?1 AND tenant = ?2 AND "
                      "(?3 IS NULL OR user = ?3) AND (?4 IS NULL OR session = ?4)",
                      channel, tenant, user, session);
}

int store__sqlite_sub_rebind(struct store *st, const struct store_sub *s)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(
            db,
            "UPDATE push_sub SET stream = ?2, user = ?3, session = ?4, identity = ?5, "
            "expires_at = ?6, tenant = ?7 WHERE id = ?1",
            -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, s->id);
    store__bind_text(q, 2, s->stream);
    store__bind_text(q, 3, s->user ? s->user : "");
    store__bind_text(q, 4, s->session ? s->session : "");
    store__bind_text(q, 5, s->identity ? s->identity : "{}");
    sqlite3_bind_int64(q, 6, s->expires_at);
    store__bind_text(q, 7, s->tenant);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(db) == 1 ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_sub_delete_vapid(struct store *st, const char *channel, const char *keep)
{
    return run_delete(st,
                      "DELETE FROM push_sub WHERE channel = ?1 AND vapid_key IS NOT NULL AND "
                      "vapid_key <> ?2",
                      channel, keep, NULL, NULL);
}

int store__sqlite_sub_count_user(struct store *st, const char *channel, const char *tenant,
                                 const char *user)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT count(*) FROM push_sub WHERE channel = ?1 AND tenant = ?2 "
                           "AND user = ?3",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, channel);
    store__bind_text(q, 2, tenant);
    store__bind_text(q, 3, user);
    if (sqlite3_step(q) == SQLITE_ROW)
        rc = sqlite3_column_int(q, 0);
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_sub_each(struct store *st, const char *channel,
                           int (*visit)(void *ctx, const struct store_sub *s), void *ctx)
{
    sqlite3_stmt *q = NULL;
    struct store_sub s;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT " SUB_COLUMNS " FROM push_sub WHERE channel = ?1 ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, channel);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int v;

        if (read_sub(q, &s) != 0)
            goto out;
        v = visit(ctx, &s);
        store_sub_clear(&s);
        if (v != 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_msg_add(struct store *st, struct store_msg *msgs, size_t n)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    size_t i;
    int rc = -1;

    if (n == 0)
        return 0;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           /* a subscription removed meanwhile (by another process) gets
                            * nothing, without failing the others' rows */
                           "INSERT INTO push_outbox (sub_id, event_id, body, created_ms, "
                           "expires_ms, due_ms, attempts, node) "
                           "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
                           "WHERE EXISTS (SELECT 1 FROM push_sub WHERE id = ?1) "
                           "ON CONFLICT (sub_id, event_id) DO NOTHING",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    for (i = 0; i < n; i++) {
        struct store_msg *m = &msgs[i];

        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, m->sub_id);
        store__bind_text(q, 2, m->event_id);
        sqlite3_bind_blob(q, 3, m->body ? (const void *)m->body : "", (int)m->body_len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, m->created_ms);
        sqlite3_bind_int64(q, 5, m->expires_ms);
        sqlite3_bind_int64(q, 6, m->due_ms);
        sqlite3_bind_int(q, 7, m->attempts);
        sqlite3_bind_text(q, 8, st->node, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto out;
        m->id = sqlite3_changes(db) ? sqlite3_last_insert_rowid(db) : 0;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    if (rc != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        for (i = 0; i < n; i++)
            msgs[i].id = 0;
    }
    return rc;
}

#define MSG_COLUMNS "id, sub_id, event_id, body, created_ms, expires_ms, due_ms, attempts"

/* One row of MSG_COLUMNS into m, borrowing the statement's memory until its next step. */
static void read_msg(sqlite3_stmt *q, struct store_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(q, 0);
    m->sub_id = sqlite3_column_int64(q, 1);
    m->event_id = (char *)sqlite3_column_text(q, 2);
    m->body = (unsigned char *)sqlite3_column_blob(q, 3);
    m->body_len = (size_t)sqlite3_column_bytes(q, 3);
    m->created_ms = sqlite3_column_int64(q, 4);
    m->expires_ms = sqlite3_column_int64(q, 5);
    m->due_ms = sqlite3_column_int64(q, 6);
    m->attempts = sqlite3_column_int(q, 7);
}

static int run_msg(struct store *st, const char *sql, int64_t id, int attempts, int64_t due)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_bind_parameter_count(q) >= 3) {
        sqlite3_bind_int(q, 2, attempts);
        sqlite3_bind_int64(q, 3, due);
    }
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_msg_delete(struct store *st, int64_t id)
{
    return run_msg(st, "DELETE FROM push_outbox WHERE id = ?1", id, 0, 0);
}

int store__sqlite_msg_retry(struct store *st, int64_t id, int attempts, int64_t due_ms)
{
    return run_msg(st, "UPDATE push_outbox SET attempts = ?2, due_ms = ?3 WHERE id = ?1", id,
                   attempts, due_ms);
}

int store__sqlite_msg_each(struct store *st, const char *channel,
                           int (*visit)(void *ctx, const struct store_msg *m), void *ctx)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT o.id, o.sub_id, o.event_id, o.body, o.created_ms, "
                           "o.expires_ms, o.due_ms, o.attempts FROM push_outbox o JOIN push_sub s "
                           "ON s.id = o.sub_id WHERE s.channel = ?1 AND o.node = ?2 "
                           "ORDER BY o.id",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, channel);
    store__bind_text(q, 2, st->node);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_msg m;

        read_msg(q, &m);
        if (m.event_id == NULL || visit(ctx, &m) != 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

static int by_msg_id(const void *a, const void *b)
{
    const struct store_msg *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

int store__sqlite_msg_adopt(struct store *st, const char *channel, int64_t now_ms,
                            int (*visit)(void *ctx, const struct store_msg *m), void *ctx)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    struct store_msg *rows = NULL, *grown;
    size_t n = 0, cap = 0, i;
    int rc = -1, step;

    /* BEGIN IMMEDIATE: the rows are chosen and taken under the write lock, so two bridges
     * adopting at once take each row once. The visits come after COMMIT. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "UPDATE push_outbox SET node = ?2 WHERE node <> ?2 AND sub_id IN "
                           "(SELECT id FROM push_sub WHERE channel = ?1) AND NOT EXISTS "
                           "(SELECT 1 FROM nodes n WHERE n.node = push_outbox.node AND "
                           "n.alive_until >= ?3) RETURNING " MSG_COLUMNS,
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, channel);
    store__bind_text(q, 2, st->node);
    sqlite3_bind_int64(q, 3, now_ms);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_msg m;

        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(rows, cap * sizeof(*rows));
            if (grown == NULL)
                goto out;
            rows = grown;
        }
        read_msg(q, &m);
        /* copies: the statement's memory goes with the next step */
        rows[n].event_id = m.event_id ? strdup(m.event_id) : NULL;
        rows[n].body = malloc(m.body_len ? m.body_len : 1);
        if (rows[n].event_id == NULL || rows[n].body == NULL) {
            store_msg_clear(&rows[n]);
            goto out;
        }
        if (m.body_len)
            memcpy(rows[n].body, m.body, m.body_len);
        m.event_id = rows[n].event_id;
        m.body = rows[n].body;
        rows[n++] = m;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    /* SQLite promises no order for the rows of RETURNING */
    if (n > 1)
        qsort(rows, n, sizeof(*rows), by_msg_id);
    for (i = 0; i < n; i++)
        if (visit(ctx, &rows[i]) != 0)
            break;
    rc = i == n ? (int)n : -1;
out:
    sqlite3_finalize(q);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    for (i = 0; i < n; i++)
        store_msg_clear(&rows[i]);
    free(rows);
    return rc;
}
