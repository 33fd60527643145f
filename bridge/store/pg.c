/*
 * The PostgreSQL store: one libpq connection per store, for bridges that share their state
 * or keep it off the host. Every value travels as a statement parameter, never inside the SQL
 * text. A connection that breaks fails the call that found out and is reset at the next call;
 * the outage is logged once, and so is the recovery.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "pg_int.h"
#include "store_int.h"

/* After a failed reconnection, calls fail at once for this long instead of each waiting on
 * the network: the store is called from the event loop. */
#define RETRY_MS 1000

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's messages span lines ("...failed: refused\n\tIs the server running..."): one line
 * for the log and for err. */
static void one_line(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int space = 0;

    for (; in && *in && n + 1 < cap; in++) {
        if (*in == '\n' || *in == '\t' || *in == '\r' || *in == ' ') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap)
            out[n++] = ' ';
        space = 0;
        out[n++] = *in;
    }
    out[n] = '\0';
}

static int slot(struct pg_params *a)
{
    if (a->n >= PG_MAX_PARAMS) {
        a->n = PG_MAX_PARAMS + 1; /* refused by pg__exec() */
        return -1;
    }
    return a->n++;
}

void pg__text(struct pg_params *a, const char *v)
{
    int i = slot(a);

    if (i < 0)
        return;
    a->values[i] = v;
    a->lengths[i] = 0;
    a->formats[i] = 0;
}

void pg__int(struct pg_params *a, int64_t v)
{
    int i = slot(a);

    if (i < 0)
        return;
    snprintf(a->num[i], sizeof(a->num[i]), "%lld", (long long)v);
    a->values[i] = a->num[i];
    a->lengths[i] = 0;
    a->formats[i] = 0;
}

void pg__bytes(struct pg_params *a, const void *v, size_t len)
{
    int i = slot(a);

    if (i < 0)
        return;
    if (len > INT32_MAX) {
        a->n = PG_MAX_PARAMS + 1;
        return;
    }
    /* binary format: bytea's bytes as they are, no escaping (PostgreSQL 55.2, Bind) */
    a->values[i] = len ? v : "";
    a->lengths[i] = (int)len;
    a->formats[i] = 1;
}

static void log_lost(struct pg_store *p)
{
    char msg[256];

    if (p->lost)
        return;
    p->lost = 1;
    one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
    fprintf(stderr, "mqpush-bridge: store: the PostgreSQL connection broke (%s); reconnecting\n",
            msg);
}

/* A statement failed: say why, unless it is an answer callers expect. */
static void log_failure(struct pg_store *p, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[256];

    /* class 08 (connection exception) and 57P01..03 (the server shutting down or ending the
     * session: "terminating connection due to administrator command") come as it goes */
    if (PQstatus(p->conn) != CONNECTION_OK ||
        (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))) {
        log_lost(p);
        return;
    }
    /* class 23, integrity constraint violation: a message for an unknown endpoint, say */
    if (state && strncmp(state, "23", 2) == 0)
        return;
    one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn), msg, sizeof(msg));
    fprintf(stderr, "mqpush-bridge: store: PostgreSQL: %s\n", msg);
}

/* A connection to run on: 0, or -1 when it is down and could not be reset now. */
static int ready(struct pg_store *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    log_lost(p);
    if (mono_ms() < p->retry_at)
        return -1;
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        p->retry_at = mono_ms() + RETRY_MS;
        return -1;
    }
    fprintf(stderr, "mqpush-bridge: store: the PostgreSQL connection is back\n");
    p->lost = 0;
    p->retry_at = 0;
    return 0;
}

PGresult *pg__exec(struct store *st, const char *sql, const struct pg_params *a)
{
    struct pg_store *p = (struct pg_store *)st;
    PGresult *r = NULL;
    ExecStatusType status;

    if (a && a->n > PG_MAX_PARAMS)
        return NULL;
    pthread_mutex_lock(&p->lock);
    if (ready(p) != 0)
        goto out;
    r = PQexecParams(p->conn, sql, a ? a->n : 0, NULL, a ? a->values : NULL, a ? a->lengths : NULL,
                     a ? a->formats : NULL, 0);
    status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        log_failure(p, r);
        PQclear(r);
        r = NULL;
    }
out:
    pthread_mutex_unlock(&p->lock);
    return r;
}

int pg__changes(struct store *st, const char *sql, const struct pg_params *a)
{
    PGresult *r = pg__exec(st, sql, a);
    int n;

    if (r == NULL)
        return -1;
    n = atoi(PQcmdTuples(r));
    PQclear(r);
    return n;
}

int pg__run(struct store *st, const char *sql, const struct pg_params *a)
{
    return pg__changes(st, sql, a) < 0 ? -1 : 0;
}

/* Read the results of a pipeline of n statements and its sync; 0 when all ran. */
static int batch_results(struct pg_store *p, size_t n, int64_t *ids)
{
    PGresult *r;
    int failed = 0;

    for (size_t i = 0; i < n; i++) {
        /* each statement's results end with NULL */
        while ((r = PQgetResult(p->conn)) != NULL) {
            ExecStatusType status = PQresultStatus(r);

            if (status == PGRES_TUPLES_OK && ids)
                ids[i] = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
            else if (status == PGRES_FATAL_ERROR && !failed)
                log_failure(p, r); /* the first; those after it say "aborted" */
            if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
                failed = 1;
            PQclear(r);
            if (PQstatus(p->conn) != CONNECTION_OK) {
                log_lost(p);
                return -1;
            }
        }
    }
    r = PQgetResult(p->conn);
    if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        failed = 1;
    PQclear(r);
    return failed ? -1 : 0;
}

int pg__batch(struct store *st, const char *sql, size_t n,
              void (*fill)(void *ctx, size_t i, struct pg_params *a), void *ctx, int64_t *ids)
{
    struct pg_store *p = (struct pg_store *)st;
    struct pg_params a;
    int rc = -1, sent = 0;

    if (n == 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    if (ready(p) != 0 || PQenterPipelineMode(p->conn) != 1)
        goto out;
    /* The statements up to the sync form one implicit transaction: the first that fails
     * rolls back those before it, and the server skips those after (libpq 34.5.1). */
    for (size_t i = 0; i < n; i++) {
        memset(&a, 0, sizeof(a));
        fill(ctx, i, &a);
        if (a.n > PG_MAX_PARAMS ||
            PQsendQueryParams(p->conn, sql, a.n, NULL, a.values, a.lengths, a.formats, 0) != 1)
            goto out;
    }
    if (PQpipelineSync(p->conn) != 1)
        goto out;
    sent = 1;
    rc = batch_results(p, n, ids);
out:
    if (rc != 0 && !sent)
        log_failure(p, NULL);
    if (PQpipelineStatus(p->conn) != PQ_PIPELINE_OFF && PQexitPipelineMode(p->conn) != 1) {
        /* results left unread (a statement that could not be sent): only a new connection
         * gets out of that state */
        rc = -1;
        if (PQstatus(p->conn) == CONNECTION_OK)
            PQreset(p->conn);
    }
    if (rc != 0 && ids)
        memset(ids, 0, n * sizeof(*ids));
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int64_t pg__col_int(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg__col_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

char *pg__col_dup(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

unsigned char *pg__col_bytes(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    return PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), len);
}

/* Notices ("relation already exists, skipping") are not for the bridge's log. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void pg_close(struct store *st)
{
    struct pg_store *p = (struct pg_store *)st;

    PQfinish(p->conn);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static int pg_open(const char *url, struct store **out, char *err, size_t errlen)
{
    /* The URI's own settings win over these: they come first and it is expanded after them
     * (libpq 34.1, PQconnectdbParams). Without a timeout libpq waits for an unreachable
     * server for as long as TCP does; the bridge's strings are UTF-8 whatever the locale. */
    const char *const keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                NULL};
    const char *const values[] = {"10", "mqpush-bridge", "UTF8", url, NULL};
    struct pg_store *p = calloc(1, sizeof(*p));
    char msg[256];
    int rc = -1;

    if (p == NULL || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        mqp_errmsg(err, errlen, "out of memory");
        return -1;
    }
    p->base.ops = &store__pg_ops;
    p->conn = PQconnectdbParams(keys, values, 1);
    if (p->conn == NULL) {
        mqp_errmsg(err, errlen, "out of memory");
        goto out;
    }
    if (PQstatus(p->conn) != CONNECTION_OK) {
        /* Not the URL itself: it may hold a password. libpq's message names host and port. */
        one_line(PQerrorMessage(p->conn), msg, sizeof(msg));
        mqp_errmsg(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        goto out;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    if (PQserverVersion(p->conn) < 100000) {
        mqp_errmsg(err, errlen, "PostgreSQL %d is too old: the store needs 10 or newer",
                   PQserverVersion(p->conn) / 10000);
        goto out;
    }
    if (store__pg_migrate(p->conn, err, errlen) != 0)
        goto out;
    *out = &p->base;
    p = NULL;
    rc = 0;
out:
    if (p)
        pg_close(&p->base);
    return rc;
}

static int pg_kv_put(struct store *st, const char *ns, const char *key, const void *val, size_t len)
{
    struct pg_params a = {0};

    pg__text(&a, ns);
    pg__text(&a, key);
    pg__bytes(&a, val, len);
    pg__int(&a, (int64_t)time(NULL));
    return pg__run(st,
                   "INSERT INTO kv (ns, key, value, updated_at) VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value, "
                   "updated_at = EXCLUDED.updated_at",
                   &a);
}

static int pg_kv_get(struct store *st, const char *ns, const char *key, void **val, size_t *len)
{
    struct pg_params a = {0};
    unsigned char *bytes = NULL;
    PGresult *r;
    int rc = -1;

    *val = NULL;
    *len = 0;
    pg__text(&a, ns);
    pg__text(&a, key);
    r = pg__exec(st, "SELECT value FROM kv WHERE ns = $1 AND key = $2", &a);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        rc = 0;
        goto out;
    }
    bytes = pg__col_bytes(r, 0, 0, len);
    /* one spare byte so text values come back NUL-terminated */
    *val = bytes ? malloc(*len + 1) : NULL;
    if (*val == NULL) {
        *len = 0;
        goto out;
    }
    memcpy(*val, bytes, *len);
    ((char *)*val)[*len] = '\0';
    rc = 1;
out:
    PQfreemem(bytes);
    PQclear(r);
    return rc;
}

static int pg_kv_del(struct store *st, const char *ns, const char *key)
{
    struct pg_params a = {0};

    pg__text(&a, ns);
    pg__text(&a, key);
    return pg__run(st, "DELETE FROM kv WHERE ns = $1 AND key = $2", &a);
}

static int pg_node_beat(struct store *st, const char *node, int64_t now_ms, int64_t ttl_ms)
{
    struct pg_params a = {0};

    pg__text(&a, node);
    pg__int(&a, now_ms + ttl_ms);
    return pg__run(st,
                   "INSERT INTO nodes (node, alive_until) VALUES ($1, $2) "
                   "ON CONFLICT (node) DO UPDATE SET alive_until = EXCLUDED.alive_until",
                   &a);
}

static int pg_node_claim_dead(struct store *st, int64_t now_ms, char *node, size_t len)
{
    struct pg_params a = {0};
    PGresult *r;
    int rc;

    pg__int(&a, now_ms);
    pg__text(&a, st->node);
    /* SKIP LOCKED and the condition again: of bridges claiming at once, one gets each node. */
    r = pg__exec(st,
                 "DELETE FROM nodes WHERE node = (SELECT node FROM nodes WHERE alive_until < $1 "
                 "AND node <> $2 ORDER BY alive_until LIMIT 1 FOR UPDATE SKIP LOCKED) "
                 "AND alive_until < $1 RETURNING node",
                 &a);
    if (r == NULL)
        return -1;
    rc = PQntuples(r) > 0 ? 1 : 0;
    if (rc == 1)
        snprintf(node, len, "%s", pg__col_text(r, 0, 0));
    PQclear(r);
    return rc;
}

const struct store_ops store__pg_ops = {
    .scheme = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .schema_version = store__pg_schema_version,
    .kv_put = pg_kv_put,
    .kv_get = pg_kv_get,
    .kv_del = pg_kv_del,
    .sub_insert = store__pg_sub_insert,
    .sub_get = store__pg_sub_get,
    .sub_delete = store__pg_sub_delete,
    .sub_delete_session = store__pg_sub_delete_session,
    .sub_delete_vapid = store__pg_sub_delete_vapid,
    .sub_rebind = store__pg_sub_rebind,
    .sub_count_user = store__pg_sub_count_user,
    .sub_each = store__pg_sub_each,
    .msg_add = store__pg_msg_add,
    .msg_delete = store__pg_msg_delete,
    .msg_retry = store__pg_msg_retry,
    .msg_each = store__pg_msg_each,
    .msg_adopt = store__pg_msg_adopt,
    .ssf_stream_put = store__pg_ssf_stream_put,
    .ssf_stream_get = store__pg_ssf_stream_get,
    .ssf_stream_delete = store__pg_ssf_stream_delete,
    .ssf_stream_each = store__pg_ssf_stream_each,
    .ssf_subject_add = store__pg_ssf_subject_add,
    .ssf_subject_remove = store__pg_ssf_subject_remove,
    .ssf_subject_count = store__pg_ssf_subject_count,
    .ssf_verify_add = store__pg_ssf_verify_add,
    .ssf_verify_count = store__pg_ssf_verify_count,
    .ssf_subject_has = store__pg_ssf_subject_has,
    .ssf_out_add = store__pg_ssf_out_add,
    .ssf_out_delete = store__pg_ssf_out_delete,
    .ssf_out_delete_jti = store__pg_ssf_out_delete_jti,
    .ssf_out_retry = store__pg_ssf_out_retry,
    .ssf_out_each = store__pg_ssf_out_each,
    .ssf_out_adopt = store__pg_ssf_out_adopt,
    .up_endpoint_add = store__pg_up_endpoint_add,
    .up_endpoint_get = store__pg_up_endpoint_get,
    .up_endpoint_delete = store__pg_up_endpoint_delete,
    .up_endpoint_count = store__pg_up_endpoint_count,
    .up_endpoint_each = store__pg_up_endpoint_each,
    .up_msg_add = store__pg_up_msg_add,
    .up_msg_each = store__pg_up_msg_each,
    .up_msg_ack = store__pg_up_msg_ack,
    .up_msg_expire = store__pg_up_msg_expire,
    .node_beat = pg_node_beat,
    .node_claim_dead = pg_node_claim_dead,
};
