/*
 * Push subscriptions and their outbox on PostgreSQL. Deleting a subscription deletes its
 * pending messages (ON DELETE CASCADE). Outbox rows belong to the node that added them; the
 * rows of a node that stopped beating are adopted row by row, each by one node.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define SUB_COLUMNS                                                                                \
    "id, channel, endpoint, p256dh, auth, vapid_key, tenant, stream, \"user\", session, "          \
    "identity, expires_at, created_at"

#define MSG_COLUMNS "id, sub_id, event_id, body, created_ms, expires_ms, due_ms, attempts"

/* Row i of SUB_COLUMNS into out (owned strings). 0, or -1 when out of memory. */
static int read_sub(const PGresult *r, int i, struct store_sub *out)
{
    size_t klen = 0, alen = 0;
    unsigned char *k = pg__col_bytes(r, i, 3, &klen), *a = pg__col_bytes(r, i, 4, &alen);

    memset(out, 0, sizeof(*out));
    out->id = pg__col_int(r, i, 0);
    out->channel = pg__col_dup(r, i, 1);
    out->endpoint = pg__col_dup(r, i, 2);
    if (k && a && klen == sizeof(out->p256dh) && alen == sizeof(out->auth)) {
        memcpy(out->p256dh, k, sizeof(out->p256dh));
        memcpy(out->auth, a, sizeof(out->auth));
        out->has_keys = 1;
    }
    PQfreemem(k);
    PQfreemem(a);
    out->vapid_key = pg__col_dup(r, i, 5);
    out->tenant = pg__col_dup(r, i, 6);
    out->stream = pg__col_dup(r, i, 7);
    out->user = pg__col_dup(r, i, 8);
    out->session = pg__col_dup(r, i, 9);
    out->identity = pg__col_dup(r, i, 10);
    out->expires_at = pg__col_int(r, i, 11);
    out->created_at = pg__col_int(r, i, 12);
    if (!out->channel || !out->endpoint || !out->tenant || !out->stream || !out->user ||
        !out->session || !out->identity || (pg__col_text(r, i, 5) && !out->vapid_key)) {
        store_sub_clear(out);
        return -1;
    }
    return 0;
}

int store__pg_sub_insert(struct store *st, struct store_sub *s)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, s->channel);
    pg__text(&a, s->endpoint);
    if (s->has_keys) {
        pg__bytes(&a, s->p256dh, sizeof(s->p256dh));
        pg__bytes(&a, s->auth, sizeof(s->auth));
    } else {
        pg__text(&a, NULL);
        pg__text(&a, NULL);
    }
    pg__text(&a, s->vapid_key);
    pg__text(&a, s->tenant);
    pg__text(&a, s->stream);
    pg__text(&a, s->user ? s->user : "");
    pg__text(&a, s->session ? s->session : "");
    pg__text(&a, s->identity ? s->identity : "{}");
    pg__int(&a, s->expires_at);
    pg__int(&a, s->created_at);
    r = pg__exec(st,
                 "INSERT INTO push_sub (channel, endpoint, p256dh, auth, vapid_key, tenant, "
                 "stream, \"user\", session, identity, expires_at, created_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                 "ON CONFLICT (channel, endpoint) DO NOTHING RETURNING id",
                 &a);
    if (r == NULL)
        return -1;
    rc = PQntuples(r) == 0 ? 1 : 0; /* none: the endpoint is taken */
    if (rc == 0)
        s->id = pg__col_int(r, 0, 0);
    PQclear(r);
    return rc;
}

int store__pg_sub_get(struct store *st, const char *channel, const char *endpoint,
                      struct store_sub *out)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    memset(out, 0, sizeof(*out));
    pg__text(&a, channel);
    pg__text(&a, endpoint);
    r = pg__exec(st, "SELECT " SUB_COLUMNS " FROM push_sub WHERE channel = $1 AND endpoint = $2",
                 &a);
    if (r == NULL)
        return -1;
    rc = PQntuples(r) == 0 ? 0 : read_sub(r, 0, out) == 0 ? 1 : -1;
    PQclear(r);
    return rc;
}

int store__pg_sub_delete(struct store *st, const char *channel, int64_t id, const char *endpoint)
{
    struct pg_params a = {0};

    pg__text(&a, channel);
    if (endpoint) {
        pg__text(&a, endpoint);
        return pg__changes(st, "DELETE FROM push_sub WHERE channel = $1 AND endpoint = $2", &a);
    }
    if (id == 0)
        return pg__changes(st, "DELETE FROM push_sub WHERE channel = $1", &a);
    pg__int(&a, id);
    return pg__changes(st, "DELETE FROM push_sub WHERE channel = $1 AND id = $2", &a);
}

int store__pg_sub_delete_session(struct store *st, const char *channel, const char *tenant,
                                 const char *user, const char *session)
{
    struct pg_params a = {0};

    pg__text(&a, channel);
    pg__text(&a, tenant);
    pg__text(&a, user);
    pg__text(&a, session);
    /* NULL user or session: any (a revoked session of unknown user, all of a user's) */
    return pg__changes(st,
                       "DELETE FROM push_sub WHERE channel = $1 AND tenant = $2 AND "
                       "($3::text IS NULL OR \"user\" = $3) AND "
                       "($4::text IS NULL OR session = $4)",
                       &a);
}

int store__pg_sub_delete_vapid(struct store *st, const char *channel, const char *keep)
{
    struct pg_params a = {0};

    pg__text(&a, channel);
    pg__text(&a, keep);
    return pg__changes(st,
                       "DELETE FROM push_sub WHERE channel = $1 AND vapid_key IS NOT NULL AND "
                       "vapid_key <> $2",
                       &a);
}

int store__pg_sub_rebind(struct store *st, const struct store_sub *s)
{
    struct pg_params a = {0};

    pg__int(&a, s->id);
    pg__text(&a, s->stream);
    pg__text(&a, s->user ? s->user : "");
    pg__text(&a, s->session ? s->session : "");
    pg__text(&a, s->identity ? s->identity : "{}");
    pg__int(&a, s->expires_at);
    pg__text(&a, s->tenant);
    return pg__changes(st,
                       "UPDATE push_sub SET stream = $2, \"user\" = $3, session = $4, "
                       "identity = $5, expires_at = $6, tenant = $7 WHERE id = $1",
                       &a) == 1
               ? 0
               : -1;
}

int store__pg_sub_count_user(struct store *st, const char *channel, const char *tenant,
                             const char *user)
{
    struct pg_params a = {0};
    PGresult *r;
    int n;

    pg__text(&a, channel);
    pg__text(&a, tenant);
    pg__text(&a, user);
    r = pg__exec(st,
                 "SELECT count(*) FROM push_sub WHERE channel = $1 AND tenant = $2 AND "
                 "\"user\" = $3",
                 &a);
    if (r == NULL)
        return -1;
    n = (int)pg__col_int(r, 0, 0);
    PQclear(r);
    return n;
}

int store__pg_sub_each(struct store *st, const char *channel,
                       int (*visit)(void *ctx, const struct store_sub *s), void *ctx)
{
    struct pg_params a = {0};
    struct store_sub s;
    PGresult *r;
    int rc = -1;

    pg__text(&a, channel);
    r = pg__exec(st, "SELECT " SUB_COLUMNS " FROM push_sub WHERE channel = $1 ORDER BY id", &a);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        int v;

        if (read_sub(r, i, &s) != 0)
            goto out;
        v = visit(ctx, &s);
        store_sub_clear(&s);
        if (v != 0)
            goto out;
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

struct msg_batch {
    struct store *st;
    const struct store_msg *msgs;
};

static void fill_msg(void *ctx, size_t i, struct pg_params *a)
{
    const struct msg_batch *b = ctx;
    const struct store_msg *m = &b->msgs[i];

    pg__int(a, m->sub_id);
    pg__text(a, m->event_id);
    pg__bytes(a, m->body, m->body_len);
    pg__int(a, m->created_ms);
    pg__int(a, m->expires_ms);
    pg__int(a, m->due_ms);
    pg__int(a, m->attempts);
    pg__text(a, b->st->node);
}

int store__pg_msg_add(struct store *st, struct store_msg *msgs, size_t n)
{
    struct msg_batch b = {st, msgs};
    int64_t *ids;
    int rc;

    if (n == 0)
        return 0;
    ids = calloc(n, sizeof(*ids));
    if (ids == NULL)
        return -1;
    /* FOR KEY SHARE: a subscription deleted meanwhile (by another bridge) gives no row, and
     * so gets nothing, instead of failing everybody's rows on the foreign key. */
    rc = pg__batch(st,
                   "INSERT INTO push_outbox (sub_id, event_id, body, created_ms, expires_ms, "
                   "due_ms, attempts, node) "
                   "SELECT id, $2::text, $3::bytea, $4::bigint, $5::bigint, $6::bigint, "
                   "$7::integer, $8::text FROM push_sub WHERE id = $1 FOR KEY SHARE "
                   "ON CONFLICT (sub_id, event_id) DO NOTHING RETURNING id",
                   n, fill_msg, &b, ids);
    for (size_t i = 0; i < n; i++)
        msgs[i].id = ids[i];
    free(ids);
    return rc;
}

int store__pg_msg_delete(struct store *st, int64_t id)
{
    struct pg_params a = {0};

    pg__int(&a, id);
    return pg__run(st, "DELETE FROM push_outbox WHERE id = $1", &a);
}

int store__pg_msg_retry(struct store *st, int64_t id, int attempts, int64_t due_ms)
{
    struct pg_params a = {0};

    pg__int(&a, id);
    pg__int(&a, attempts);
    pg__int(&a, due_ms);
    return pg__run(st, "UPDATE push_outbox SET attempts = $2, due_ms = $3 WHERE id = $1", &a);
}

/* Visit each row of a result of MSG_COLUMNS: the number visited, or -1 when out of memory or
 * a visit returned non-zero. */
static int visit_msgs(const PGresult *r, int (*visit)(void *ctx, const struct store_msg *m),
                      void *ctx)
{
    int n = PQntuples(r);

    for (int i = 0; i < n; i++) {
        struct store_msg m = {
            .id = pg__col_int(r, i, 0),
            .sub_id = pg__col_int(r, i, 1),
            .event_id = (char *)pg__col_text(r, i, 2),
            .created_ms = pg__col_int(r, i, 4),
            .expires_ms = pg__col_int(r, i, 5),
            .due_ms = pg__col_int(r, i, 6),
            .attempts = (int)pg__col_int(r, i, 7),
        };
        int v;

        m.body = pg__col_bytes(r, i, 3, &m.body_len);
        if (m.body == NULL || m.event_id == NULL) {
            PQfreemem(m.body);
            return -1;
        }
        v = visit(ctx, &m);
        PQfreemem(m.body);
        if (v != 0)
            return -1;
    }
    return n;
}

int store__pg_msg_each(struct store *st, const char *channel,
                       int (*visit)(void *ctx, const struct store_msg *m), void *ctx)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, channel);
    pg__text(&a, st->node);
    r = pg__exec(st,
                 "SELECT o.id, o.sub_id, o.event_id, o.body, o.created_ms, o.expires_ms, "
                 "o.due_ms, o.attempts FROM push_outbox o JOIN push_sub s ON s.id = o.sub_id "
                 "WHERE s.channel = $1 AND o.node = $2 ORDER BY o.id",
                 &a);
    if (r == NULL)
        return -1;
    rc = visit_msgs(r, visit, ctx) < 0 ? -1 : 0;
    PQclear(r);
    return rc;
}

int store__pg_msg_adopt(struct store *st, const char *channel, int64_t now_ms,
                        int (*visit)(void *ctx, const struct store_msg *m), void *ctx)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__text(&a, channel);
    pg__text(&a, st->node);
    pg__int(&a, now_ms);
    /* Compare and set: a row is taken only while its owner is still the dead one the
     * candidates saw. Two adopters at once both pick a row; the second waits for the first's
     * update and, under READ COMMITTED, re-checks its WHERE on the new version of the row
     * (PostgreSQL 13.2.1), where o.node no longer equals c.node: one of them takes it. */
    r = pg__exec(st,
                 "WITH c AS (SELECT o.id, o.node FROM push_outbox o JOIN push_sub s "
                 "ON s.id = o.sub_id WHERE s.channel = $1 AND o.node <> $2 AND NOT EXISTS "
                 "(SELECT 1 FROM nodes n WHERE n.node = o.node AND n.alive_until >= $3)), "
                 "t AS (UPDATE push_outbox o SET node = $2 FROM c "
                 "WHERE o.id = c.id AND o.node = c.node RETURNING o.id, o.sub_id, o.event_id, "
                 "o.body, o.created_ms, o.expires_ms, o.due_ms, o.attempts) "
                 "SELECT " MSG_COLUMNS " FROM t ORDER BY id",
                 &a);
    if (r == NULL)
        return -1;
    rc = visit_msgs(r, visit, ctx);
    PQclear(r);
    return rc;
}
