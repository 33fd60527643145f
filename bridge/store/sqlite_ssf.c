/*
 * Streams of the SSF transmitter on SQLite (schema version 3). A stream's subjects and
 * verification requests are deleted with it (foreign keys ON DELETE CASCADE, enabled per
 * connection in sqlite.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

#define STREAM_COLUMNS "id, tenant, aud, config, status, reason, created_at, updated_at"

/* One row of STREAM_COLUMNS into out (owned strings). 0, or -1 when out of memory. */
static int read_stream(sqlite3_stmt *q, struct store_ssf_stream *out)
{
    memset(out, 0, sizeof(*out));
    out->id = store__col_text(q, 0);
    out->tenant = store__col_text(q, 1);
    out->aud = store__col_text(q, 2);
    out->config = store__col_text(q, 3);
    out->status = store__col_text(q, 4);
    out->reason = store__col_text(q, 5);
    out->created_at = sqlite3_column_int64(q, 6);
    out->updated_at = sqlite3_column_int64(q, 7);
    if (!out->id || !out->tenant || !out->aud || !out->config || !out->status ||
        (sqlite3_column_type(q, 5) != SQLITE_NULL && !out->reason)) {
        store_ssf_stream_clear(out);
        return -1;
    }
    return 0;
}

/* Prepare sql, bind the strings args (NULL binds NULL), step it once: SQLITE_DONE/ROW or -1. */
static int run(struct store *st, const char *sql, const char *const *args, size_t n,
               sqlite3_stmt **keep)
{
    sqlite3_stmt *q = NULL;
    int step;

    if (sqlite3_prepare_v2(store__sqlite_db(st), sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        store__bind_text(q, (int)i + 1, args[i]);
    step = sqlite3_step(q);
    if (keep && step == SQLITE_ROW) {
        *keep = q;
        return step;
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE || step == SQLITE_ROW ? step : -1;
}

int store__sqlite_ssf_stream_put(struct store *st, const struct store_ssf_stream *s)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "INSERT INTO ssf_stream (" STREAM_COLUMNS ") "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                           "ON CONFLICT (id) DO UPDATE SET aud = ?3, config = ?4, status = ?5, "
                           "reason = ?6, updated_at = ?8 WHERE tenant = ?2",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, s->id);
    store__bind_text(q, 2, s->tenant);
    store__bind_text(q, 3, s->aud);
    store__bind_text(q, 4, s->config);
    store__bind_text(q, 5, s->status);
    store__bind_text(q, 6, s->reason);
    sqlite3_bind_int64(q, 7, s->created_at);
    sqlite3_bind_int64(q, 8, s->updated_at);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_stream_get(struct store *st, const char *tenant, const char *id,
                                 struct store_ssf_stream *out)
{
    const char *args[] = {tenant, id};
    sqlite3_stmt *q = NULL;
    int step, rc;

    memset(out, 0, sizeof(*out));
    step = run(st, "SELECT " STREAM_COLUMNS " FROM ssf_stream WHERE tenant = ?1 AND id = ?2", args,
               2, &q);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? 0 : -1;
    rc = read_stream(q, out) == 0 ? 1 : -1;
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_stream_delete(struct store *st, const char *tenant, const char *id)
{
    const char *args[] = {tenant, id};

    if (run(st, "DELETE FROM ssf_stream WHERE tenant = ?1 AND id = ?2", args, 2, NULL) < 0)
        return -1;
    return sqlite3_changes(store__sqlite_db(st)) > 0 ? 1 : 0;
}

int store__sqlite_ssf_stream_each(struct store *st, const char *tenant,
                                  int (*visit)(void *ctx, const struct store_ssf_stream *s),
                                  void *ctx)
{
    sqlite3_stmt *q = NULL;
    struct store_ssf_stream s;
    int rc = -1, step;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "SELECT " STREAM_COLUMNS " FROM ssf_stream WHERE tenant = ?1 "
                           "ORDER BY created_at, id",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, tenant);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int v;

        if (read_stream(q, &s) != 0)
            goto out;
        v = visit(ctx, &s);
        store_ssf_stream_clear(&s);
        if (v != 0)
            goto out;
    }
    if (step != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_subject_add(struct store *st, const char *stream_id, const char *subject,
                                  int verified)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    /* Adding a subject again updates "verified" (SSF 8.1.3.2: the receiver's latest word). */
    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "INSERT INTO ssf_subject (stream_id, subject, verified, created_at) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (stream_id, subject) "
                           "DO UPDATE SET verified = ?3",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, stream_id);
    store__bind_text(q, 2, subject);
    if (verified < 0)
        sqlite3_bind_null(q, 3);
    else
        sqlite3_bind_int(q, 3, verified != 0);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_subject_remove(struct store *st, const char *stream_id, const char *subject)
{
    const char *args[] = {stream_id, subject};

    if (run(st, "DELETE FROM ssf_subject WHERE stream_id = ?1 AND subject = ?2", args, 2, NULL) < 0)
        return -1;
    return sqlite3_changes(store__sqlite_db(st));
}

static int count(struct store *st, const char *sql, const char *stream_id)
{
    sqlite3_stmt *q = NULL;
    int n;

    if (run(st, sql, &stream_id, 1, &q) != SQLITE_ROW)
        return -1;
    n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n;
}

int store__sqlite_ssf_subject_count(struct store *st, const char *stream_id)
{
    return count(st, "SELECT count(*) FROM ssf_subject WHERE stream_id = ?1", stream_id);
}

int store__sqlite_ssf_verify_add(struct store *st, const char *stream_id, const char *state,
                                 int64_t requested_ms)
{
    sqlite3_stmt *q = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(store__sqlite_db(st),
                           "INSERT INTO ssf_verify (stream_id, state, requested_ms) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &q, NULL) != SQLITE_OK)
        goto out;
    store__bind_text(q, 1, stream_id);
    store__bind_text(q, 2, state);
    sqlite3_bind_int64(q, 3, requested_ms);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(q);
    return rc;
}

int store__sqlite_ssf_verify_count(struct store *st, const char *stream_id)
{
    return count(st, "SELECT count(*) FROM ssf_verify WHERE stream_id = ?1", stream_id);
}
