/*
 * What only the PostgreSQL engine has: the tables it made (looked at through libpq, not the
 * code under test), a server that cannot be reached at open, a connection that breaks under
 * a running store (terminated by the server) and is back at the next call, bridges opening and
 * migrating a new database at once, a role that may not create tables, a schema newer than
 * the build. Each case on a schema of
 * its own (store_fx.h); the server is MQP_TEST_PG_URL's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/store.h"
#include "store_fx.h"

/* The first cell of sql's answer on a separate connection to f's schema, as a number. */
static long long query_number(const struct store_fx *f, const char *sql)
{
    PGconn *c = store_fx_pg_connect(f);
    PGresult *r = PQexec(c, sql);
    long long v;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

static void test_schema_made(void **state)
{
    struct store_fx *f = *state;

    assert_int_equal(f->st->ops->schema_version(f->st), store_schema_latest());
    assert_int_equal(query_number(f, "SELECT max(version) FROM schema_version"),
                     store_schema_latest());
    assert_int_equal(query_number(f, "SELECT count(*) FROM schema_version"), 1);
    /* every table in the case's schema, none elsewhere */
    assert_int_equal(query_number(f, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                     "current_schema() AND tablename IN ('kv', 'push_sub', "
                                     "'push_outbox', 'ssf_stream', 'ssf_subject', 'ssf_verify', "
                                     "'ssf_outbox', 'up_endpoint', 'up_message', 'nodes')"),
                     10);
    assert_int_equal(query_number(f, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                     "'public' AND tablename = 'push_sub'"),
                     0);
    assert_string_equal(f->st->ops->scheme, "postgresql");
}

static void test_cannot_connect(void **state)
{
    struct store *st = NULL;
    char err[512] = "";

    (void)state;
    /* port 1 on loopback: refused at once. The message says what failed, not the password. */
    assert_int_equal(store_open("postgresql://mqp:s3cret@127.0.0.1:1/db", &st, err, sizeof(err)),
                     -1);
    assert_null(st);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_null(strstr(err, "s3cret"));
    assert_null(strchr(err, '\n'));
    /* the other spelling of the scheme, and a URI libpq refuses */
    assert_int_equal(store_open("postgres://127.0.0.1:1/db", &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    assert_int_equal(store_open("postgresql://127.0.0.1:1/db?nonsense=1", &st, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "nonsense"));
}

/* End the store's server session from another connection, as an administrator or a server
 * restart would. */
static void terminate_store_connections(const struct store_fx *f)
{
    char sql[256];

    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE "
             "application_name = '%s' AND pid <> pg_backend_pid()",
             f->schema);
    assert_int_equal(query_number(f, sql), 1);
}

static void test_reconnects(void **state)
{
    struct store_fx *f = *state;
    struct store *st = f->st;
    struct store_sub s = {.channel = "webpush",
                          .endpoint = "https://p.example/1",
                          .tenant = "t",
                          .stream = "alerts",
                          .expires_at = 1,
                          .created_at = 1};
    struct store_sub out;
    struct store_msg m = {.event_id = "e1", .body = (unsigned char *)"x", .body_len = 1};
    void *val;
    size_t len;

    assert_int_equal(st->ops->sub_insert(st, &s), 0);
    assert_int_equal(st->ops->kv_put(st, "ns", "k", "v", 1), 0);

    /* the call that finds the connection gone fails; the next one runs on a new one */
    terminate_store_connections(f);
    assert_int_equal(st->ops->kv_get(st, "ns", "k", &val, &len), -1);
    assert_int_equal(st->ops->sub_get(st, "webpush", "https://p.example/1", &out), 1);
    assert_int_equal(out.id, s.id);
    store_sub_clear(&out);

    /* the same for a batch (pipeline) */
    m.sub_id = s.id;
    terminate_store_connections(f);
    assert_int_equal(st->ops->msg_add(st, &m, 1), -1);
    assert_int_equal(m.id, 0);
    assert_int_equal(st->ops->msg_add(st, &m, 1), 0);
    assert_true(m.id > 0);
    assert_int_equal(st->ops->kv_get(st, "ns", "k", &val, &len), 1);
    assert_memory_equal(val, "v", 1);
    free(val);
}

struct opener {
    const char *url;
    pthread_barrier_t *go;
    struct store *st;
    char err[256];
};

static void *open_thread(void *arg)
{
    struct opener *o = arg;

    pthread_barrier_wait(o->go);
    if (store_open(o->url, &o->st, o->err, sizeof(o->err)) != 0)
        o->st = NULL;
    return NULL;
}

static void test_open_at_once(void **state)
{
    enum { N = 4 };
    struct store_fx *f = *state;
    struct opener o[N];
    pthread_t t[N];
    pthread_barrier_t go;
    char sql[256];

    /* an empty schema again, then four bridges starting on it together */
    store_close(f->st);
    f->st = NULL;
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", f->schema, f->schema);
    assert_int_equal(store_fx_pg_exec(f, sql), 0);
    assert_int_equal(pthread_barrier_init(&go, NULL, N), 0);
    for (int i = 0; i < N; i++) {
        o[i] = (struct opener){.url = f->url, .go = &go};
        assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < N; i++) {
        if (o[i].st == NULL)
            fail_msg("bridge %d: %s", i, o[i].err);
        assert_int_equal(o[i].st->ops->schema_version(o[i].st), store_schema_latest());
    }
    /* migrated once: one version row, one of each table */
    assert_int_equal(query_number(f, "SELECT count(*) FROM schema_version"), 1);
    assert_int_equal(query_number(f, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                     "current_schema() AND tablename = 'nodes'"),
                     1);
    for (int i = 1; i < N; i++)
        store_close(o[i].st);
    f->st = o[0].st;
}

/* A bridge whose role may read and write the tables of a current schema, but not create
 * any, opens it (the schema was made by another role) and works. */
static void test_role_without_create(void **state)
{
    struct store_fx *f = *state;
    struct store *st = NULL;
    struct store_sub s = {.channel = "webpush",
                          .endpoint = "https://p.example/1",
                          .tenant = "t",
                          .stream = "alerts",
                          .expires_at = 1,
                          .created_at = 1};
    char sql[1024], url[1100], err[256] = "";

    snprintf(sql, sizeof(sql),
             "CREATE ROLE %s_rw LOGIN; GRANT USAGE ON SCHEMA %s TO %s_rw; "
             "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s_rw; "
             "GRANT USAGE ON ALL SEQUENCES IN SCHEMA %s TO %s_rw",
             f->schema, f->schema, f->schema, f->schema, f->schema, f->schema, f->schema);
    assert_int_equal(store_fx_pg_exec(f, sql), 0);
    snprintf(url, sizeof(url), "%s&user=%s_rw", f->url, f->schema);
    if (store_open(url, &st, err, sizeof(err)) != 0)
        fail_msg("store_open as %s_rw: %s", f->schema, err);
    assert_int_equal(st->ops->sub_insert(st, &s), 0);
    assert_int_equal(st->ops->kv_put(st, "ns", "k", "v", 1), 0);
    assert_int_equal(query_number(f, "SELECT count(*) FROM push_sub"), 1);
    store_close(st);
    snprintf(sql, sizeof(sql), "DROP OWNED BY %s_rw; DROP ROLE %s_rw", f->schema, f->schema);
    assert_int_equal(store_fx_pg_exec(f, sql), 0);
}

static void test_newer_schema_is_refused(void **state)
{
    struct store_fx *f = *state;
    struct store *st = NULL;
    char err[256] = "";

    assert_int_equal(store_fx_pg_exec(f, "UPDATE schema_version SET version = 999"), 0);
    assert_int_equal(store_open(f->url, &st, err, sizeof(err)), -1);
    assert_null(st);
    assert_non_null(strstr(err, "999"));
    /* and nothing was changed by trying */
    assert_int_equal(query_number(f, "SELECT max(version) FROM schema_version"), 999);
}

int main(void)
{
    const struct CMUnitTest none[] = {
        cmocka_unit_test(test_cannot_connect),
    };
    const struct CMUnitTest pg[] = {
        STORE_FX_CASE(test_schema_made, store_fx_pg),
        STORE_FX_CASE(test_reconnects, store_fx_pg),
        STORE_FX_CASE(test_open_at_once, store_fx_pg),
        STORE_FX_CASE(test_role_without_create, store_fx_pg),
        STORE_FX_CASE(test_newer_schema_is_refused, store_fx_pg),
    };

    int failed = cmocka_run_group_tests_name("no server", none, NULL, NULL);

    if (store_fx_pg_url())
        return failed + cmocka_run_group_tests_name("postgresql", pg, NULL, NULL);
    return failed + store_fx_pg_skipped(sizeof(pg) / sizeof(pg[0]));
}
