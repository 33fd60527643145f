/*
 * The SSF transmitter's SET outbox on SQLite (table ssf_outbox), and the subject lookup that
 * decides what goes in it. Rows go with their stream (ON DELETE CASCADE).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define OUT_COLUMNS "id, stream_id, jti, claims, created_ms, due_ms, attempts"

/* One row of OUT_COLUMNS into o, borrowing the statement's memory until its next step. */
static void read_out(sqlite3_stmt *q, struct store_ssf_out *o)
{
    o->id = sqlite3_column_int64(q, 0);
    o->stream_id = (char *)sqlite3_column_text(q, 1);
    o->jti = (char *)sqlite3_column_text(q, 2);
    o->claims = (char *)sqlite3_column_text(q, 3);
    o->created_ms = sqlite3_column_int64(q, 4);
    o->due_ms = sqlite3_column_int64(q, 5);
    o->attempts = sqlite3_column_int(q, 6);
}

static int exec_ids(struct store *st, const char *sql, int64_t a, int64_t b, int64_t c, int n)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(q, 1, a);
    if (n > 1)
        sqlite3_bind_int64(q, 2, b);
    if (n > 2)
        sqlite3_bind_int64(q, 3, c);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_subject_has(struct store *st, const char *stream_id, const char *subject)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT 1 FROM ssf_subject WHERE stream_id = ?1 AND subject = ?2", -1,
                           &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, stream_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, subject, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = step == SQLITE_ROW;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_out_add(struct store *st, struct store_ssf_out *rows, size_t n)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (n == 0)
        return 0;
    /* One transaction: one disk write for every stream an event goes to. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO ssf_outbox (stream_id, jti, claims, created_ms, due_ms, "
                           "attempts, node) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) "
                           "ON CONFLICT (stream_id, jti) DO NOTHING",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, rows[i].stream_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, rows[i].jti, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, rows[i].claims, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, rows[i].created_ms);
        sqlite3_bind_int64(q, 5, rows[i].due_ms);
        sqlite3_bind_text(q, 6, st->node, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto out;
        rows[i].id = sqlite3_changes(db) > 0 ? sqlite3_last_insert_rowid(db) : 0;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    if (rc != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        for (size_t i = 0; i < n; i++)
            rows[i].id = 0;
    }
    return rc;
}

int store__sqlite_ssf_out_delete(struct store *st, int64_t id)
{
    return exec_ids(st, "DELETE FROM ssf_outbox WHERE id = ?1", id, 0, 0, 1);
}

int store__sqlite_ssf_out_delete_jti(struct store *st, const char *stream_id, const char *jti)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "DELETE FROM ssf_outbox WHERE stream_id = ?1 AND jti = ?2", -1, &q,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, stream_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, jti, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(store__sqlite_db(st)) > 0 ? 1 : 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_out_retry(struct store *st, int64_t id, int attempts, int64_t due_ms)
{
    return exec_ids(st, "UPDATE ssf_outbox SET attempts = ?2, due_ms = ?3 WHERE id = ?1", id,
                    attempts, due_ms, 3);
}

int store__sqlite_ssf_out_each(struct store *st,
                               int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT " OUT_COLUMNS " FROM ssf_outbox WHERE node = ?1 ORDER BY id", -1,
                           &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, st->node, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_ssf_out o;

        read_out(q, &o);
        if (o.stream_id == NULL || o.jti == NULL || o.claims == NULL || visit(ctx, &o) != 0)
            goto out;
    }
    if (step != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

static int by_out_id(const void *a, const void *b)
{
    const struct store_ssf_out *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Copy the strings of o, borrowed from a statement, into *to (owned). 0, or -1. */
static int keep_out(const struct store_ssf_out *o, struct store_ssf_out *to)
{
    *to = *o;
    to->stream_id = o->stream_id ? strdup(o->stream_id) : NULL;
    to->jti = o->jti ? strdup(o->jti) : NULL;
    to->claims = o->claims ? strdup(o->claims) : NULL;
    if (to->stream_id && to->jti && to->claims)
        return 0;
    store_ssf_out_clear(to);
    return -1;
}

int store__sqlite_ssf_out_adopt(struct store *st, int64_t now_ms,
                                int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx)
{
    sqlite3 *db = store__sqlite_db(st);
    sqlite3_stmt *q = NULL;
    struct store_ssf_out *rows = NULL, *grown, o;
    size_t n = 0, cap = 0, i;
    int rc = -1, step;

    /* As msg_adopt (sqlite_push.c): chosen and taken under the write lock, visited after. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "UPDATE ssf_outbox SET node = ?1 WHERE node <> ?1 AND NOT EXISTS "
                           "(SELECT 1 FROM nodes n WHERE n.node = ssf_outbox.node AND "
                           "n.alive_until >= ?2) RETURNING " OUT_COLUMNS,
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, st->node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_ms);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(rows, cap * sizeof(*rows));
            if (grown == NULL)
                goto out;
            rows = grown;
        }
        read_out(q, &o);
        if (keep_out(&o, &rows[n]) != 0)
            goto out;
        n++;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (n > 1) /* SQLite promises no order for the rows of RETURNING */
        qsort(rows, n, sizeof(*rows), by_out_id);
    for (i = 0; i < n; i++)
        if (visit(ctx, &rows[i]) != 0)
            break;
    rc = i == n ? (int)n : -1;
out:
    sqlite3_finalize(q);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    for (i = 0; i < n; i++)
        store_ssf_out_clear(&rows[i]);
    free(rows);
    return rc;
}
