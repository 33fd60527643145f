/* Unit tests for core/access.c: grants and the allow/deny/defer table. */
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
#define U MQP_ACCESS_UNSUBSCRIBE

#define KEYS "\"jwks\": {\"keys\": []}"
#define EVENT(ns, n) "{\"namespace\": \"" ns "\", \"name\": \"" n "\"}"

static const char *const config_text =
    "{\"tenants\": {"
    "\"demo\": {\"issuer\": \"https://idp/demo\", \"audience\": \"mqpush\", " KEYS
    ", \"streams\": {"
    "  \"application-health\": {\"publicSubscribe\": true, \"events\": "
    "[" EVENT(
        "status-service",
        "health-check-started") "]},"
                                "  \"case-updates\": {\"subscriberRoles\": [\"case-worker\"], "
                                "\"events\": "
                                "[" EVENT(
                                    "case-service",
                                    "case-updated") "]},"
                                                    "  \"audit\": {\"subscriberRoles\": "
                                                    "[\"auditor\", \"admin\"]}}},"
                                                    "\"acme\": {\"issuer\": \"https://idp/acme\", "
                                                    "\"audience\": \"mqpush\", " KEYS
                                                    ", \"streams\": {"
                                                    "  \"application-health\": "
                                                    "{\"publicSubscribe\": true},"
                                                    "  \"orders\": {\"subscriberRoles\": "
                                                    "[\"order-viewer\"]}}}}}";

static const char *const reloaded_text =
    "{\"tenants\": {"
    "\"demo\": {\"issuer\": \"https://idp/demo\", \"audience\": \"mqpush\", " KEYS
    ", \"streams\": {"
    "  \"application-health\": {\"publicSubscribe\": true},"
    "  \"case-updates\": {\"publicSubscribe\": true}}}}}";

static struct mqp_config *load_text(const char *text)
{
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};

    if (mqp_config_load_buffer(text, strlen(text), NULL, &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++)
            print_message("%s\n", errs.msgs[i]);
        mqp_errors_clear(&errs);
        fail_msg("test configuration did not load");
    }
    return cfg;
}

/* An identity as token.c would produce it; roles separated by spaces. */
static struct mqp_identity *ident(enum mqp_identity_kind kind, const char *tenant,
                                  const char *roles)
{
    struct mqp_identity *id = calloc(1, sizeof(*id));
    char *copy = strdup(roles), *save = NULL;

    assert_non_null(id);
    assert_non_null(copy);
    id->kind = kind;
    id->exp = INT64_MAX;
    if (tenant != NULL) {
        id->tenant = strdup(tenant);
        assert_non_null(id->tenant);
    }
    id->roles = calloc(8, sizeof(*id->roles));
    assert_non_null(id->roles);
    for (char *r = strtok_r(copy, " ", &save); r != NULL; r = strtok_r(NULL, " ", &save)) {
        assert_true(id->n_roles < 8);
        id->roles[id->n_roles] = strdup(r);
        assert_non_null(id->roles[id->n_roles]);
        id->n_roles++;
    }
    free(copy);
    return id;
}

enum who {
    ANON,        /* no token of ours */
    DEMO_PLAIN,  /* demo token without roles */
    DEMO_LISTEN, /* demo, stream-listener */
    DEMO_CASE,   /* demo, case-worker */
    DEMO_PUB,    /* demo, mqpush-publisher */
    ACME_VIEWER, /* acme, order-viewer; also case-worker, a role of a demo stream */
    BRIDGE,      /* service, mqpush-bridge */
    SERVICE,     /* service without roles */
    GONE,        /* token of a tenant the configuration no longer has */
    N_WHO,
};

static const struct {
    enum mqp_identity_kind kind;
    const char *tenant;
    const char *roles;
} who_spec[N_WHO] = {
    [ANON] = {0, NULL, ""},
    [DEMO_PLAIN] = {MQP_IDENTITY_TENANT, "demo", ""},
    [DEMO_LISTEN] = {MQP_IDENTITY_TENANT, "demo", "offline_access stream-listener"},
    [DEMO_CASE] = {MQP_IDENTITY_TENANT, "demo", "case-worker"},
    [DEMO_PUB] = {MQP_IDENTITY_TENANT, "demo", "mqpush-publisher"},
    [ACME_VIEWER] = {MQP_IDENTITY_TENANT, "acme", "order-viewer case-worker"},
    [BRIDGE] = {MQP_IDENTITY_SERVICE, NULL, "mqpush-bridge"},
    [SERVICE] = {MQP_IDENTITY_SERVICE, NULL, "stream-listener mqpush-publisher"},
    [GONE] = {MQP_IDENTITY_TENANT, "gone", "stream-listener mqpush-publisher"},
};

static const char *const who_name[N_WHO] = {
    "anonymous", "demo",    "demo listener", "demo case-worker", "demo publisher", "acme viewer",
    "bridge",    "service", "gone",
};

struct fixture {
    struct mqp_config *cfg;
    struct mqp_identity *ids[N_WHO];
    struct mqp_grant grants[N_WHO];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->cfg = load_text(config_text);
    for (int w = 0; w < N_WHO; w++) {
        if (w != ANON)
            f->ids[w] = ident(who_spec[w].kind, who_spec[w].tenant, who_spec[w].roles);
        if (mqp_grant_compute(f->cfg, f->ids[w], &f->grants[w]) != 0)
            return -1;
    }
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

static const char *decision_name(enum mqp_decision d)
{
    return d == MQP_ALLOW ? "ALLOW" : d == MQP_DENY ? "DENY" : d == MQP_DEFER ? "DEFER" : "?";
}

static const char *access_name(int a)
{
    return a == R ? "READ" : a == W ? "WRITE" : a == S ? "SUBSCRIBE" : a == U ? "UNSUBSCRIBE" : "?";
}

struct row {
    enum who who;
    int access;
    const char *topic;
    enum mqp_decision want;
};

static const struct row table[] = {
    /* Clients without our token: public streams, DEFER outside our stream topics. */
    {ANON, R, "demo/application-health/status-service:health-check-started", MQP_ALLOW},
    {ANON, R, "acme/application-health/status-service:health-check-started", MQP_ALLOW},
    {ANON, R, "demo/case-updates/case-service:case-updated", MQP_DENY},
    {ANON, R, "demo/unknown/a:b", MQP_DENY},
    {ANON, R, "demo/events/status-service/health-check-started", MQP_DEFER},
    {ANON, R, "other/topic/x", MQP_DEFER},
    {ANON, R, "$SYS/broker/uptime", MQP_DEFER},
    {ANON, R, "demo/application-health", MQP_DENY},
    {ANON, R, "demo", MQP_DEFER},
    {ANON, W, "demo/application-health/a:b", MQP_DENY},
    {ANON, W, "demo/case-updates/a:b", MQP_DENY},
    {ANON, W, "demo/unknown/a:b", MQP_DENY},
    {ANON, W, "demo/events/status-service/health-check-started", MQP_DEFER},
    {ANON, W, "other/topic", MQP_DEFER},
    {ANON, W, "demo", MQP_DEFER},
    {ANON, S, "demo/application-health/#", MQP_ALLOW},
    {ANON, S, "demo/+/#", MQP_ALLOW},
    {ANON, S, "demo/#", MQP_ALLOW},
    {ANON, S, "demo/case-updates/#", MQP_DENY},
    {ANON, S, "demo/nope/#", MQP_DENY},
    {ANON, S, "demo/events/#", MQP_DEFER},
    {ANON, S, "+/application-health/#", MQP_DEFER},
    {ANON, S, "#", MQP_DEFER},
    {ANON, S, "$SYS/#", MQP_DEFER},
    {ANON, S, "other/#", MQP_DEFER},
    {ANON, S, "$share/g/demo/application-health/#", MQP_ALLOW},
    {ANON, S, "$share/g/demo/case-updates/#", MQP_DENY},
    {ANON, S, "$share/g/#", MQP_DEFER},
    {ANON, S, "$share//demo/#", MQP_DENY},
    {ANON, S, "$share/g", MQP_DENY},
    {ANON, S, "$share/g+/demo/#", MQP_DENY},
    {ANON, U, "demo/case-updates/#", MQP_ALLOW},
    {ANON, U, "$share/g", MQP_ALLOW},

    /* A tenant token without roles: its tenant's public streams only. */
    {DEMO_PLAIN, R, "demo/application-health/status-service:health-check-started", MQP_ALLOW},
    {DEMO_PLAIN, R, "demo/case-updates/case-service:case-updated", MQP_DENY},
    {DEMO_PLAIN, R, "acme/application-health/status-service:health-check-started", MQP_DENY},
    {DEMO_PLAIN, R, "demo/events/status-service/health-check-started", MQP_DENY},
    {DEMO_PLAIN, R, "demo/unknown/a:b", MQP_DENY},
    {DEMO_PLAIN, R, "demo/application-health", MQP_DENY},
    {DEMO_PLAIN, R, "$SYS/broker/uptime", MQP_DENY},
    {DEMO_PLAIN, R, "other/topic/x", MQP_DENY},
    {DEMO_PLAIN, R, "dem/application-health/a:b", MQP_DENY},
    {DEMO_PLAIN, R, "/application-health/a:b", MQP_DENY},
    {DEMO_PLAIN, R, "demo2/application-health/a:b", MQP_DENY},
    {DEMO_PLAIN, S, "dem/application-health/#", MQP_DENY},
    {DEMO_PLAIN, W, "demo/events/status-service/health-check-started", MQP_DENY},
    {DEMO_PLAIN, W, "demo/application-health/a:b", MQP_DENY},
    {DEMO_PLAIN, S, "demo/application-health/#", MQP_ALLOW},
    {DEMO_PLAIN, S, "demo/application-health", MQP_ALLOW},
    {DEMO_PLAIN, S, "demo/#", MQP_ALLOW},
    {DEMO_PLAIN, S, "demo/+/status-service:health-check-started", MQP_ALLOW},
    {DEMO_PLAIN, S, "demo/case-updates/#", MQP_DENY},
    {DEMO_PLAIN, S, "demo/events/#", MQP_DENY},
    {DEMO_PLAIN, S, "demo/unknown/#", MQP_DENY},
    {DEMO_PLAIN, S, "demo", MQP_DENY},
    {DEMO_PLAIN, S, "acme/#", MQP_DENY},
    {DEMO_PLAIN, S, "acme/application-health/#", MQP_DENY},
    {DEMO_PLAIN, S, "#", MQP_DENY},
    {DEMO_PLAIN, S, "+/application-health/#", MQP_DENY},
    {DEMO_PLAIN, S, "+/#", MQP_DENY},
    {DEMO_PLAIN, S, "$SYS/#", MQP_DENY},
    {DEMO_PLAIN, S, "other/#", MQP_DENY},
    {DEMO_PLAIN, S, "$share/g/#", MQP_DENY},
    {DEMO_PLAIN, S, "$share/g/acme/#", MQP_DENY},
    {DEMO_PLAIN, S, "$share/g/demo/#", MQP_ALLOW},
    {DEMO_PLAIN, S, "$share/g/$SYS/#", MQP_DENY},
    {DEMO_PLAIN, S, "$share/g", MQP_DENY},
    {DEMO_PLAIN, U, "acme/#", MQP_ALLOW},

    /* stream-listener reads every stream of its own tenant, and nothing of another. */
    {DEMO_LISTEN, R, "demo/case-updates/case-service:case-updated", MQP_ALLOW},
    {DEMO_LISTEN, R, "demo/audit/a:b", MQP_ALLOW},
    {DEMO_LISTEN, R, "acme/orders/order-service:order-shipped", MQP_DENY},
    {DEMO_LISTEN, R, "demo/events/case-service/case-updated", MQP_DENY},
    {DEMO_LISTEN, S, "demo/case-updates/#", MQP_ALLOW},
    {DEMO_LISTEN, S, "$share/workers/demo/audit/#", MQP_ALLOW},
    {DEMO_LISTEN, S, "acme/orders/#", MQP_DENY},
    {DEMO_LISTEN, S, "+/orders/#", MQP_DENY},
    {DEMO_LISTEN, W, "demo/events/case-service/case-updated", MQP_DENY},

    /* subscriberRoles open exactly the streams that list them. */
    {DEMO_CASE, R, "demo/case-updates/case-service:case-updated", MQP_ALLOW},
    {DEMO_CASE, R, "demo/audit/a:b", MQP_DENY},
    {DEMO_CASE, S, "demo/case-updates", MQP_ALLOW},
    {DEMO_CASE, S, "demo/audit/#", MQP_DENY},

    /* Publishers write their tenant's event topics and nothing else. */
    {DEMO_PUB, W, "demo/events/case-service/case-updated", MQP_ALLOW},
    {DEMO_PUB, W, "demo/events/any-ns/any-name", MQP_ALLOW},
    {DEMO_PUB, W, "demo/events/a/b/c", MQP_DENY},
    {DEMO_PUB, W, "demo/events/a", MQP_DENY},
    {DEMO_PUB, W, "demo/events/a/", MQP_DENY},
    {DEMO_PUB, W, "demo/events//b", MQP_DENY},
    {DEMO_PUB, W, "demo/events/a b/c", MQP_DENY},
    {DEMO_PUB, W, "demo/events/a:b/c", MQP_DENY},
    {DEMO_PUB, W, "acme/events/order-service/order-shipped", MQP_DENY},
    {DEMO_PUB, W, "demo/case-updates/case-service:case-updated", MQP_DENY},
    {DEMO_PUB, W, "demo/application-health/a:b", MQP_DENY},
    {DEMO_PUB, W, "other/topic", MQP_DENY},
    {DEMO_PUB, W, "$SYS/x", MQP_DENY},
    {DEMO_PUB, R, "demo/events/case-service/case-updated", MQP_DENY},
    {DEMO_PUB, R, "demo/application-health/a:b", MQP_ALLOW},
    {DEMO_PUB, R, "demo/case-updates/a:b", MQP_DENY},
    {DEMO_PUB, S, "demo/events/#", MQP_DENY},

    {ACME_VIEWER, R, "acme/orders/order-service:order-shipped", MQP_ALLOW},
    {ACME_VIEWER, R, "acme/application-health/a:b", MQP_ALLOW},
    {ACME_VIEWER, R, "demo/application-health/a:b", MQP_DENY},
    {ACME_VIEWER, R, "demo/case-updates/case-service:case-updated", MQP_DENY},
    {ACME_VIEWER, S, "demo/case-updates/#", MQP_DENY},
    {ACME_VIEWER, S, "$share/g/acme/orders/#", MQP_ALLOW},
    {ACME_VIEWER, S, "$share/g/demo/#", MQP_DENY},
    {ACME_VIEWER, S, "acme/+/#", MQP_ALLOW},

    /* The bridge: every tenant's streams and event topics, nothing else. */
    {BRIDGE, R, "demo/case-updates/case-service:case-updated", MQP_ALLOW},
    {BRIDGE, R, "acme/orders/order-service:order-shipped", MQP_ALLOW},
    {BRIDGE, R, "acme/application-health/a:b", MQP_ALLOW},
    {BRIDGE, R, "demo/events/case-service/case-updated", MQP_DENY},
    {BRIDGE, R, "demo/unknown/a:b", MQP_DENY},
    {BRIDGE, R, "other/s/a:b", MQP_DENY},
    {BRIDGE, R, "$SYS/broker/uptime", MQP_DENY},
    {BRIDGE, W, "demo/events/case-service/case-updated", MQP_ALLOW},
    {BRIDGE, W, "acme/events/order-service/order-shipped", MQP_ALLOW},
    {BRIDGE, W, "other/events/a/b", MQP_DENY},
    {BRIDGE, W, "demo/events/a/b/c", MQP_DENY},
    {BRIDGE, W, "demo/case-updates/a:b", MQP_DENY},
    {BRIDGE, S, "#", MQP_ALLOW},
    {BRIDGE, S, "+/application-health/#", MQP_ALLOW},
    {BRIDGE, S, "+/+/#", MQP_ALLOW},
    {BRIDGE, S, "+/#", MQP_ALLOW},
    {BRIDGE, S, "+/events/#", MQP_DENY},
    {BRIDGE, S, "demo/#", MQP_ALLOW},
    {BRIDGE, S, "demo/+", MQP_ALLOW},
    {BRIDGE, S, "demo/case-updates/#", MQP_ALLOW},
    {BRIDGE, S, "acme/orders/#", MQP_ALLOW},
    {BRIDGE, S, "demo/events/#", MQP_DENY},
    {BRIDGE, S, "demo/unknown/#", MQP_DENY},
    {BRIDGE, S, "demo", MQP_DENY},
    {BRIDGE, S, "other/#", MQP_DENY},
    {BRIDGE, S, "$SYS/#", MQP_DENY},
    {BRIDGE, S, "$share/bridge/#", MQP_ALLOW},
    {BRIDGE, S, "$share/bridge/+/orders/#", MQP_ALLOW},
    {BRIDGE, S, "$share/bridge/$SYS/#", MQP_DENY},
    {BRIDGE, S, "$share/bridge", MQP_DENY},

    /* A service token without mqpush-bridge opens nothing, not even public streams. */
    {SERVICE, R, "demo/application-health/a:b", MQP_DENY},
    {SERVICE, R, "demo/case-updates/a:b", MQP_DENY},
    {SERVICE, W, "demo/events/a/b", MQP_DENY},
    {SERVICE, W, "other/topic", MQP_DENY},
    {SERVICE, S, "#", MQP_DENY},
    {SERVICE, S, "demo/application-health/#", MQP_DENY},
    {SERVICE, U, "#", MQP_ALLOW},

    /* The tenant of this token was removed: its holder gets nothing. */
    {GONE, R, "demo/application-health/a:b", MQP_DENY},
    {GONE, R, "gone/s/a:b", MQP_DENY},
    {GONE, W, "gone/events/a/b", MQP_DENY},
    {GONE, S, "gone/#", MQP_DENY},
    {GONE, S, "demo/application-health/#", MQP_DENY},
    {GONE, U, "gone/#", MQP_ALLOW},
};

static void test_decision_table(void **state)
{
    struct fixture *f = *state;
    int failures = 0;

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct row *r = &table[i];
        enum mqp_decision got = mqp_access_check(f->cfg, &f->grants[r->who], r->topic, r->access);

        if (got != r->want) {
            print_error("%s %s \"%s\": got %s, want %s\n", who_name[r->who], access_name(r->access),
                        r->topic, decision_name(got), decision_name(r->want));
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/*
 * The per-request form the bridge uses agrees with the grant for anonymous clients, the bridge,
 * and tenant identities on their own tenant's streams.
 */
static void test_stream_readable_agrees(void **state)
{
    struct fixture *f = *state;

    for (size_t t = 0; t < f->cfg->n_tenants; t++) {
        const struct mqp_tenant *tenant = &f->cfg->tenants[t];

        for (size_t i = 0; i < tenant->n_streams; i++) {
            const struct mqp_stream *s = &tenant->streams[i];

            for (int w = 0; w < N_WHO; w++) {
                const struct mqp_identity *id = f->ids[w];

                if (id != NULL && id->kind == MQP_IDENTITY_TENANT &&
                    strcmp(id->tenant, tenant->id) != 0)
                    continue;
                if (id != NULL && w == SERVICE)
                    continue;
                if (mqp_grant_can_read(&f->grants[w], s) != mqp_stream_readable(s, id))
                    fail_msg("%s on %s/%s: grant and per-request form disagree", who_name[w],
                             tenant->id, s->id);
            }
        }
    }
}

static void test_stream_readable(void **state)
{
    struct fixture *f = *state;
    const struct mqp_tenant *demo = mqp_config_tenant(f->cfg, "demo", 4);
    const struct mqp_tenant *acme = mqp_config_tenant(f->cfg, "acme", 4);
    const struct mqp_stream *demo_health = mqp_tenant_stream(demo, "application-health", 18);
    const struct mqp_stream *cases = mqp_tenant_stream(demo, "case-updates", 12);
    const struct mqp_stream *orders = mqp_tenant_stream(acme, "orders", 6);

    assert_true(mqp_stream_readable(demo_health, NULL));
    assert_false(mqp_stream_readable(cases, NULL));
    assert_true(mqp_stream_readable(cases, f->ids[DEMO_CASE]));
    assert_true(mqp_stream_readable(cases, f->ids[DEMO_LISTEN]));
    assert_false(mqp_stream_readable(cases, f->ids[DEMO_PLAIN]));
    /* Roles count only within their own tenant. */
    assert_false(mqp_stream_readable(cases, f->ids[ACME_VIEWER]));
    assert_false(mqp_stream_readable(orders, f->ids[DEMO_LISTEN]));
    assert_true(mqp_stream_readable(orders, f->ids[ACME_VIEWER]));
    assert_true(mqp_stream_readable(orders, f->ids[BRIDGE]));
    assert_false(mqp_stream_readable(orders, f->ids[SERVICE]));
    assert_false(mqp_stream_readable(orders, f->ids[GONE]));
    /* Over HTTP a public stream is public to everyone, as it is to anonymous clients. */
    assert_true(mqp_stream_readable(demo_health, f->ids[ACME_VIEWER]));
    assert_true(mqp_stream_readable(demo_health, f->ids[SERVICE]));
    assert_false(mqp_stream_readable(NULL, f->ids[BRIDGE]));

    assert_true(mqp_grant_can_read(&f->grants[ANON], demo_health));
    assert_false(mqp_grant_can_read(&f->grants[ANON], cases));
    assert_true(mqp_grant_can_read(&f->grants[BRIDGE], orders));
    assert_false(mqp_grant_can_read(&f->grants[SERVICE], demo_health));
    assert_false(mqp_grant_can_read(&f->grants[ACME_VIEWER], cases));
    assert_false(mqp_grant_can_read(&f->grants[ACME_VIEWER], demo_health));
    assert_false(mqp_grant_can_read(&f->grants[BRIDGE], NULL));
    assert_false(mqp_grant_can_read(NULL, demo_health));
}

static void test_grant_fields(void **state)
{
    struct fixture *f = *state;
    const struct mqp_tenant *demo = mqp_config_tenant(f->cfg, "demo", 4);
    const struct mqp_grant *g;

    g = &f->grants[ANON];
    assert_int_equal(g->flags, 0);
    assert_null(g->tenant);
    assert_int_equal(g->generation, f->cfg->generation);

    g = &f->grants[DEMO_CASE];
    assert_int_equal(g->flags, MQP_GRANT_TOKEN);
    assert_ptr_equal(g->tenant, demo);
    assert_int_equal(g->words, 1);
    assert_ptr_equal(g->readable, g->inline_bits);
    /* streams: application-health (public) = bit 0, case-updates = bit 1, audit = bit 2 */
    assert_int_equal(g->readable[0], 0x3);
    assert_int_equal(f->grants[DEMO_LISTEN].readable[0], 0x7);
    assert_int_equal(f->grants[DEMO_PLAIN].readable[0], 0x1);
    assert_int_equal(f->grants[DEMO_PUB].flags, MQP_GRANT_TOKEN | MQP_GRANT_PUBLISH);

    assert_int_equal(f->grants[BRIDGE].flags, MQP_GRANT_TOKEN | MQP_GRANT_ALL_TENANTS);
    assert_null(f->grants[BRIDGE].tenant);
    assert_int_equal(f->grants[SERVICE].flags, MQP_GRANT_TOKEN);
    assert_int_equal(f->grants[GONE].flags, MQP_GRANT_TOKEN);
    assert_null(f->grants[GONE].tenant);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    const struct mqp_grant *g = &f->grants[DEMO_LISTEN];
    const char *topic = "demo/case-updates/a:b";

    assert_int_equal(mqp_access_check(f->cfg, g, topic, R), MQP_ALLOW);
    assert_int_equal(mqp_access_check(f->cfg, g, topic, 0), MQP_DENY);
    assert_int_equal(mqp_access_check(f->cfg, g, topic, R | W), MQP_DENY);
    assert_int_equal(mqp_access_check(f->cfg, g, NULL, R), MQP_DENY);
    assert_int_equal(mqp_access_check(f->cfg, NULL, topic, R), MQP_DENY);
    assert_int_equal(mqp_access_check(NULL, g, topic, R), MQP_DENY);
    assert_int_equal(mqp_access_check(f->cfg, g, "", S), MQP_DENY);
    mqp_grant_clear(NULL);
}

/* Tenant "big" with n streams s0..s<n-1>; s<i> is public when i % 50 == 7, role "r<i>". */
static struct mqp_config *load_big(int n)
{
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    struct mqp_config *cfg;

    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len,
                            "{\"tenants\": {\"big\": {\"issuer\": \"i\", \"audience\": \"a\", " KEYS
                            ", \"streams\": {");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "%s\"s%d\": {\"publicSubscribe\": %s, \"subscriberRoles\": "
                                "[\"r%d\"]}",
                                i ? ", " : "", i, i % 50 == 7 ? "true" : "false", i);
    len += (size_t)snprintf(text + len, cap - len, "}}}}");
    assert_true(len < cap);
    cfg = load_text(text);
    free(text);
    assert_int_equal(cfg->tenants[0].n_streams, (size_t)n);
    return cfg;
}

/* More streams than the inline words hold: the bitmap moves to the heap. */
static void test_many_streams(void **state)
{
    struct mqp_config *cfg = load_big(200);
    const struct mqp_tenant *t = &cfg->tenants[0];
    struct mqp_identity *id = ident(MQP_IDENTITY_TENANT, "big", "r150 r3 r199");
    struct mqp_grant g, copy;
    char topic[64];

    (void)state;
    assert_int_equal(mqp_grant_compute(cfg, id, &g), 0);
    assert_int_equal(g.words, 4);
    assert_ptr_not_equal(g.readable, g.inline_bits);
    for (size_t i = 0; i < t->n_streams; i++) {
        bool want = i % 50 == 7 || i == 150 || i == 3 || i == 199;

        if (mqp_grant_can_read(&g, &t->streams[i]) != want)
            fail_msg("stream s%zu: want %d", i, want);
        snprintf(topic, sizeof(topic), "big/s%zu/n:e", i);
        assert_int_equal(mqp_access_check(cfg, &g, topic, R), want ? MQP_ALLOW : MQP_DENY);
    }
    /* A copy by value reads the same heap bitmap; only one copy is cleared. */
    copy = g;
    assert_true(mqp_grant_can_read(&copy, &t->streams[199]));
    mqp_grant_clear(&g);
    assert_int_equal(g.words, 0);
    assert_false(mqp_grant_can_read(&g, &t->streams[199]));
    mqp_grant_clear(&g);
    mqp_identity_free(id);
    mqp_config_free(cfg);

    /* 128 streams still fit inline; a copy does not point into the original. */
    cfg = load_big(128);
    t = &cfg->tenants[0];
    id = ident(MQP_IDENTITY_TENANT, "big", "r5 r127");
    assert_int_equal(mqp_grant_compute(cfg, id, &g), 0);
    assert_int_equal(g.words, 2);
    assert_ptr_equal(g.readable, g.inline_bits);
    copy = g;
    memset(&g, 0xff, sizeof(g));
    assert_true(mqp_grant_can_read(&copy, &t->streams[5]));
    assert_true(mqp_grant_can_read(&copy, &t->streams[127]));
    assert_true(mqp_grant_can_read(&copy, &t->streams[107]));
    assert_false(mqp_grant_can_read(&copy, &t->streams[6]));
    assert_false(mqp_grant_can_read(&copy, &t->streams[126]));
    mqp_grant_clear(&copy);
    mqp_identity_free(id);
    mqp_config_free(cfg);
}

static void test_generation_change(void **state)
{
    struct fixture *f = *state;
    struct mqp_config *next;
    struct mqp_grant g;
    const char *private_topic = "demo/case-updates/case-service:case-updated";
    const char *public_topic = "demo/application-health/status-service:health-check-started";

    /* A reload with the same content is still a new generation. */
    next = load_text(config_text);
    assert_true(next->generation > f->cfg->generation);
    /* Old grants of token holders fail closed under the new model... */
    assert_int_equal(mqp_access_check(next, &f->grants[DEMO_CASE], private_topic, R), MQP_DENY);
    assert_int_equal(mqp_access_check(next, &f->grants[BRIDGE], private_topic, R), MQP_DENY);
    /* ...and a recomputed one works again. */
    assert_int_equal(mqp_grant_compute(next, f->ids[DEMO_CASE], &g), 0);
    assert_int_equal(g.generation, next->generation);
    assert_ptr_equal(g.tenant, mqp_config_tenant(next, "demo", 4));
    assert_int_equal(mqp_access_check(next, &g, private_topic, R), MQP_ALLOW);
    mqp_grant_clear(&g);
    /* Foreign clients hold nothing from the model: their decision does not depend on it. */
    assert_int_equal(mqp_access_check(next, &f->grants[ANON], public_topic, R), MQP_ALLOW);
    mqp_config_free(next);

    /* The reload makes case-updates public and removes acme. */
    next = load_text(reloaded_text);
    assert_int_equal(mqp_grant_compute(next, f->ids[DEMO_PLAIN], &g), 0);
    assert_int_equal(mqp_access_check(next, &g, private_topic, R), MQP_ALLOW);
    mqp_grant_clear(&g);
    assert_int_equal(mqp_access_check(next, &f->grants[ANON], private_topic, R), MQP_ALLOW);
    assert_int_equal(mqp_grant_compute(next, f->ids[ACME_VIEWER], &g), 0);
    assert_null(g.tenant);
    assert_int_equal(mqp_access_check(next, &g, "acme/orders/a:b", R), MQP_DENY);
    assert_int_equal(mqp_access_check(next, &g, "acme/orders/#", S), MQP_DENY);
    mqp_grant_clear(&g);
    /* acme topics are no longer ours: a foreign client's decision goes elsewhere. */
    assert_int_equal(mqp_access_check(next, &f->grants[ANON], "acme/orders/#", S), MQP_DEFER);
    mqp_config_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decision_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_readable_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test(test_many_streams),
        cmocka_unit_test_setup_teardown(test_generation_change, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
