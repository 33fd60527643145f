/*
 * Unit tests of the plugin's per-client state (plugin/clients.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clients.h"
#include "config.h"
#include "support.h"

struct env {
    struct fixture fx;
    struct mqp_config *cfg;  /* variant 0 */
    struct mqp_config *cfg2; /* variant 1, a later generation */
    struct mqp_clients t;
};

static struct mqp_config *load(struct fixture *fx, int variant)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;

    if (fixture_write_config(fx, variant, 30, 4096) != 0)
        return NULL;
    if (mqp_config_load_file(fx->config, &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++)
            print_error("config: %s\n", errs.msgs[i]);
    }
    mqp_errors_clear(&errs);
    return cfg;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));

    if (!e || fixture_init(&e->fx) != 0)
        return -1;
    e->cfg = load(&e->fx, 0);
    e->cfg2 = load(&e->fx, 1);
    if (!e->cfg || !e->cfg2)
        return -1;
    mqp_clients_init(&e->t);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    mqp_clients_clear(&e->t);
    mqp_config_free(e->cfg);
    mqp_config_free(e->cfg2);
    fixture_free(&e->fx);
    free(e);
    return 0;
}

/* An identity as mqp_token_verify() would build it. */
static struct mqp_identity *identity(const char *tenant, const char *const *roles, size_t n,
                                     int64_t exp)
{
    struct mqp_identity *id = calloc(1, sizeof(*id));

    assert_non_null(id);
    id->kind = tenant ? MQP_IDENTITY_TENANT : MQP_IDENTITY_SERVICE;
    id->tenant = tenant ? strdup(tenant) : NULL;
    id->roles = calloc(n ? n : 1, sizeof(char *));
    assert_non_null(id->roles);
    for (size_t i = 0; i < n; i++)
        id->roles[i] = strdup(roles[i]);
    id->n_roles = n;
    id->exp = exp;
    return id;
}

static const char *const WORKER[] = {"case-worker", "other"};
static int conn_a, conn_b;

static void test_put_find_replace(void **state)
{
    struct env *e = *state;
    struct mqp_identity *id1 = identity("acme", WORKER, 2, 1000);
    struct mqp_identity *id2 = identity("acme", NULL, 0, 2000);
    struct mqp_client *c;

    c = mqp_clients_put(&e->t, "client-1", id1, e->cfg, &conn_a);
    assert_non_null(c);
    /* The stored copy does not depend on the identity living on. */
    mqp_identity_free(id1);
    c = mqp_clients_find(&e->t, "client-1");
    assert_non_null(c);
    assert_string_equal(c->id, "client-1");
    assert_string_equal(c->tenant, "acme");
    assert_int_equal(c->n_roles, 2);
    assert_string_equal(c->roles[0], "case-worker");
    assert_string_equal(c->roles[1], "other");
    assert_true(c->online);
    assert_ptr_equal(c->conn, &conn_a);
    assert_int_equal(c->exp, 1000);
    assert_int_equal(mqp_access_check(e->cfg, mqp_client_grant(c, e->cfg),
                                      "acme/cases/case:updated", MQP_ACCESS_READ),
                     MQP_ALLOW);
    assert_null(mqp_clients_find(&e->t, "client-2"));
    assert_null(mqp_clients_find(&e->t, NULL));

    c = mqp_clients_put(&e->t, "client-1", id2, e->cfg, &conn_b);
    mqp_identity_free(id2);
    assert_non_null(c);
    assert_int_equal(mqp_clients_count(&e->t), 1);
    assert_ptr_equal(mqp_clients_find(&e->t, "client-1"), c);
    assert_int_equal(c->n_roles, 0);
    assert_ptr_equal(c->conn, &conn_b);
    assert_int_equal(mqp_access_check(e->cfg, mqp_client_grant(c, e->cfg),
                                      "acme/cases/case:updated", MQP_ACCESS_READ),
                     MQP_DENY);
    /* Public streams stay readable. */
    assert_int_equal(mqp_access_check(e->cfg, mqp_client_grant(c, e->cfg),
                                      "acme/news/news:published", MQP_ACCESS_READ),
                     MQP_ALLOW);

    mqp_clients_remove(&e->t, c);
    assert_int_equal(mqp_clients_count(&e->t), 0);
    mqp_clients_remove(&e->t, NULL);
    mqp_client_free(NULL);
}

static void test_grant_follows_generation(void **state)
{
    struct env *e = *state;
    struct mqp_identity *id = identity("acme", NULL, 0, 1000);
    struct mqp_client *c = mqp_clients_put(&e->t, "c", id, e->cfg, &conn_a);
    const struct mqp_grant *g;

    mqp_identity_free(id);
    assert_non_null(c);
    assert_int_equal(c->grant.generation, e->cfg->generation);
    assert_int_equal(mqp_access_check(e->cfg, mqp_client_grant(c, e->cfg),
                                      "acme/cases/case:updated", MQP_ACCESS_READ),
                     MQP_DENY);
    /* Under the later file "cases" is public; the grant is rebuilt from the stored fields. */
    g = mqp_client_grant(c, e->cfg2);
    assert_int_equal(g->generation, e->cfg2->generation);
    assert_ptr_equal(g->tenant, mqp_config_tenant(e->cfg2, "acme", 4));
    assert_int_equal(mqp_access_check(e->cfg2, g, "acme/cases/case:updated", MQP_ACCESS_READ),
                     MQP_ALLOW);
    assert_int_equal(mqp_access_check(e->cfg2, g, "acme/audit/case:updated", MQP_ACCESS_READ),
                     MQP_DENY);
}

static void test_service_identity(void **state)
{
    struct env *e = *state;
    const char *const bridge[] = {"mqpush-bridge"};
    struct mqp_identity *id = identity(NULL, bridge, 1, 1000);
    struct mqp_client *c = mqp_clients_put(&e->t, "bridge", id, e->cfg, &conn_a);

    mqp_identity_free(id);
    assert_non_null(c);
    assert_null(c->tenant);
    assert_int_equal(c->kind, MQP_IDENTITY_SERVICE);
    assert_int_equal(mqp_access_check(e->cfg2, mqp_client_grant(c, e->cfg2),
                                      "acme/cases/case:updated", MQP_ACCESS_READ),
                     MQP_ALLOW);
}

static void test_take_expired(void **state)
{
    struct env *e = *state;
    const int64_t exps[] = {100, 200, INT64_MAX};
    const char *const ids[] = {"early", "late", "never"};
    struct mqp_client *list;

    for (size_t i = 0; i < 3; i++) {
        struct mqp_identity *id = identity("acme", WORKER, 1, exps[i]);

        assert_non_null(mqp_clients_put(&e->t, ids[i], id, e->cfg, &conn_a));
        mqp_identity_free(id);
    }
    assert_int_equal(e->t.earliest_exp, 100);
    assert_null(mqp_clients_take_expired(&e->t, 100));

    list = mqp_clients_take_expired(&e->t, 150);
    assert_non_null(list);
    assert_string_equal(list->id, "early");
    assert_null(list->next);
    assert_null(mqp_clients_find(&e->t, "early"));
    mqp_client_free(list);
    assert_int_equal(mqp_clients_count(&e->t), 2);
    assert_int_equal(e->t.earliest_exp, 200);

    list = mqp_clients_take_expired(&e->t, INT64_MAX);
    assert_non_null(list);
    assert_string_equal(list->id, "late");
    assert_null(list->next);
    mqp_client_free(list);
    assert_non_null(mqp_clients_find(&e->t, "never"));
    assert_int_equal(e->t.earliest_exp, INT64_MAX);
}

/* Claims cost memory per client: they are kept only where subscriber criteria read them. */
static void test_claims_kept_when_needed(void **state)
{
    struct env *e = *state;
    struct mqp_config *inbox = load(&e->fx, 3);
    struct mqp_identity *id = identity("acme", NULL, 0, 1000);
    struct mqp_identity *svc = identity(NULL, NULL, 0, 1000);
    json_object *sub;
    struct mqp_client *c;

    assert_non_null(inbox);
    id->claims = json_tokener_parse("{\"sub\": \"alice\"}");
    svc->claims = json_tokener_parse("{\"sub\": \"bridge\"}");
    assert_non_null(id->claims);
    assert_non_null(svc->claims);
    c = mqp_clients_put(&e->t, "plain", id, e->cfg, &conn_a);
    assert_non_null(c);
    assert_null(c->claims);
    c = mqp_clients_put(&e->t, "svc", svc, inbox, &conn_a);
    assert_non_null(c);
    assert_null(c->claims);
    c = mqp_clients_put(&e->t, "alice", id, inbox, &conn_a);
    assert_non_null(c);
    mqp_identity_free(id);
    mqp_identity_free(svc);
    /* The client holds its own reference: the identity is gone. */
    assert_true(json_object_object_get_ex(c->claims, "sub", &sub));
    assert_string_equal(json_object_get_string(sub), "alice");
    mqp_clients_clear(&e->t);
    mqp_config_free(inbox);
}

/* The target is well under 1 KiB per client, roles included. */
static void test_footprint(void **state)
{
    (void)state;
    const size_t id_len = 64, tenant_len = 32, roles = 8, role_len = 24;
    size_t total = sizeof(struct mqp_client) + id_len + 1 + tenant_len + 1 +
                   roles * (sizeof(char *) + role_len + 1);

    assert_true(sizeof(struct mqp_client) <= 256);
    assert_true(total < 700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_find_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_follows_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_kept_when_needed, setup, teardown),
        cmocka_unit_test(test_footprint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
