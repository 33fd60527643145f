/*
 * The engines the store tests run on, each case on a store of its own: SQLite always (a file
 * in a new temporary directory, or in memory) and PostgreSQL when MQP_TEST_PG_URL names a
 * database (ctest sets it from tests/lib/pg-cluster.sh): a new schema per case, dropped after,
 * so that test programs running at once share the database without seeing each other.
 */
#ifndef TESTS_UNIT_STORE_FX_H
#define TESTS_UNIT_STORE_FX_H

#include <libpq-fe.h>

#include "store/store.h"

enum store_fx_kind {
    STORE_FX_SQLITE_FILE,
    STORE_FX_SQLITE_MEMORY,
    STORE_FX_PG,
};

struct store_fx {
    enum store_fx_kind kind;
    char url[1024]; /* what store_open() is given */
    char dir[64];   /* SQLite file: its directory and path */
    char path[96];
    char schema[64]; /* PostgreSQL: the case's schema, also its connections' application_name */
    struct store *st;
};

/* Initial states of cmocka_unit_test_prestate_setup_teardown() naming the engine. */
extern enum store_fx_kind store_fx_sqlite_file, store_fx_sqlite_memory, store_fx_pg;

/* One case on every engine: on a SQLite file and, when MQP_TEST_PG_URL is set, PostgreSQL. */
#define STORE_FX_CASE(fn, kind)                                                                    \
    cmocka_unit_test_prestate_setup_teardown(fn, store_fx_setup, store_fx_teardown, &(kind))

/* cmocka setup: *state is an enum store_fx_kind * and becomes the struct store_fx *, with
 * an open store in st. teardown closes it and removes what setup made. */
int store_fx_setup(void **state);
int store_fx_teardown(void **state);

/* Close f->st and open the same location again (fails the case when it cannot). */
void store_fx_reopen(struct store_fx *f);
/* Another store on f's location (another bridge) named node; close with store_close(). Not
 * for SQLite in memory. */
struct store *store_fx_open(const struct store_fx *f, const char *node);

/* MQP_TEST_PG_URL, or NULL when unset or empty. */
const char *store_fx_pg_url(void);
/* A connection to f's PostgreSQL schema for checks made around the store (PQfinish()). */
PGconn *store_fx_pg_connect(const struct store_fx *f);
/* Run sql there; 0, or -1 with the server's message printed. */
int store_fx_pg_exec(const struct store_fx *f, const char *sql);

/*
 * Run the cases of sqlite[] and, when MQP_TEST_PG_URL is set, those of pg[] (else say they
 * were skipped): the number that failed. Give arrays, not pointers.
 */
#define STORE_FX_RUN(sqlite, pg)                                                                   \
    (cmocka_run_group_tests_name("sqlite", sqlite, NULL, NULL) +                                   \
     (store_fx_pg_url() ? cmocka_run_group_tests_name("postgresql", pg, NULL, NULL)                \
                        : store_fx_pg_skipped(sizeof(pg) / sizeof((pg)[0]))))
int store_fx_pg_skipped(size_t n);

#endif
