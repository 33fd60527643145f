/* The engines the store tests run on (store_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store_fx.h"

enum store_fx_kind store_fx_sqlite_file = STORE_FX_SQLITE_FILE;
enum store_fx_kind store_fx_sqlite_memory = STORE_FX_SQLITE_MEMORY;
enum store_fx_kind store_fx_pg = STORE_FX_PG;

const char *store_fx_pg_url(void)
{
    const char *url = getenv("MQP_TEST_PG_URL");

    return url && *url ? url : NULL;
}

int store_fx_pg_skipped(size_t n)
{
    printf("[  SKIPPED ] %zu postgresql case(s): MQP_TEST_PG_URL is not set\n", n);
    return 0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Run sql on a connection to url; 0, or -1 with the message printed. */
static int exec_on(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = NULL;
    int rc = -1;

    if (PQstatus(c) != CONNECTION_OK) {
        print_error("cannot connect to %s: %s", url, PQerrorMessage(c));
        goto out;
    }
    PQsetNoticeProcessor(c, quiet, NULL); /* "drop cascades to table ..." */
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        print_error("%s: %s", sql, PQerrorMessage(c));
        goto out;
    }
    rc = 0;
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* A schema of its own for each case, in MQP_TEST_PG_URL's database; the store's connections
 * find only it (search_path) and are told by their application_name. */
static void pg_location(struct store_fx *f)
{
    static unsigned counter;
    const char *base = store_fx_pg_url();
    char sql[128];

    snprintf(f->schema, sizeof(f->schema), "mqp_t%ld_%u", (long)getpid(), ++counter);
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
    if (exec_on(base, sql) != 0)
        fail_msg("cannot make schema %s", f->schema);
    snprintf(f->url, sizeof(f->url), "%s%coptions=-csearch_path%%3D%s&application_name=%s", base,
             strchr(base, '?') ? '&' : '?', f->schema, f->schema);
}

int store_fx_setup(void **state)
{
    struct store_fx *f = calloc(1, sizeof(*f));
    char err[256] = "";

    assert_non_null(f);
    f->kind = *(enum store_fx_kind *)*state;
    switch (f->kind) {
    case STORE_FX_SQLITE_FILE:
        strcpy(f->dir, "/tmp/mqp-store-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
        snprintf(f->url, sizeof(f->url), "sqlite://%s", f->path);
        break;
    case STORE_FX_SQLITE_MEMORY:
        snprintf(f->url, sizeof(f->url), "sqlite::memory:");
        break;
    case STORE_FX_PG:
        pg_location(f);
        break;
    }
    if (store_open(f->url, &f->st, err, sizeof(err)) != 0)
        fail_msg("store_open %s: %s", f->url, err);
    *state = f;
    return 0;
}

int store_fx_teardown(void **state)
{
    struct store_fx *f = *state;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[128];

    store_close(f->st);
    if (f->kind == STORE_FX_SQLITE_FILE) {
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
            unlink(p);
        }
        rmdir(f->dir);
    } else if (f->kind == STORE_FX_PG) {
        snprintf(p, sizeof(p), "DROP SCHEMA %s CASCADE", f->schema);
        exec_on(store_fx_pg_url(), p);
    }
    free(f);
    return 0;
}

void store_fx_reopen(struct store_fx *f)
{
    char err[256] = "";

    assert_int_not_equal(f->kind, STORE_FX_SQLITE_MEMORY);
    store_close(f->st);
    f->st = NULL;
    if (store_open(f->url, &f->st, err, sizeof(err)) != 0)
        fail_msg("store_open again: %s", err);
}

struct store *store_fx_open(const struct store_fx *f, const char *node)
{
    struct store *st = NULL;
    char err[256] = "";

    assert_int_not_equal(f->kind, STORE_FX_SQLITE_MEMORY);
    if (store_open(f->url, &st, err, sizeof(err)) != 0)
        fail_msg("store_open another: %s", err);
    store_set_node(st, node);
    return st;
}

PGconn *store_fx_pg_connect(const struct store_fx *f)
{
    PGconn *c = PQconnectdb(f->url);

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", f->url, PQerrorMessage(c));
    return c;
}

int store_fx_pg_exec(const struct store_fx *f, const char *sql)
{
    return exec_on(f->url, sql);
}
