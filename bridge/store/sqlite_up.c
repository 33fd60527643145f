/*
 * UnifiedPush provider endpoints and their pending messages on SQLite. Deleting an endpoint
 * deletes its messages (foreign key ON DELETE CASCADE, enabled per connection in sqlite.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static int prepare(struct store *st, const char *sql, sqlite3_stmt **q)
{
    return sqlite3_prepare_v2(store__sqlite_db(st), sql, -1, q, NULL) == SQLITE_OK ? 0 : -1;
}

static void copy_col(sqlite3_stmt *q, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);

    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static void read_endpoint(sqlite3_stmt *q, struct store_up_endpoint *e)
{
    memset(e, 0, sizeof(*e));
    copy_col(q, 0, e->id, sizeof(e->id));
    copy_col(q, 1, e->tenant, sizeof(e->tenant));
    copy_col(q, 2, e->owner, sizeof(e->owner));
    e->created_at = sqlite3_column_int64(q, 3);
}

/* Run a statement that returns no rows; the number of rows changed, or -1. */
static int run_changes(struct store *st, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q) == SQLITE_DONE ? sqlite3_changes(store__sqlite_db(st)) : -1;

    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_endpoint_add(struct store *st, const struct store_up_endpoint *e)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (prepare(st,
                "INSERT INTO up_endpoint (id, tenant, owner, created_at) VALUES (?1, ?2, ?3, ?4)",
                &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, e->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, e->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, e->created_at);
    step = sqlite3_step(q);
    if (step == SQLITE_DONE)
        rc = 0;
    else if (step == SQLITE_CONSTRAINT)
        rc = 1;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_endpoint_get(struct store *st, const char *id, struct store_up_endpoint *out)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step;

    if (prepare(st, "SELECT id, tenant, owner, created_at FROM up_endpoint WHERE id = ?1", &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        read_endpoint(q, out);
        rc = 1;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    }
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_endpoint_delete(struct store *st, const char *tenant, const char *owner,
                                     const char *id)
{
    sqlite3_stmt *q = NULL;

    if (prepare(st, "DELETE FROM up_endpoint WHERE id = ?1 AND tenant = ?2 AND owner = ?3", &q) !=
        0)
        return -1;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, owner, -1, SQLITE_STATIC);
    return run_changes(st, q);
}

int store__sqlite_up_endpoint_count(struct store *st, const char *tenant, const char *owner)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (prepare(st, "SELECT count(*) FROM up_endpoint WHERE tenant = ?1 AND owner = ?2", &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        rc = sqlite3_column_int(q, 0);
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_endpoint_each(struct store *st, const char *tenant, const char *owner,
                                   int (*visit)(void *ctx, const struct store_up_endpoint *e),
                                   void *ctx)
{
    sqlite3_stmt *q = NULL;
    struct store_up_endpoint e;
    int rc = -1, step;

    if (prepare(st,
                "SELECT id, tenant, owner, created_at FROM up_endpoint WHERE tenant = ?1 AND "
                "owner = ?2 ORDER BY created_at, rowid",
                &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        read_endpoint(q, &e);
        if (visit(ctx, &e) != 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? 0 : -1;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_msg_add(struct store *st, const char *endpoint, const void *body, size_t len,
                             int64_t created_ms, int64_t *id)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (len > (size_t)INT32_MAX)
        return -1;
    if (prepare(st, "INSERT INTO up_message (endpoint, body, created_ms) VALUES (?1, ?2, ?3)",
                &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, endpoint, -1, SQLITE_STATIC);
    /* A zero-length blob still needs a non-NULL pointer, or it binds as NULL. */
    sqlite3_bind_blob(q, 2, len ? body : "", (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, created_ms);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    *id = sqlite3_last_insert_rowid(store__sqlite_db(st));
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_msg_each(struct store *st, const char *tenant, const char *owner,
                              int64_t after, size_t limit,
                              int (*visit)(void *ctx, const struct store_up_msg *m), void *ctx)
{
    sqlite3_stmt *q = NULL;
    int rc = -1, step, n = 0;

    if (prepare(st,
                "SELECT m.id, m.endpoint, m.body, m.created_ms FROM up_message m JOIN "
                "up_endpoint e ON e.id = m.endpoint WHERE e.tenant = ?1 AND e.owner = ?2 AND "
                "m.id > ?3 ORDER BY m.id LIMIT ?4",
                &q) != 0)
        goto out;
    sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, after);
    sqlite3_bind_int64(q, 4, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_up_msg m = {
            .id = sqlite3_column_int64(q, 0),
            .endpoint = (const char *)sqlite3_column_text(q, 1),
            .body = sqlite3_column_blob(q, 2),
            .body_len = (size_t)sqlite3_column_bytes(q, 2),
            .created_ms = sqlite3_column_int64(q, 3),
        };

        if (m.endpoint == NULL)
            goto out;
        if (m.body == NULL) /* SQLite's answer for a zero-length blob */
            m.body = (const unsigned char *)"";
        n++;
        if (visit(ctx, &m) != 0)
            break;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        goto out;
    rc = n;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_up_msg_ack(struct store *st, const char *tenant, const char *owner, int64_t up_to)
{
    sqlite3_stmt *q = NULL;

    if (prepare(st,
                "DELETE FROM up_message WHERE id <= ?3 AND endpoint IN (SELECT id FROM "
                "up_endpoint WHERE tenant = ?1 AND owner = ?2)",
                &q) != 0)
        return -1;
    sqlite3_bind_text(q, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, up_to);
    return run_changes(st, q);
}

int store__sqlite_up_msg_expire(struct store *st, int64_t before_ms)
{
    sqlite3_stmt *q = NULL;

    if (prepare(st, "DELETE FROM up_message WHERE created_ms < ?1", &q) != 0)
        return -1;
    sqlite3_bind_int64(q, 1, before_ms);
    return run_changes(st, q);
}
