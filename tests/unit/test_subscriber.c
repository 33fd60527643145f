/*
 * Unit tests for core/subscriber.c: compiling and loading "subscriberCriteria" (errors with their
 * JSON paths), the decision mqp_stream_subscriber_match() for every kind of reader, the stream
 * lookup of the MQTT check, parsing delivered bodies, and the stream reference of the bridge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "config.h"
#include "event.h"
#include "jwk.h"
#include "jwt.h"
#include "subscriber.h"
#include "token.h"

#define NOW INT64_C(1800000000)

/* Test documents are written with single quotes for readability; JSON wants double ones. */
static char *dq(const char *s)
{
    char *out = strdup(s);

    assert_non_null(out);
    for (char *p = out; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    return out;
}

static json_object *json(const char *sq)
{
    char *text = dq(sq);
    json_object *o = json_tokener_parse(text);

    free(text);
    assert_non_null(o);
    return o;
}

static struct mqp_config *load(const char *sq, struct mqp_errors *errs)
{
    char *text = dq(sq);
    struct mqp_config *cfg = NULL;
    int rc = mqp_config_load_buffer(text, strlen(text), NULL, &cfg, errs);

    free(text);
    assert_int_equal(rc == 0, cfg != NULL);
    return cfg;
}

/* The document must fail with an error that is exactly want. */
static void expect_error(const char *sq, const char *want)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = load(sq, &errs);
    bool found = false;

    for (size_t i = 0; i < errs.n; i++)
        found = found || strcmp(errs.msgs[i], want) == 0;
    if (cfg != NULL || !found) {
        for (size_t i = 0; i < errs.n; i++)
            print_message("  %s\n", errs.msgs[i]);
        mqp_config_free(cfg);
        mqp_errors_clear(&errs);
        fail_msg("expected the error \"%s\"", want);
    }
    mqp_errors_clear(&errs);
}

#define TENANT(iss) "{'issuer': '" iss "', 'audience': 'mqpush', 'jwks': {'keys': []}"
#define EVENTS "'events': [{'namespace': 'app', 'name': 'note'}]"
/* Tenant "demo" with stream "mine" (subscriberCriteria sc) and stream "all" (none). */
#define DOC(sc)                                                                                    \
    "{'tenants': {'demo': " TENANT("https://i/demo") ", 'streams': {"                              \
                                                     "'mine': {" EVENTS                            \
                                                     ", 'subscriberCriteria': " sc                 \
                                                     "}, 'all': {" EVENTS "}}}}}"
#define SC_PATH "$.tenants.demo.streams.mine.subscriberCriteria"
#define FORM "must be {\"claim\": \"<path into the token's claims>\"}"

static void test_compile_errors(void **state)
{
    static const struct {
        const char *spec;
        const char *where; /* NULL: about the whole object */
        const char *msg;
    } cases[] = {
        {"[]", NULL, "must be an object of event path -> {\"claim\": \"<path>\"}"},
        {"{}", NULL, "must name at least one event path; leave it out for none"},
        {"{'payload..x': {'claim': 'sub'}}", "payload..x", "path \"payload..x\": empty segment"},
        {"{'payload.x': 'sub'}", "payload.x", FORM},
        {"{'payload.x': {}}", "payload.x", FORM},
        {"{'payload.x': {'claim': 5}}", "payload.x", FORM},
        {"{'payload.x': {'claim': 'sub', 'value': 1}}", "payload.x",
         "member \"value\" is not allowed: " FORM},
        {"{'payload.x': {'claim': ''}}", "payload.x", "claim: empty path"},
        {"{'a': {'claim': 'sub'}, 'b': {'claim': 'org[0'}}", "b", "claim: path \"org[0\": "},
    };
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *spec = json(cases[i].spec);
        struct mqp_subscriber_criteria *c = (void *)1;
        const char *where = "unset";

        err[0] = '\0';
        assert_int_equal(mqp_subscriber_criteria_compile(spec, &c, &where, err, sizeof(err)), -1);
        assert_null(c);
        if (cases[i].where == NULL)
            assert_null(where);
        else
            assert_string_equal(where, cases[i].where);
        if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("%s: got \"%s\", want \"%s...\"", cases[i].spec, err, cases[i].msg);
        json_object_put(spec);
    }
}

static void test_compile_limits(void **state)
{
    json_object *spec = json_object_new_object();
    struct mqp_subscriber_criteria *c = NULL;
    char key[32], err[128];

    (void)state;
    for (int i = 0; i < MQP_SUBSCRIBER_MAX_ENTRIES; i++) {
        snprintf(key, sizeof(key), "payload.k%d", i);
        json_object_object_add(spec, key, json("{'claim': 'sub'}"));
    }
    assert_int_equal(mqp_subscriber_criteria_compile(spec, &c, NULL, err, sizeof(err)), 0);
    assert_non_null(c);
    mqp_subscriber_criteria_free(c);
    json_object_object_add(spec, "payload.one-more", json("{'claim': 'sub'}"));
    assert_int_equal(mqp_subscriber_criteria_compile(spec, &c, NULL, NULL, 0), -1);
    assert_null(c);
    mqp_subscriber_criteria_free(NULL);
    json_object_put(spec);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error(DOC("[]"), SC_PATH ": must be an object of event path -> {\"claim\": \"<path>\"}");
    expect_error(DOC("{}"), SC_PATH ": must name at least one event path; leave it out for none");
    expect_error(DOC("{'payload.userId': 'sub'}"), SC_PATH "[\"payload.userId\"]: " FORM);
    expect_error(DOC("{'payload.userId': {'claim': ['sub']}}"),
                 SC_PATH "[\"payload.userId\"]: " FORM);
    expect_error(DOC("{'payload.userId': {'claim': 'sub', 'optional': true}}"),
                 SC_PATH "[\"payload.userId\"]: member \"optional\" is not allowed: " FORM);
    expect_error(DOC("{'payload.userId': {'claim': 'org..id'}}"), SC_PATH
                 "[\"payload.userId\"]: claim: path \"org..id\": empty segment at offset 4");
    expect_error(DOC("{'payload[': {'claim': 'sub'}}"),
                 SC_PATH "[\"payload[\"]: path \"payload[\": unbalanced '[' at offset 8");
    expect_error(DOC("{'user': {'claim': 'sub'}}, 'publicSubscribe': 1"),
                 "$.tenants.demo.streams.mine.publicSubscribe: must be a boolean, not an integer");
}

static void test_config_model(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = load(DOC("{'payload.userId': {'claim': 'sub'}}"), &errs);
    const struct mqp_tenant *t;

    (void)state;
    assert_non_null(cfg);
    assert_true(cfg->has_subscriber_criteria);
    t = mqp_config_tenant(cfg, "demo", 4);
    assert_true(t->has_subscriber_criteria);
    assert_non_null(mqp_tenant_stream(t, "mine", 4)->subscriber_criteria);
    assert_null(mqp_tenant_stream(t, "all", 3)->subscriber_criteria);
    mqp_config_free(cfg);

    cfg = load(
        "{'tenants': {'demo': " TENANT(
            "https://i/demo") ", 'streams': {'all': {" EVENTS
                              "}}}, 'other': " TENANT(
                                  "https://i/other") ", 'streams': {'mine': {" EVENTS
                                                     ", 'subscriberCriteria': {'payload.userId': "
                                                     "{'claim': 'sub'}}}}}}}",
        &errs);
    assert_non_null(cfg);
    assert_true(cfg->has_subscriber_criteria);
    assert_false(mqp_config_tenant(cfg, "demo", 4)->has_subscriber_criteria);
    assert_true(mqp_config_tenant(cfg, "other", 5)->has_subscriber_criteria);
    mqp_config_free(cfg);

    cfg = load("{'tenants': {'demo': " TENANT("https://i/demo") ", 'streams': {'all': {" EVENTS
                                                                "}}}}}",
               &errs);
    assert_non_null(cfg);
    assert_false(cfg->has_subscriber_criteria);
    assert_false(mqp_config_tenant(cfg, "demo", 4)->has_subscriber_criteria);
    mqp_config_free(cfg);
    assert_int_equal(errs.n, 0);
}

/* An identity as mqp_token_verify() builds it, with the claims given. */
static struct mqp_identity *identity(enum mqp_identity_kind kind, const char *claims)
{
    struct mqp_identity *id = calloc(1, sizeof(*id));

    assert_non_null(id);
    id->kind = kind;
    id->tenant = kind == MQP_IDENTITY_TENANT ? strdup("demo") : NULL;
    id->claims = claims ? json(claims) : NULL;
    id->exp = INT64_MAX;
    return id;
}

static const struct mqp_stream *stream_of(const struct mqp_config *cfg, const char *id)
{
    const struct mqp_stream *s =
        mqp_tenant_stream(mqp_config_tenant(cfg, "demo", 4), id, strlen(id));

    assert_non_null(s);
    return s;
}

static void test_match(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = load(
        DOC("{'payload.userId': {'claim': 'sub'}, 'payload.org': {'claim': 'org.id'}}"), &errs);
    const struct mqp_stream *mine = stream_of(cfg, "mine"), *all = stream_of(cfg, "all");
    struct mqp_identity *alice =
        identity(MQP_IDENTITY_TENANT, "{'sub': 'alice', 'org': {'id': 7}}");
    struct mqp_identity *bob = identity(MQP_IDENTITY_TENANT, "{'sub': 'bob', 'org': {'id': 7}}");
    struct mqp_identity *no_org = identity(MQP_IDENTITY_TENANT, "{'sub': 'alice'}");
    struct mqp_identity *null_sub =
        identity(MQP_IDENTITY_TENANT, "{'sub': null, 'org': {'id': null}}");
    struct mqp_identity *no_claims = identity(MQP_IDENTITY_TENANT, NULL);
    struct mqp_identity *service = identity(MQP_IDENTITY_SERVICE, "{'sub': 'mqpush-bridge'}");
    json_object *for_alice = json("{'id': 'x', 'payload': {'userId': 'alice', 'org': 7.0}}");
    json_object *for_bob = json("{'id': 'y', 'payload': {'userId': 'bob', 'org': 7}}");
    json_object *other_org = json("{'payload': {'userId': 'alice', 'org': 8}}");
    json_object *no_user = json("{'payload': {'org': 7}}");
    json_object *null_user = json("{'payload': {'userId': null, 'org': null}}");
    json_object *typed = json("{'payload': {'userId': ['alice'], 'org': 7}}");

    (void)state;
    assert_non_null(cfg);
    /* Streams without subscriber criteria: everyone, anonymous included. */
    assert_true(mqp_stream_subscriber_match(all, NULL, for_alice));
    assert_true(mqp_stream_subscriber_match(all, bob, for_alice));
    assert_true(mqp_stream_subscriber_match(all, no_claims, NULL));
    /* Each holder gets the events naming it, and only those. */
    assert_true(mqp_stream_subscriber_match(mine, alice, for_alice));
    assert_false(mqp_stream_subscriber_match(mine, alice, for_bob));
    assert_true(mqp_stream_subscriber_match(mine, bob, for_bob));
    assert_false(mqp_stream_subscriber_match(mine, bob, for_alice));
    /* Every entry must match; numbers compare by value (7 and 7.0). */
    assert_false(mqp_stream_subscriber_match(mine, alice, other_org));
    /* A missing or null claim never matches, not even an event holding null there. */
    assert_false(mqp_stream_subscriber_match(mine, no_org, for_alice));
    assert_false(mqp_stream_subscriber_match(mine, null_sub, null_user));
    assert_false(mqp_stream_subscriber_match(mine, no_claims, for_alice));
    /* A missing event path never matches; values of another type do not either. */
    assert_false(mqp_stream_subscriber_match(mine, alice, no_user));
    assert_false(mqp_stream_subscriber_match(mine, alice, typed));
    assert_false(mqp_stream_subscriber_match(mine, alice, NULL));
    /* Anonymous readers never; services always (they check per subscriber themselves). */
    assert_false(mqp_stream_subscriber_match(mine, NULL, for_alice));
    assert_true(mqp_stream_subscriber_match(mine, service, for_alice));
    assert_true(mqp_stream_subscriber_match(mine, service, NULL));
    /* A stream that is gone: nobody. */
    assert_false(mqp_stream_subscriber_match(NULL, service, for_alice));

    json_object_put(for_alice);
    json_object_put(for_bob);
    json_object_put(other_org);
    json_object_put(no_user);
    json_object_put(null_user);
    json_object_put(typed);
    mqp_identity_free(alice);
    mqp_identity_free(bob);
    mqp_identity_free(no_org);
    mqp_identity_free(null_sub);
    mqp_identity_free(no_claims);
    mqp_identity_free(service);
    mqp_config_free(cfg);
}

/* Claim names holding dots (namespaced claims) resolve as one key, as event paths do. */
static void test_match_dotted_claim(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg =
        load(DOC("{'payload.userId': {'claim': 'https://mqpush.test/uid'}}"), &errs);
    struct mqp_identity *id =
        identity(MQP_IDENTITY_TENANT, "{'sub': 'x', 'https://mqpush.test/uid': 'u-1'}");
    json_object *ev = json("{'payload': {'userId': 'u-1'}}");

    (void)state;
    assert_non_null(cfg);
    assert_true(mqp_stream_subscriber_match(stream_of(cfg, "mine"), id, ev));
    json_object_put(ev);
    mqp_identity_free(id);
    mqp_config_free(cfg);
}

static void test_subscriber_stream(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = load(DOC("{'payload.userId': {'claim': 'sub'}}"), &errs);
    struct mqp_config *plain = load(
        "{'tenants': {'demo': " TENANT("https://i/demo") ", 'streams': {'mine': {" EVENTS "}}}}}",
        &errs);

    (void)state;
    assert_ptr_equal(mqp_subscriber_stream(cfg, "demo/mine/app:note"), stream_of(cfg, "mine"));
    assert_null(mqp_subscriber_stream(cfg, "demo/all/app:note"));
    assert_null(mqp_subscriber_stream(cfg, "demo/mine"));
    assert_null(mqp_subscriber_stream(cfg, "demo/nope/app:note"));
    assert_null(mqp_subscriber_stream(cfg, "other/mine/app:note"));
    assert_null(mqp_subscriber_stream(cfg, NULL));
    assert_null(mqp_subscriber_stream(plain, "demo/mine/app:note"));
    assert_null(mqp_subscriber_stream(NULL, "demo/mine/app:note"));
    mqp_config_free(cfg);
    mqp_config_free(plain);
}

static void test_parse_event(void **state)
{
    static const char good[] = "{\"payload\":{\"userId\":\"alice\"}}";
    static const char with_nul[] = "{\"a\":1}\0{\"b\":2}";
    static const char bad_utf8[] = "{\"a\":\"\xff\"}";
    json_object *o;

    (void)state;
    o = mqp_subscriber_parse_event(good, strlen(good));
    assert_non_null(o);
    json_object_put(o);
    assert_null(mqp_subscriber_parse_event("[1]", 3));
    assert_null(mqp_subscriber_parse_event("\"s\"", 3));
    assert_null(mqp_subscriber_parse_event("{\"a\":1} x", 9));
    assert_null(mqp_subscriber_parse_event("{\"a\":1}{}", 9));
    assert_null(mqp_subscriber_parse_event(with_nul, sizeof(with_nul) - 1));
    assert_null(mqp_subscriber_parse_event("{\"a\":", 5));
    assert_null(mqp_subscriber_parse_event(bad_utf8, strlen(bad_utf8)));
    assert_null(mqp_subscriber_parse_event("{}", 0));
    assert_null(mqp_subscriber_parse_event(NULL, 2));
}

struct copies {
    char topic[4][128];
    char *body[4];
    size_t n;
};

static int collect(void *ctx, const struct mqp_stream *stream, const char *topic, const char *body,
                   size_t body_len)
{
    struct copies *c = ctx;

    (void)stream;
    assert_true(c->n < 4);
    snprintf(c->topic[c->n], sizeof(c->topic[0]), "%s", topic);
    c->body[c->n] = strndup(body, body_len);
    c->n++;
    return 0;
}

/*
 * Event paths apply to the stream event as delivered: after the map, with the stamps. A
 * delivered body parsed again decides as the hub's parsed copy does.
 */
static void test_match_delivered_copy(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg =
        load("{'tenants': {'demo': " TENANT(
                 "https://i/demo") ", 'streams': {'mine': {"
                                   "'events': [{'namespace': 'app', 'name': 'note', 'map': "
                                   "{'owner': 'payload.userId'}}],"
                                   "'subscriberCriteria': {'owner': {'claim': 'sub'}, 'name': "
                                   "{'claim': 'kind'}}}}}}}",
             &errs);
    struct mqp_identity *alice = identity(MQP_IDENTITY_TENANT, "{'sub': 'alice', 'kind': 'note'}");
    struct mqp_identity *bob = identity(MQP_IDENTITY_TENANT, "{'sub': 'bob', 'kind': 'note'}");
    static const char event[] = "{\"payload\":{\"userId\":\"alice\",\"text\":\"hi\"}}";
    struct copies c = {0};
    json_object *parsed;

    (void)state;
    assert_non_null(cfg);
    assert_int_equal(
        mqp_event_fanout(cfg, "demo/events/app/note", event, strlen(event), collect, &c, NULL),
        MQP_EVENT_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.topic[0], "demo/mine/app:note");
    parsed = mqp_subscriber_parse_event(c.body[0], strlen(c.body[0]));
    assert_non_null(parsed);
    assert_ptr_equal(mqp_subscriber_stream(cfg, c.topic[0]), stream_of(cfg, "mine"));
    assert_true(mqp_stream_subscriber_match(stream_of(cfg, "mine"), alice, parsed));
    assert_false(mqp_stream_subscriber_match(stream_of(cfg, "mine"), bob, parsed));
    json_object_put(parsed);
    free(c.body[0]);
    mqp_identity_free(alice);
    mqp_identity_free(bob);
    mqp_config_free(cfg);
}

/* The claims come from a verified token: mqp_token_verify() keeps them on the identity. */
static void test_match_verified_token(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    json_object *jwk, *claims;
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;
    struct mqp_identity *id = NULL;
    char doc[2048], *token;
    json_object *mine = json("{'payload': {'userId': 'alice'}}");
    json_object *theirs = json("{'payload': {'userId': 'bob'}}");

    (void)state;
    assert_non_null(key);
    jwk = mqp_jwk_from_pkey(key);
    assert_non_null(jwk);
    snprintf(doc, sizeof(doc),
             "{'tenants': {'demo': {'issuer': 'https://i/demo', 'audience': 'mqpush', "
             "'jwks': {'keys': [%s]}, 'streams': {'mine': {'subscriberRoles': ['r'], " EVENTS
             ", 'subscriberCriteria': {'payload.userId': {'claim': 'sub'}}}}}}}",
             json_object_to_json_string_ext(jwk, JSON_C_TO_STRING_PLAIN));
    cfg = load(doc, &errs);
    assert_non_null(cfg);
    claims = json("{'iss': 'https://i/demo', 'aud': 'mqpush', 'sub': 'alice', 'roles': ['r']}");
    json_object_object_add(claims, "exp", json_object_new_int64(NOW + 600));
    token = mqp_jwt_sign(claims, NULL, key);
    assert_non_null(token);
    assert_int_equal(mqp_token_verify(cfg, token, strlen(token), NOW, &id, NULL, 0), MQP_TOKEN_OK);
    assert_true(mqp_stream_subscriber_match(stream_of(cfg, "mine"), id, mine));
    assert_false(mqp_stream_subscriber_match(stream_of(cfg, "mine"), id, theirs));
    free(token);
    json_object_put(claims);
    json_object_put(jwk);
    json_object_put(mine);
    json_object_put(theirs);
    mqp_identity_free(id);
    mqp_config_free(cfg);
    EVP_PKEY_free(key);
}

static void test_stream_ref(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *a = load(DOC("{'payload.userId': {'claim': 'sub'}}"), &errs);
    struct mqp_config *b = load(DOC("{'payload.userId': {'claim': 'sub'}}"), &errs);
    struct mqp_stream_ref ref = {0};

    (void)state;
    assert_ptr_equal(mqp_stream_ref_get(&ref, a, "demo", "mine"), stream_of(a, "mine"));
    assert_ptr_equal(mqp_stream_ref_get(&ref, a, "demo", "mine"), stream_of(a, "mine"));
    /* A model of another generation (a reload) is looked up afresh. */
    assert_ptr_equal(mqp_stream_ref_get(&ref, b, "demo", "mine"), stream_of(b, "mine"));
    assert_null(mqp_stream_ref_get(&ref, NULL, "demo", "mine"));
    ref = (struct mqp_stream_ref){0};
    assert_null(mqp_stream_ref_get(&ref, a, "demo", "gone"));
    assert_null(mqp_stream_ref_get(&ref, a, "demo", "gone"));
    mqp_config_free(a);
    mqp_config_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_compile_limits),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_model),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_match_dotted_claim),
        cmocka_unit_test(test_subscriber_stream),
        cmocka_unit_test(test_parse_event),
        cmocka_unit_test(test_match_delivered_copy),
        cmocka_unit_test(test_match_verified_token),
        cmocka_unit_test(test_stream_ref),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
