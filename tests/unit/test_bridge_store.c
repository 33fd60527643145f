/*
 * The bridge's store: URL parsing, SQLite in WAL mode, migrations, key-value round trips (on
 * SQLite and PostgreSQL, store_fx.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store_fx.h"

struct tmp {
    char dir[64];
    char path[96];
    char url[128];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    strcpy(t->dir, "/tmp/mqp-store-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/mqpush.db", t->dir);
    snprintf(t->url, sizeof(t->url), "sqlite://%s", t->path);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    char p[128];
    const char *suffix[] = {"", "-wal", "-shm"};

    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", t->path, suffix[i]);
        unlink(p);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

static void test_open_migrates_and_uses_wal(void **state)
{
    struct tmp *t = *state;
    struct store *st = NULL;
    char err[256] = "";
    sqlite3 *db;
    sqlite3_stmt *q;

    assert_int_equal(store_open(t->url, &st, err, sizeof(err)), 0);
    assert_int_equal(st->ops->schema_version(st), store_schema_latest());
    assert_true(store_schema_latest() >= 1);

    /* A second look through SQLite itself, not through the code under test. */
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
    store_close(st);
}

static void test_kv_round_trip_and_persistence(void **state)
{
    struct store_fx *f = *state;
    struct store *st = f->st;
    const unsigned char bin[] = {0x00, 0xff, 0x00, 'x', 0x80};
    void *val;
    size_t len;

    assert_int_equal(st->ops->schema_version(st), store_schema_latest());
    assert_int_equal(st->ops->kv_get(st, "ns", "missing", &val, &len), 0);
    assert_null(val);
    assert_int_equal(st->ops->kv_put(st, "ns", "k", bin, sizeof(bin)), 0);
    assert_int_equal(st->ops->kv_put(st, "other", "k", "text", 4), 0);
    assert_int_equal(st->ops->kv_put(st, "ns", "empty", NULL, 0), 0);
    assert_int_equal(st->ops->kv_get(st, "ns", "empty", &val, &len), 1);
    assert_int_equal(len, 0);
    free(val);

    /* Reopened: the values are still there, and the namespaces are apart. */
    store_fx_reopen(f);
    st = f->st;
    assert_int_equal(st->ops->kv_get(st, "ns", "k", &val, &len), 1);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(val, bin, sizeof(bin));
    free(val);
    assert_int_equal(st->ops->kv_get(st, "other", "k", &val, &len), 1);
    assert_string_equal(val, "text");
    free(val);

    assert_int_equal(st->ops->kv_put(st, "ns", "k", "new", 3), 0);
    assert_int_equal(st->ops->kv_get(st, "ns", "k", &val, &len), 1);
    assert_int_equal(len, 3);
    assert_memory_equal(val, "new", 3);
    free(val);
    assert_int_equal(st->ops->kv_del(st, "ns", "k"), 0);
    assert_int_equal(st->ops->kv_get(st, "ns", "k", &val, &len), 0);
    assert_null(val);
    assert_int_equal(st->ops->kv_del(st, "ns", "k"), 0); /* already gone: no error */
}

static void test_newer_schema_is_refused(void **state)
{
    struct tmp *t = *state;
    struct store *st = NULL;
    char err[256] = "";
    sqlite3 *db;

    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                                  "INSERT INTO schema_version VALUES (999);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(t->url, &st, err, sizeof(err)), -1);
    assert_null(st);
    assert_non_null(strstr(err, "999"));
}

static void test_bad_urls(void **state)
{
    struct store *st = NULL;
    char err[256];

    (void)state;
    assert_int_equal(store_open("mysql://db/mqpush", &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not supported"));
    assert_int_equal(store_open("postgresql://", &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "names no location"));
    assert_int_equal(store_open("mqpush.db", &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no scheme"));
    assert_int_equal(store_open("sqlite://", &st, err, sizeof(err)), -1);
    assert_int_equal(store_open("sqlite:///nonexistent-dir/x/y.db", &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));
    assert_null(st);

    assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof(err)), 0);
    assert_int_equal(st->ops->schema_version(st), store_schema_latest());
    store_close(st);
    store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest sqlite[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_and_uses_wal, setup, teardown),
        STORE_FX_CASE(test_kv_round_trip_and_persistence, store_fx_sqlite_file),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test(test_bad_urls),
    };
    const struct CMUnitTest pg[] = {
        STORE_FX_CASE(test_kv_round_trip_and_persistence, store_fx_pg),
    };

    return STORE_FX_RUN(sqlite, pg);
}
