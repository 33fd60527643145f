/*
 * Streams of the SSF transmitter on PostgreSQL (schema version 3). A stream's subjects and
 * verification requests are deleted with it (ON DELETE CASCADE).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_int.h"

#define STREAM_COLUMNS "id, tenant, aud, config, status, reason, created_at, updated_at"

/* Row i of STREAM_COLUMNS into out (owned strings). 0, or -1 when out of memory. */
static int read_stream(const PGresult *r, int i, struct store_ssf_stream *out)
{
    memset(out, 0, sizeof(*out));
    out->id = pg__col_dup(r, i, 0);
    out->tenant = pg__col_dup(r, i, 1);
    out->aud = pg__col_dup(r, i, 2);
    out->config = pg__col_dup(r, i, 3);
    out->status = pg__col_dup(r, i, 4);
    out->reason = pg__col_dup(r, i, 5);
    out->created_at = pg__col_int(r, i, 6);
    out->updated_at = pg__col_int(r, i, 7);
    if (!out->id || !out->tenant || !out->aud || !out->config || !out->status ||
        (pg__col_text(r, i, 5) && !out->reason)) {
        store_ssf_stream_clear(out);
        return -1;
    }
    return 0;
}

/* count(*) of a query with one text parameter, or -1. */
static int count(struct store *st, const char *sql, const char *arg)
{
    struct pg_params a = {0};
    PGresult *r;
    int n;

    pg__text(&a, arg);
    r = pg__exec(st, sql, &a);
    if (r == NULL)
        return -1;
    n = (int)pg__col_int(r, 0, 0);
    PQclear(r);
    return n;
}

int store__pg_ssf_stream_put(struct store *st, const struct store_ssf_stream *s)
{
    struct pg_params a = {0};

    pg__text(&a, s->id);
    pg__text(&a, s->tenant);
    pg__text(&a, s->aud);
    pg__text(&a, s->config);
    pg__text(&a, s->status);
    pg__text(&a, s->reason);
    pg__int(&a, s->created_at);
    pg__int(&a, s->updated_at);
    /* another tenant's stream of that id stays as it is */
    return pg__run(st,
                   "INSERT INTO ssf_stream (" STREAM_COLUMNS ") "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                   "ON CONFLICT (id) DO UPDATE SET aud = EXCLUDED.aud, "
                   "config = EXCLUDED.config, status = EXCLUDED.status, "
                   "reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at "
                   "WHERE ssf_stream.tenant = EXCLUDED.tenant",
                   &a);
}

int store__pg_ssf_stream_get(struct store *st, const char *tenant, const char *id,
                             struct store_ssf_stream *out)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    memset(out, 0, sizeof(*out));
    pg__text(&a, tenant);
    pg__text(&a, id);
    r = pg__exec(st, "SELECT " STREAM_COLUMNS " FROM ssf_stream WHERE tenant = $1 AND id = $2", &a);
    if (r == NULL)
        return -1;
    rc = PQntuples(r) == 0 ? 0 : read_stream(r, 0, out) == 0 ? 1 : -1;
    PQclear(r);
    return rc;
}

int store__pg_ssf_stream_delete(struct store *st, const char *tenant, const char *id)
{
    struct pg_params a = {0};
    int n;

    pg__text(&a, tenant);
    pg__text(&a, id);
    n = pg__changes(st, "DELETE FROM ssf_stream WHERE tenant = $1 AND id = $2", &a);
    return n < 0 ? -1 : n > 0;
}

int store__pg_ssf_stream_each(struct store *st, const char *tenant,
                              int (*visit)(void *ctx, const struct store_ssf_stream *s), void *ctx)
{
    struct pg_params a = {0};
    struct store_ssf_stream s;
    PGresult *r;
    int rc = -1;

    pg__text(&a, tenant);
    r = pg__exec(st,
                 "SELECT " STREAM_COLUMNS " FROM ssf_stream WHERE tenant = $1 "
                 "ORDER BY created_at, id",
                 &a);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        int v;

        if (read_stream(r, i, &s) != 0)
            goto out;
        v = visit(ctx, &s);
        store_ssf_stream_clear(&s);
        if (v != 0)
            goto out;
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int store__pg_ssf_subject_add(struct store *st, const char *stream_id, const char *subject,
                              int verified)
{
    struct pg_params a = {0};

    pg__text(&a, stream_id);
    pg__text(&a, subject);
    if (verified < 0)
        pg__text(&a, NULL);
    else
        pg__int(&a, verified != 0);
    pg__int(&a, (int64_t)time(NULL));
    /* Adding a subject again updates "verified" (SSF 8.1.3.2: the receiver's latest word). */
    return pg__run(st,
                   "INSERT INTO ssf_subject (stream_id, subject, verified, created_at) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (stream_id, subject) "
                   "DO UPDATE SET verified = EXCLUDED.verified",
                   &a);
}

int store__pg_ssf_subject_remove(struct store *st, const char *stream_id, const char *subject)
{
    struct pg_params a = {0};

    pg__text(&a, stream_id);
    pg__text(&a, subject);
    return pg__changes(st, "DELETE FROM ssf_subject WHERE stream_id = $1 AND subject = $2", &a);
}

int store__pg_ssf_subject_count(struct store *st, const char *stream_id)
{
    return count(st, "SELECT count(*) FROM ssf_subject WHERE stream_id = $1", stream_id);
}

int store__pg_ssf_verify_add(struct store *st, const char *stream_id, const char *state,
                             int64_t requested_ms)
{
    struct pg_params a = {0};

    pg__text(&a, stream_id);
    pg__text(&a, state);
    pg__int(&a, requested_ms);
    return pg__run(st,
                   "INSERT INTO ssf_verify (stream_id, state, requested_ms) "
                   "VALUES ($1, $2, $3)",
                   &a);
}

int store__pg_ssf_verify_count(struct store *st, const char *stream_id)
{
    return count(st, "SELECT count(*) FROM ssf_verify WHERE stream_id = $1", stream_id);
}
