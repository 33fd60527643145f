/*
 * UnifiedPush provider endpoints and their pending messages on PostgreSQL. Deleting an
 * endpoint deletes its messages (ON DELETE CASCADE); bodies are bytea, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

static void copy_col(const PGresult *r, int i, int col, char *out, size_t cap)
{
    const char *t = pg__col_text(r, i, col);

    snprintf(out, cap, "%s", t ? t : "");
}

static void read_endpoint(const PGresult *r, int i, struct store_up_endpoint *e)
{
    memset(e, 0, sizeof(*e));
    copy_col(r, i, 0, e->id, sizeof(e->id));
    copy_col(r, i, 1, e->tenant, sizeof(e->tenant));
    copy_col(r, i, 2, e->owner, sizeof(e->owner));
    e->created_at = pg__col_int(r, i, 3);
}

static void owner_params(struct pg_params *a, const char *tenant, const char *owner)
{
    pg__text(a, tenant);
    pg__text(a, owner);
}

int store__pg_up_endpoint_add(struct store *st, const struct store_up_endpoint *e)
{
    struct pg_params a = {0};
    int n;

    pg__text(&a, e->id);
    owner_params(&a, e->tenant, e->owner);
    pg__int(&a, e->created_at);
    n = pg__changes(st,
                    "INSERT INTO up_endpoint (id, tenant, owner, created_at) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    &a);
    return n < 0 ? -1 : n == 0; /* none inserted: the id is taken */
}

int store__pg_up_endpoint_get(struct store *st, const char *id, struct store_up_endpoint *out)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc = 0;

    pg__text(&a, id);
    r = pg__exec(st, "SELECT id, tenant, owner, created_at FROM up_endpoint WHERE id = $1", &a);
    if (r == NULL)
        return -1;
    if (PQntuples(r) > 0) {
        read_endpoint(r, 0, out);
        rc = 1;
    }
    PQclear(r);
    return rc;
}

int store__pg_up_endpoint_delete(struct store *st, const char *tenant, const char *owner,
                                 const char *id)
{
    struct pg_params a = {0};

    owner_params(&a, tenant, owner);
    pg__text(&a, id);
    return pg__changes(st, "DELETE FROM up_endpoint WHERE tenant = $1 AND owner = $2 AND id = $3",
                       &a);
}

int store__pg_up_endpoint_count(struct store *st, const char *tenant, const char *owner)
{
    struct pg_params a = {0};
    PGresult *r;
    int n;

    owner_params(&a, tenant, owner);
    r = pg__exec(st, "SELECT count(*) FROM up_endpoint WHERE tenant = $1 AND owner = $2", &a);
    if (r == NULL)
        return -1;
    n = (int)pg__col_int(r, 0, 0);
    PQclear(r);
    return n;
}

int store__pg_up_endpoint_each(struct store *st, const char *tenant, const char *owner,
                               int (*visit)(void *ctx, const struct store_up_endpoint *e),
                               void *ctx)
{
    struct pg_params a = {0};
    struct store_up_endpoint e;
    PGresult *r;
    int rc = 0;

    owner_params(&a, tenant, owner);
    r = pg__exec(st,
                 "SELECT id, tenant, owner, created_at FROM up_endpoint WHERE tenant = $1 AND "
                 "owner = $2 ORDER BY created_at, seq",
                 &a);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        read_endpoint(r, i, &e);
        if (visit(ctx, &e) != 0)
            rc = -1;
    }
    PQclear(r);
    return rc;
}

int store__pg_up_msg_add(struct store *st, const char *endpoint, const void *body, size_t len,
                         int64_t created_ms, int64_t *id)
{
    struct pg_params a = {0};
    PGresult *r;

    pg__text(&a, endpoint);
    pg__bytes(&a, body, len);
    pg__int(&a, created_ms);
    r = pg__exec(st,
                 "INSERT INTO up_message (endpoint, body, created_ms) VALUES ($1, $2, $3) "
                 "RETURNING id",
                 &a);
    if (r == NULL)
        return -1; /* also an unknown endpoint (foreign key) */
    *id = pg__col_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int store__pg_up_msg_each(struct store *st, const char *tenant, const char *owner, int64_t after,
                          size_t limit, int (*visit)(void *ctx, const struct store_up_msg *m),
                          void *ctx)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc = -1, n = 0;

    owner_params(&a, tenant, owner);
    pg__int(&a, after);
    pg__int(&a, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
    r = pg__exec(st,
                 "SELECT m.id, m.endpoint, m.body, m.created_ms FROM up_message m JOIN "
                 "up_endpoint e ON e.id = m.endpoint WHERE e.tenant = $1 AND e.owner = $2 AND "
                 "m.id > $3 ORDER BY m.id LIMIT $4",
                 &a);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_up_msg m = {
            .id = pg__col_int(r, i, 0),
            .endpoint = pg__col_text(r, i, 1),
            .created_ms = pg__col_int(r, i, 3),
        };
        unsigned char *body = pg__col_bytes(r, i, 2, &m.body_len);
        int v;

        if (body == NULL || m.endpoint == NULL) {
            PQfreemem(body);
            goto out;
        }
        m.body = body;
        n++;
        v = visit(ctx, &m);
        PQfreemem(body);
        if (v != 0)
            break;
    }
    rc = n;
out:
    PQclear(r);
    return rc;
}

int store__pg_up_msg_ack(struct store *st, const char *tenant, const char *owner, int64_t up_to)
{
    struct pg_params a = {0};

    owner_params(&a, tenant, owner);
    pg__int(&a, up_to);
    return pg__changes(st,
                       "DELETE FROM up_message WHERE id <= $3 AND endpoint IN (SELECT id FROM "
                       "up_endpoint WHERE tenant = $1 AND owner = $2)",
                       &a);
}

int store__pg_up_msg_expire(struct store *st, int64_t before_ms)
{
    struct pg_params a = {0};

    pg__int(&a, before_ms);
    return pg__changes(st, "DELETE FROM up_message WHERE created_ms < $1", &a);
}
