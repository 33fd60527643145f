/* Unit tests for the UnifiedPush topics in core/access.c: <tenant>/~unifiedpush/<owner>/<id>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "access.h"
#include "config.h"

#define R MQP_ACCESS_READ
#define W MQP_ACCESS_WRITE
#define S MQP_ACCESS_SUBSCRIBE

static const char *const config_text =
    "{\"tenants\": {"
    "\"demo\": {\"issuer\": \"https://idp/demo\", \"audience\": \"mqpush\", "
    "\"jwks\": {\"keys\": []}, \"streams\": {"
    "  \"public\": {\"publicSubscribe\": true}}},"
    "\"acme\": {\"issuer\": \"https://idp/acme\", \"audience\": \"mqpush\", "
    "\"jwks\": {\"keys\": []}, \"streams\": {\"public\": {\"publicSubscribe\": true}}}}}";

enum who { ANON, ALICE, BOB, NO_SUB, ACME_ALICE, BRIDGE, N_WHO };

struct fixture {
    struct mqp_config *cfg;
    struct mqp_identity *ids[N_WHO];
    struct mqp_grant grants[N_WHO];
    char alice[MQP_OWNER_KEY_LEN + 1], bob[MQP_OWNER_KEY_LEN + 1];
};

static struct mqp_identity *ident(enum mqp_identity_kind kind, const char *tenant, const char *sub,
                                  const char *role)
{
    struct mqp_identity *id = calloc(1, sizeof(*id));

    assert_non_null(id);
    id->kind = kind;
    id->exp = INT64_MAX;
    id->tenant = tenant ? strdup(tenant) : NULL;
    id->sub = sub ? strdup(sub) : NULL;
    id->roles = calloc(1, sizeof(*id->roles));
    assert_non_null(id->roles);
    if (role) {
        id->roles[0] = strdup(role);
        id->n_roles = 1;
    }
    return id;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct mqp_errors errs = {0};

    if (f == NULL ||
        mqp_config_load_buffer(config_text, strlen(config_text), NULL, &f->cfg, &errs) != 0)
        return -1;
    f->ids[ALICE] = ident(MQP_IDENTITY_TENANT, "demo", "alice", NULL);
    f->ids[BOB] = ident(MQP_IDENTITY_TENANT, "demo", "bob", "stream-listener");
    f->ids[NO_SUB] = ident(MQP_IDENTITY_TENANT, "demo", NULL, "stream-listener");
    f->ids[ACME_ALICE] = ident(MQP_IDENTITY_TENANT, "acme", "alice", NULL);
    f->ids[BRIDGE] = ident(MQP_IDENTITY_SERVICE, NULL, "mqpush-bridge", "mqpush-bridge");
    for (int w = 0; w < N_WHO; w++)
        if (mqp_grant_compute(f->cfg, f->ids[w], &f->grants[w]) != 0)
            return -1;
    if (mqp_owner_key("alice", f->alice) != 0 || mqp_owner_key("bob", f->bob) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    for (int w = 0; w < N_WHO; w++) {
        mqp_grant_clear(&f->grants[w]);
        mqp_identity_free(f->ids[w]);
    }
    mqp_config_free(f->cfg);
    free(f);
    return 0;
}

static void test_owner_key(void **state)
{
    char k[MQP_OWNER_KEY_LEN + 1];

    (void)state;
    /* SHA-256("alice"), base64url without padding */
    assert_int_equal(mqp_owner_key("alice", k), 0);
    assert_string_equal(k, "K9gGyX8OAK8aH8Myj6djqSaXI8jbj6xPk69x2xhtbpA");
    assert_int_equal(mqp_owner_key("a/b+#\n", k), 0);
    assert_int_equal(strlen(k), MQP_OWNER_KEY_LEN);
    assert_null(strpbrk(k, "/+#"));
    assert_int_equal(mqp_owner_key("", k), -1);
    assert_string_equal(k, "");
    assert_int_equal(mqp_owner_key(NULL, k), -1);
}

static enum mqp_decision check(struct fixture *f, enum who w, const char *fmt, const char *key,
                               int access)
{
    char topic[256];

    snprintf(topic, sizeof(topic), fmt, key);
    return mqp_access_check(f->cfg, &f->grants[w], topic, access);
}

static void test_owner_reads(void **state)
{
    struct fixture *f = *state;
    const char *a = f->alice;

    assert_string_equal(f->grants[ALICE].owner, a);
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s/ep1", a, R), MQP_ALLOW);
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s/#", a, S), MQP_ALLOW);
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s/+", a, S), MQP_ALLOW);
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s/ep1", a, S), MQP_ALLOW);
    assert_int_equal(check(f, ALICE, "$share/g/demo/~unifiedpush/%s/#", a, S), MQP_ALLOW);
    /* Nobody but the bridge writes there, the owner neither. */
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s/ep1", a, W), MQP_DENY);
    /* The owner level itself, or nothing below it, opens nothing. */
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s", a, S), MQP_DENY);
    assert_int_equal(check(f, ALICE, "demo/~unifiedpush/%s", a, R), MQP_DENY);
}

static void test_others_refused(void **state)
{
    struct fixture *f = *state;
    const char *a = f->alice;

    /* Another user of the tenant, even a listener of every stream. */
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/%s/#", a, S), MQP_DENY);
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/%s/ep1", f->bob, R), MQP_ALLOW);
    /* Wildcards at the owner or marker level: refused outright... */
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/+/#", a, S), MQP_DENY);
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/#", a, S), MQP_DENY);
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/+/ep1", a, S), MQP_DENY);
    /* ...and above them the subscription is allowed, but every delivery is checked with READ,
     * which refuses other owners' messages. */
    assert_int_equal(check(f, BOB, "demo/#", a, S), MQP_ALLOW);
    assert_int_equal(check(f, BOB, "demo/+/+/+", a, S), MQP_ALLOW);
    assert_int_equal(check(f, BOB, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, BOB, "#", a, S), MQP_DENY);
    assert_int_equal(check(f, BOB, "+/~unifiedpush/%s/#", a, S), MQP_DENY);
    /* A token without "sub" names no user. */
    assert_string_equal(f->grants[NO_SUB].owner, "");
    assert_int_equal(check(f, NO_SUB, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, NO_SUB, "demo/~unifiedpush//ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, NO_SUB, "demo/~unifiedpush//#", a, S), MQP_DENY);
    /* The same "sub" in another tenant is another user. */
    assert_int_equal(check(f, ACME_ALICE, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, ACME_ALICE, "acme/~unifiedpush/%s/ep1", a, R), MQP_ALLOW);
    /* Clients without our token. */
    assert_int_equal(check(f, ANON, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, ANON, "demo/~unifiedpush/%s/#", a, S), MQP_DENY);
    assert_int_equal(check(f, ANON, "demo/~unifiedpush/%s/ep1", a, W), MQP_DENY);
}

static void test_bridge_writes(void **state)
{
    struct fixture *f = *state;
    const char *a = f->alice;

    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/%s/ep1", a, W), MQP_ALLOW);
    assert_int_equal(check(f, BRIDGE, "acme/~unifiedpush/%s/ep1", a, W), MQP_ALLOW);
    assert_int_equal(check(f, BRIDGE, "other/~unifiedpush/%s/ep1", a, W), MQP_DENY);
    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/%s/ep1/x", a, W), MQP_DENY);
    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/%s/", a, W), MQP_DENY);
    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/short/ep1", a, W), MQP_DENY);
    /* It reads none of them. */
    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/%s/ep1", a, R), MQP_DENY);
    assert_int_equal(check(f, BRIDGE, "demo/~unifiedpush/%s/#", a, S), MQP_DENY);
    assert_int_equal(check(f, BRIDGE, "+/~unifiedpush/#", a, S), MQP_DENY);
    /* Its other rights are unchanged. */
    assert_int_equal(check(f, BRIDGE, "demo/public/a:b", a, R), MQP_ALLOW);
    assert_int_equal(check(f, BRIDGE, "#", a, S), MQP_ALLOW);
}

static void test_recomputed_grant(void **state)
{
    struct fixture *f = *state;
    struct mqp_config *next = NULL;
    struct mqp_errors errs = {0};
    struct mqp_grant g;

    assert_int_equal(mqp_config_load_buffer(config_text, strlen(config_text), NULL, &next, &errs),
                     0);
    assert_int_equal(check(f, ALICE, "demo/public/a:b", NULL, R), MQP_ALLOW);
    assert_int_equal(mqp_access_check(next, &f->grants[ALICE], "demo/public/a:b", R), MQP_DENY);
    assert_int_equal(mqp_grant_compute(next, f->ids[ALICE], &g), 0);
    assert_string_equal(g.owner, f->alice);
    mqp_grant_clear(&g);
    assert_string_equal(g.owner, "");
    mqp_config_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner_key),
        cmocka_unit_test_setup_teardown(test_owner_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_others_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recomputed_grant, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
