/*
 * Unit tests of the clients' rights across a broker restart (plugin/state.c): what is written
 * is read back with the same rights and owner key, offline and unbound; expired entries and a
 * broken file are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clients.h"
#include "config.h"
#include "state.h"
#include "support.h"
#include "token.h"

static struct mqp_identity *verify(const struct mqp_config *cfg, const char *tok)
{
    struct mqp_identity *id = NULL;

    assert_int_equal(mqp_token_verify(cfg, tok, strlen(tok), (int64_t)time(NULL), &id, NULL, 0),
                     MQP_TOKEN_OK);
    return id;
}

static void test_round_trip(void **state)
{
    struct fixture fx;
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};
    struct mqp_clients t, back;
    struct mqp_identity *a, *s;
    struct mqp_client *ca, *ra, *rs;
    char path[128], *ta, *ts;
    struct stat st;
    int x = 1;

    (void)state;
    assert_int_equal(fixture_init(&fx), 0);
    assert_int_equal(fixture_write_config(&fx, 3, 30, 4096), 0);
    assert_int_equal(mqp_config_load_file(fx.config, &cfg, &errs), 0);
    mqp_clients_init(&t);
    mqp_clients_init(&back);
    ta = mint_token(fx.tenant_key, TENANT_ISS, "case-worker,auditor", 600);
    ts = mint_token(fx.service_key, SERVICE_ISS, "mqpush-bridge", 600);
    a = verify(cfg, ta);
    s = verify(cfg, ts);
    ca = mqp_clients_put(&t, "alice-1", a, cfg, &x);
    assert_non_null(ca);
    assert_non_null(mqp_clients_put(&t, "bridge", s, cfg, &x));
    snprintf(path, sizeof(path), "%s/clients.json", fx.dir);
    assert_int_equal(mqp_state_save(&t, path), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(mqp_state_load(&back, path, cfg, (int64_t)time(NULL)), 2);
    ra = mqp_clients_find(&back, "alice-1");
    rs = mqp_clients_find(&back, "bridge");
    assert_non_null(ra);
    assert_non_null(rs);
    assert_true(ra->restored && !ra->online && ra->conn == NULL);
    assert_string_equal(ra->tenant, ca->tenant);
    assert_int_equal(ra->n_roles, ca->n_roles);
    assert_int_equal(ra->exp, ca->exp);
    assert_string_equal(ra->grant.owner, ca->grant.owner);
    assert_int_equal(rs->kind, MQP_IDENTITY_SERVICE);
    /* claims come back for a tenant with subscriber criteria (variant 3) */
    assert_true((ca->claims == NULL) == (ra->claims == NULL));

    /* expired by the time of the load: skipped */
    mqp_clients_clear(&back);
    assert_int_equal(mqp_state_load(&back, path, cfg, (int64_t)time(NULL) + 3600), 0);
    assert_int_equal(mqp_clients_count(&back), 0);

    /* no file: nothing, no error; a broken one: -1 */
    unlink(path);
    assert_int_equal(mqp_state_load(&back, path, cfg, (int64_t)time(NULL)), 0);
    {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs("[{\"id\": \"x\", \"kind\": 7, \"roles\": [], \"exp\": 99999999999}]", f);
        fclose(f);
    }
    assert_int_equal(mqp_state_load(&back, path, cfg, (int64_t)time(NULL)), -1);
    unlink(path);

    mqp_identity_free(a);
    mqp_identity_free(s);
    free(ta);
    free(ts);
    mqp_clients_clear(&t);
    mqp_clients_clear(&back);
    mqp_config_free(cfg);
    mqp_errors_clear(&errs);
    fixture_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
