/*
 * The SSF transmitter's SET outbox on PostgreSQL (table ssf_outbox), and the subject lookup
 * that decides what goes in it. Rows go with their stream (ON DELETE CASCADE) and belong to
 * the node that added them, as in pg_push.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define OUT_COLUMNS "id, stream_id, jti, claims, created_ms, due_ms, attempts"

int store__pg_ssf_subject_has(struct store *st, const char *stream_id, const char *subject)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, stream_id);
    pg__text(&a, subject);
    r = pg__exec(st, "SELECT 1 FROM ssf_subject WHERE stream_id = $1 AND subject = $2", &a);
    if (r == NULL)
        return -1;
    rc = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

struct out_batch {
    struct store *st;
    const struct store_ssf_out *rows;
};

static void fill_out(void *ctx, size_t i, struct pg_params *a)
{
    const struct out_batch *b = ctx;
    const struct store_ssf_out *o = &b->rows[i];

    pg__text(a, o->stream_id);
    pg__text(a, o->jti);
    pg__text(a, o->claims);
    pg__int(a, o->created_ms);
    pg__int(a, o->due_ms);
    pg__text(a, b->st->node);
}

int store__pg_ssf_out_add(struct store *st, struct store_ssf_out *rows, size_t n)
{
    struct out_batch b = {st, rows};
    int64_t *ids;
    int rc;

    if (n == 0)
        return 0;
    ids = calloc(n, sizeof(*ids));
    if (ids == NULL)
        return -1;
    /* one transaction and one round trip for every stream an event goes to */
    rc = pg__batch(st,
                   "INSERT INTO ssf_outbox (stream_id, jti, claims, created_ms, due_ms, attempts, "
                   "node) VALUES ($1, $2, $3, $4, $5, 0, $6) "
                   "ON CONFLICT (stream_id, jti) DO NOTHING RETURNING id",
                   n, fill_out, &b, ids);
    for (size_t i = 0; i < n; i++)
        rows[i].id = ids[i];
    free(ids);
    return rc;
}

int store__pg_ssf_out_delete(struct store *st, int64_t id)
{
    struct pg_params a = {0};

    pg__int(&a, id);
    return pg__run(st, "DELETE FROM ssf_outbox WHERE id = $1", &a);
}

int store__pg_ssf_out_delete_jti(struct store *st, const char *stream_id, const char *jti)
{
    struct pg_params a = {0};
    int n;

    pg__text(&a, stream_id);
    pg__text(&a, jti);
    n = pg__changes(st, "DELETE FROM ssf_outbox WHERE stream_id = $1 AND jti = $2", &a);
    return n < 0 ? -1 : n > 0;
}

int store__pg_ssf_out_retry(struct store *st, int64_t id, int attempts, int64_t due_ms)
{
    struct pg_params a = {0};

    pg__int(&a, id);
    pg__int(&a, attempts);
    pg__int(&a, due_ms);
    return pg__run(st, "UPDATE ssf_outbox SET attempts = $2, due_ms = $3 WHERE id = $1", &a);
}

/* Visit each row of a result of OUT_COLUMNS: the number visited, or -1 when a visit returned
 * non-zero. */
static int visit_rows(const PGresult *r, int (*visit)(void *ctx, const struct store_ssf_out *o),
                      void *ctx)
{
    int n = PQntuples(r);

    for (int i = 0; i < n; i++) {
        struct store_ssf_out o = {
            .id = pg__col_int(r, i, 0),
            .stream_id = (char *)pg__col_text(r, i, 1),
            .jti = (char *)pg__col_text(r, i, 2),
            .claims = (char *)pg__col_text(r, i, 3),
            .created_ms = pg__col_int(r, i, 4),
            .due_ms = pg__col_int(r, i, 5),
            .attempts = (int)pg__col_int(r, i, 6),
        };

        if (visit(ctx, &o) != 0)
            return -1;
    }
    return n;
}

int store__pg_ssf_out_each(struct store *st, int (*visit)(void *ctx, const struct store_ssf_out *o),
                           void *ctx)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, st->node);
    r = pg__exec(st, "SELECT " OUT_COLUMNS " FROM ssf_outbox WHERE node = $1 ORDER BY id", &a);
    if (r == NULL)
        return -1;
    rc = visit_rows(r, visit, ctx) < 0 ? -1 : 0;
    PQclear(r);
    return rc;
}

int store__pg_ssf_out_adopt(struct store *st, int64_t now_ms,
                            int (*visit)(void *ctx, const struct store_ssf_out *o), void *ctx)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, st->node);
    pg__int(&a, now_ms);
    /* compare and set, as store__pg_msg_adopt() (pg_push.c) */
    r = pg__exec(st,
                 "WITH c AS (SELECT o.id, o.node FROM ssf_outbox o WHERE o.node <> $1 AND NOT "
                 "EXISTS (SELECT 1 FROM nodes n WHERE n.node = o.node AND n.alive_until >= $2)), "
                 "t AS (UPDATE ssf_outbox o SET node = $1 FROM c "
                 "WHERE o.id = c.id AND o.node = c.node RETURNING o.id, o.stream_id, o.jti, "
                 "o.claims, o.created_ms, o.due_ms, o.attempts) "
                 "SELECT " OUT_COLUMNS " FROM t ORDER BY id",
                 &a);
    if (r == NULL)
        return -1;
    rc = visit_rows(r, visit, ctx);
    PQclear(r);
    return rc;
}
