/* Unit tests for core/config.c and core/stream.c: loading, validation errors, the model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "config.h"
#include "jwk.h"

static char tmpdir[64];

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

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* A JWKS file with one fresh P-256 public key, as the demo script writes them. */
static void write_jwks(const char *name)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    json_object *jwk, *set = json_object_new_object(), *keys = json_object_new_array();
    const char *text;
    char path[256];

    assert_non_null(key);
    jwk = mqp_jwk_from_pkey(key);
    assert_non_null(jwk);
    json_object_array_add(keys, jwk);
    json_object_object_add(set, "keys", keys);
    text = json_object_to_json_string(set);
    tmp_path(path, sizeof(path), name);
    write_file(path, text, strlen(text));
    json_object_put(set);
    EVP_PKEY_free(key);
}

static int setup(void **state)
{
    char path[256], *example;

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mqp-test-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    tmp_path(path, sizeof(path), "keys");
    if (mkdir(path, 0700) != 0)
        return -1;
    write_jwks("keys/demo.jwks.json");
    write_jwks("keys/acme.jwks.json");
    write_jwks("keys/service.jwks.json");
    example = read_text(MQP_SOURCE_DIR "/examples/streams.json");
    tmp_path(path, sizeof(path), "streams.json");
    write_file(path, example, strlen(example));
    free(example);
    return 0;
}

static int teardown(void **state)
{
    static const char *files[] = {"keys/demo.jwks.json",
                                  "keys/acme.jwks.json",
                                  "keys/service.jwks.json",
                                  "streams.json",
                                  "big.json",
                                  "keys"};
    char path[256];

    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tmp_path(path, sizeof(path), files[i]);
        remove(path);
    }
    return rmdir(tmpdir);
}

/* Load a single-quoted document; returns the model or NULL with errs filled. */
static struct mqp_config *load(const char *sq, struct mqp_errors *errs)
{
    char *text = dq(sq);
    struct mqp_config *cfg = NULL;
    int rc = mqp_config_load_buffer(text, strlen(text), tmpdir, &cfg, errs);

    free(text);
    assert_int_equal(rc == 0, cfg != NULL);
    return cfg;
}

static bool has_error(const struct mqp_errors *errs, const char *prefix)
{
    for (size_t i = 0; i < errs->n; i++) {
        if (strncmp(errs->msgs[i], prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

static void print_errors(const struct mqp_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        print_message("  %s\n", errs->msgs[i]);
}

/* The document must fail with (at least) an error starting with prefix. */
static void expect_error(const char *sq, const char *prefix)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = load(sq, &errs);

    if (cfg != NULL || !has_error(&errs, prefix)) {
        print_errors(&errs);
        mqp_config_free(cfg);
        mqp_errors_clear(&errs);
        fail_msg("expected an error \"%s...\" for %s", prefix, sq);
    }
    mqp_errors_clear(&errs);
}

#define KEYS "'jwks': {'keys': []}"
#define TENANT(iss) "{'issuer': '" iss "', 'audience': 'mqpush', " KEYS
/* A one-tenant document whose tenant "demo" gets the members in extra. */
#define DEMO(extra) "{'tenants': {'demo': " TENANT("https://i/demo") extra "}}}"
/* A document whose stream "s1" of tenant "demo" gets the members in body. */
#define S1(body) DEMO(", 'streams': {'s1': {" body "}}")

static void test_example_loads(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;
    const struct mqp_tenant *demo, *acme;
    const struct mqp_stream *health, *cases;
    char path[256];

    (void)state;
    tmp_path(path, sizeof(path), "streams.json");
    if (mqp_config_load_file(path, &cfg, &errs) != 0) {
        print_errors(&errs);
        fail_msg("example did not load");
    }
    assert_int_equal(errs.n, 0);
    assert_string_equal(cfg->path, path);
    assert_non_null(cfg->doc);
    assert_true(json_object_object_get_ex(cfg->doc, "tenants", NULL));
    assert_int_equal(cfg->n_tenants, 2);
    assert_string_equal(cfg->tenants[0].id, "demo");
    assert_string_equal(cfg->tenants[1].id, "acme");
    assert_true(cfg->has_service);
    assert_string_equal(cfg->service.issuer, "https://idp.mqpush.test/realms/service");
    assert_int_equal(mqp_jwks_count(cfg->service.jwks), 1);
    assert_int_equal(cfg->limits.max_event_bytes, 262144);
    assert_int_equal(cfg->limits.max_token_bytes, 8192);
    assert_int_equal(cfg->limits.leeway_seconds, 30);
    assert_true(cfg->limits.require_exp);

    demo = mqp_config_tenant(cfg, "demo", 4);
    acme = mqp_config_tenant(cfg, "acme", 4);
    assert_ptr_equal(demo, &cfg->tenants[0]);
    assert_ptr_equal(acme, &cfg->tenants[1]);
    assert_ptr_equal(mqp_config_tenant_by_issuer(cfg, "https://idp.mqpush.test/realms/acme"), acme);
    assert_null(mqp_config_tenant_by_issuer(cfg, "https://idp.mqpush.test/realms/service"));
    assert_string_equal(demo->issuer.audience, "mqpush");
    assert_string_equal(demo->issuer.roles_client, "mqpush"); /* defaults to the audience */
    assert_int_equal(mqp_jwks_count(demo->issuer.jwks), 1);
    assert_int_equal(demo->n_streams, 2);

    health = mqp_tenant_stream(demo, "application-health", strlen("application-health"));
    cases = mqp_tenant_stream(demo, "case-updates", strlen("case-updates"));
    assert_non_null(health);
    assert_non_null(cases);
    assert_int_equal(health->index, 0);
    assert_int_equal(cases->index, 1);
    assert_ptr_equal(cases->tenant, demo);
    assert_true(health->public_subscribe);
    assert_false(cases->public_subscribe);
    assert_string_equal(cases->name, "Case updates");
    assert_int_equal(cases->n_subscriber_roles, 1);
    assert_string_equal(cases->subscriber_roles[0], "case-worker");
    assert_int_equal(cases->n_events, 1);
    assert_non_null(cases->events[0].map);
    assert_non_null(cases->events[0].criteria);
    assert_null(health->events[0].map);
    assert_null(health->events[0].criteria);
    assert_null(mqp_tenant_stream(acme, "case-updates", strlen("case-updates")));
    assert_non_null(mqp_tenant_stream(acme, "orders", 6));
    mqp_config_free(cfg);
}

static void test_lookups_take_lengths(void **state)
{
    struct mqp_config *cfg;
    const struct mqp_tenant *t;
    const struct mqp_route *r;
    const char *topic = "demo/s1/ns:ev";

    (void)state;
    cfg = load(S1("'events': [{'namespace': 'ns', 'name': 'ev'}]"), NULL);
    assert_non_null(cfg);
    t = mqp_config_tenant(cfg, topic, 4);
    assert_non_null(t);
    assert_null(mqp_config_tenant(cfg, topic, 3));
    assert_null(mqp_config_tenant(cfg, topic, 5));
    assert_null(mqp_config_tenant(cfg, "demo", 0));
    assert_null(mqp_config_tenant(NULL, "demo", 4));
    assert_non_null(mqp_tenant_stream(t, topic + 5, 2));
    assert_null(mqp_tenant_stream(t, topic + 5, 3));
    assert_null(mqp_tenant_stream(NULL, "s1", 2));
    r = mqp_tenant_route(t, "nsX", 2, "evX", 2);
    assert_non_null(r);
    assert_string_equal(r->key, "ns:ev");
    assert_null(mqp_tenant_route(t, "ns", 2, "e", 1));
    assert_null(mqp_tenant_route(t, "ns:ev", 5, "", 0));
    assert_null(mqp_config_tenant_by_issuer(cfg, "https://i/dem"));
    assert_ptr_equal(mqp_config_tenant_by_issuer(cfg, "https://i/demo"), t);
    mqp_config_free(cfg);
}

static void test_defaults(void **state)
{
    struct mqp_config *cfg;
    const struct mqp_stream *s;

    (void)state;
    cfg = load(S1(""), NULL);
    assert_non_null(cfg);
    assert_false(cfg->has_service);
    assert_int_equal(cfg->limits.max_event_bytes, 256 * 1024);
    assert_int_equal(cfg->limits.max_token_bytes, 8 * 1024);
    assert_int_equal(cfg->limits.leeway_seconds, 30);
    assert_true(cfg->limits.require_exp);
    assert_null(cfg->path);
    s = mqp_tenant_stream(&cfg->tenants[0], "s1", 2);
    assert_non_null(s);
    assert_string_equal(s->name, "s1");
    assert_string_equal(s->description, "");
    assert_false(s->public_subscribe);
    assert_int_equal(s->n_subscriber_roles, 0);
    assert_int_equal(s->n_events, 0);
    assert_int_equal(mqp_jwks_count(cfg->tenants[0].issuer.jwks), 0);
    mqp_config_free(cfg);

    cfg = load(DEMO(", 'roles_client': 'web'"), NULL);
    assert_non_null(cfg);
    assert_string_equal(cfg->tenants[0].issuer.roles_client, "web");
    assert_int_equal(cfg->tenants[0].n_streams, 0);
    mqp_config_free(cfg);

    cfg = load(
        "{'limits': {'max_event_bytes': 1000, 'max_token_bytes': 2000, "
        "'token_leeway_seconds': 0, 'require_exp': false}, 'tenants': {'demo': " TENANT("i") "}}}",
        NULL);
    assert_non_null(cfg);
    assert_int_equal(cfg->limits.max_event_bytes, 1000);
    assert_int_equal(cfg->limits.max_token_bytes, 2000);
    assert_int_equal(cfg->limits.leeway_seconds, 0);
    assert_false(cfg->limits.require_exp);
    mqp_config_free(cfg);
}

static void test_unknown_keys_ignored(void **state)
{
    struct mqp_config *cfg;

    (void)state;
    cfg = load("{'$schema': 'x', 'channels': {'sse': {'port': 1}}, 'limits': {'other': 1}, "
               "'tenants': {'demo': " TENANT("i") ", 'extra': [1, 2], 'streams': {'s1': "
                                                  "{'owner': 'x', 'events': [{'namespace': 'n', "
                                                  "'name': 'e', 'comment': 'c'}]}}}}}",
               NULL);
    assert_non_null(cfg);
    mqp_config_free(cfg);
}

static void test_routes(void **state)
{
    struct mqp_config *cfg;
    const struct mqp_tenant *t;
    const struct mqp_route *a, *b;
    const struct mqp_stream *s1, *s2, *s3;

    (void)state;
    cfg = load(DEMO(", 'streams': {"
                    "'s1': {'events': [{'namespace': 'n', 'name': 'a', 'map': {'x': 'p.x'}}, "
                    "{'namespace': 'n', 'name': 'b'}, {'namespace': 'n', 'name': 'a'}]}, "
                    "'s2': {'events': [{'namespace': 'n', 'name': 'b'}]}, "
                    "'s3': {'events': [{'namespace': 'n', 'name': 'a'}]}}"),
               NULL);
    assert_non_null(cfg);
    t = &cfg->tenants[0];
    s1 = mqp_tenant_stream(t, "s1", 2);
    s2 = mqp_tenant_stream(t, "s2", 2);
    s3 = mqp_tenant_stream(t, "s3", 2);
    a = mqp_tenant_route(t, "n", 1, "a", 1);
    b = mqp_tenant_route(t, "n", 1, "b", 1);
    assert_non_null(a);
    assert_non_null(b);
    /* s1 lists n:a twice but appears once, with its first entry. */
    assert_int_equal(a->n, 2);
    assert_ptr_equal(a->streams[0], s1);
    assert_ptr_equal(a->streams[1], s3);
    assert_ptr_equal(a->entries[0], &s1->events[0]);
    assert_ptr_equal(a->entries[1], &s3->events[0]);
    assert_int_equal(b->n, 2);
    assert_ptr_equal(b->streams[0], s1);
    assert_ptr_equal(b->streams[1], s2);
    assert_ptr_equal(b->entries[0], &s1->events[1]);
    assert_null(mqp_tenant_route(t, "n", 1, "c", 1));
    mqp_config_free(cfg);
}

static void test_routes_per_tenant(void **state)
{
    struct mqp_config *cfg;
    char path[256];

    (void)state;
    tmp_path(path, sizeof(path), "streams.json");
    assert_int_equal(mqp_config_load_file(path, &cfg, NULL), 0);
    for (size_t i = 0; i < cfg->n_tenants; i++) {
        const struct mqp_tenant *t = &cfg->tenants[i];
        const struct mqp_route *r =
            mqp_tenant_route(t, "status-service", 14, "health-check-stopped", 20);

        assert_non_null(r);
        assert_int_equal(r->n, 1);
        assert_ptr_equal(r->streams[0]->tenant, t);
        assert_string_equal(r->streams[0]->id, "application-health");
    }
    assert_non_null(mqp_tenant_route(&cfg->tenants[0], "case-service", 12, "case-updated", 12));
    assert_null(mqp_tenant_route(&cfg->tenants[1], "case-service", 12, "case-updated", 12));
    mqp_config_free(cfg);
}

static void test_document_errors(void **state)
{
    (void)state;
    expect_error("[]", "$: must be an object, not an array");
    expect_error("{", "$: not valid JSON");
    expect_error("{} x", "$: not valid JSON");
    expect_error("{'tenants': {}, }", "$: not valid JSON");
    expect_error("{}", "$.tenants: is required");
    expect_error("{'tenants': {}}", "$.tenants: must hold at least one tenant");
    expect_error("{'tenants': []}", "$.tenants: must be an object, not an array");
    expect_error("{'tenants': {'demo': 1}}", "$.tenants.demo: must be an object, not an integer");
}

static void test_tenant_errors(void **state)
{
    (void)state;
    expect_error("{'tenants': {'bad id': " TENANT("i") "}}}",
                 "$.tenants[\"bad id\"]: tenant id must be an identifier");
    expect_error("{'tenants': {'$SYS': " TENANT("i") "}}}",
                 "$.tenants[\"$SYS\"]: tenant ids may not start with '$'");
    expect_error("{'tenants': {'a/b': " TENANT("i") "}}}", "$.tenants[\"a/b\"]: tenant id");
    expect_error("{'tenants': {'': " TENANT("i") "}}}", "$.tenants[\"\"]: tenant id");
    expect_error(
        "{'tenants': {'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': " TENANT("i") "}}}",
        "$.tenants[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"]: "
        "tenant id must be an identifier");
    expect_error("{'tenants': {'demo': {'audience': 'a', " KEYS "}}}",
                 "$.tenants.demo.issuer: is required");
    expect_error("{'tenants': {'demo': {'issuer': 'i', " KEYS "}}}",
                 "$.tenants.demo.audience: is required");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': '', " KEYS "}}}",
                 "$.tenants.demo.audience: must be 1..1024 characters long");
    expect_error("{'tenants': {'demo': {'issuer': 7, 'audience': 'a', " KEYS "}}}",
                 "$.tenants.demo.issuer: must be a string, not an integer");
    expect_error("{'tenants': {'demo': {'issuer': 'a\\u0000b', 'audience': 'a', " KEYS "}}}",
                 "$.tenants.demo.issuer: must not contain NUL characters");
    expect_error(DEMO(", 'roles_client': ['x']"),
                 "$.tenants.demo.roles_client: must be a string, not an array");
}

static void test_issuer_errors(void **state)
{
    (void)state;
    expect_error(
        "{'tenants': {'demo': " TENANT("https://same") "}, 'acme': " TENANT("https://same") "}}}",
        "$.tenants.acme.issuer: duplicate issuer, already used by $.tenants.demo");
    expect_error("{'service': {'issuer': 'https://same', 'audience': 'a', " KEYS
                 "}, 'tenants': {'demo': " TENANT("https://same") "}}}",
                 "$.tenants.demo.issuer: duplicate issuer, already used by $.service");
    expect_error("{'service': [], 'tenants': {'demo': " TENANT("i") "}}}",
                 "$.service: must be an object, not an array");
    expect_error("{'service': {'issuer': 's', " KEYS "}, 'tenants': {'demo': " TENANT("i") "}}}",
                 "$.service.audience: is required");
    expect_error(
        "{'service': {'issuer': 's', 'audience': 'a'}, 'tenants': {'demo': " TENANT("i") "}}}",
        "$.service: needs the issuer's keys");
}

static void test_jwks_errors(void **state)
{
    (void)state;
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a'}}}",
                 "$.tenants.demo: needs the issuer's keys: \"jwks_file\" or \"jwks\"");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', " KEYS
                 ", 'jwks_file': 'keys/demo.jwks.json'}}}",
                 "$.tenants.demo: give either \"jwks_file\" or \"jwks\", not both");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks_file': "
                 "'keys/missing.jwks.json'}}}",
                 "$.tenants.demo.jwks_file: cannot load keys from ");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks_file': ''}}}",
                 "$.tenants.demo.jwks_file: must be 1..4096 characters long");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks': 'x'}}}",
                 "$.tenants.demo.jwks: must be an object, not a string");
    expect_error("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks': {'keys': 5}}}}",
                 "$.tenants.demo.jwks: ");
}

static void test_jwks_file_paths(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg;
    char *doc, abs[512];
    size_t len;

    (void)state;
    /* Relative to base_dir. */
    cfg = load("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks_file': "
               "'keys/demo.jwks.json'}}}",
               NULL);
    assert_non_null(cfg);
    assert_int_equal(mqp_jwks_count(cfg->tenants[0].issuer.jwks), 1);
    mqp_config_free(cfg);
    /* Absolute paths are taken as they are, whatever base_dir says. */
    snprintf(abs, sizeof(abs),
             "{\"tenants\": {\"demo\": {\"issuer\": \"i\", \"audience\": \"a\", \"jwks_file\": "
             "\"%s/keys/acme.jwks.json\"}}}",
             tmpdir);
    len = strlen(abs);
    assert_int_equal(mqp_config_load_buffer(abs, len, "/nonexistent", &cfg, &errs), 0);
    assert_int_equal(mqp_jwks_count(cfg->tenants[0].issuer.jwks), 1);
    mqp_config_free(cfg);
    /* The same relative path fails against another base directory. */
    doc = dq("{'tenants': {'demo': {'issuer': 'i', 'audience': 'a', 'jwks_file': "
             "'keys/demo.jwks.json'}}}");
    assert_int_equal(mqp_config_load_buffer(doc, strlen(doc), "/nonexistent", &cfg, &errs), -1);
    assert_null(cfg);
    assert_true(has_error(&errs, "$.tenants.demo.jwks_file: cannot load keys from "
                                 "/nonexistent/keys/demo.jwks.json"));
    free(doc);
    mqp_errors_clear(&errs);
}

static void test_stream_errors(void **state)
{
    (void)state;
    expect_error(DEMO(", 'streams': []"),
                 "$.tenants.demo.streams: must be an object, not an array");
    expect_error(DEMO(", 'streams': {'s1': 'x'}"),
                 "$.tenants.demo.streams.s1: must be an object, not a string");
    expect_error(S1("'id': 's2'"), "$.tenants.demo.streams.s1.id: must equal the stream's key");
    expect_error(S1("'id': 1"), "$.tenants.demo.streams.s1.id: must be a string, not an integer");
    expect_error(DEMO(", 'streams': {'events': {}}"),
                 "$.tenants.demo.streams.events: stream id \"events\" is reserved");
    expect_error(DEMO(", 'streams': {'a b': {}}"),
                 "$.tenants.demo.streams[\"a b\"]: stream id must be an identifier");
    expect_error(DEMO(", 'streams': {'a+': {}}"),
                 "$.tenants.demo.streams[\"a+\"]: stream id must be an identifier");
    expect_error(S1("'name': 5"), "$.tenants.demo.streams.s1.name: must be a string");
    expect_error(S1("'description': null"),
                 "$.tenants.demo.streams.s1.description: must be a string, not null");
    expect_error(S1("'publicSubscribe': 'yes'"),
                 "$.tenants.demo.streams.s1.publicSubscribe: must be a boolean, not a string");
    expect_error(S1("'subscriberRoles': 'admin'"),
                 "$.tenants.demo.streams.s1.subscriberRoles: must be an array, not a string");
    expect_error(S1("'subscriberRoles': ['ok', 3]"),
                 "$.tenants.demo.streams.s1.subscriberRoles[1]: must be a string, not an integer");
    expect_error(S1("'subscriberRoles': ['']"),
                 "$.tenants.demo.streams.s1.subscriberRoles[0]: must be 1..1024 characters");
    expect_error(S1("'events': {}"),
                 "$.tenants.demo.streams.s1.events: must be an array, not an object");
}

static void test_event_errors(void **state)
{
    (void)state;
    expect_error(S1("'events': [1]"),
                 "$.tenants.demo.streams.s1.events[0]: must be an object, not an integer");
    expect_error(S1("'events': [{'name': 'e'}]"),
                 "$.tenants.demo.streams.s1.events[0].namespace: is required");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e'}, {'namespace': 'a/b', 'name': "
                    "'e'}]"),
                 "$.tenants.demo.streams.s1.events[1].namespace: must be an identifier");
    expect_error(S1("'events': [{'namespace': 'n', 'name': ''}]"),
                 "$.tenants.demo.streams.s1.events[0].name: must be an identifier");
    expect_error(
        S1("'events': [{'namespace': 'n', 'name': "
           "'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
           "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'}]"),
        "$.tenants.demo.streams.s1.events[0].name: must be an identifier");
    expect_error(S1("'events': [{'namespace': 'n', 'name': '+'}]"),
                 "$.tenants.demo.streams.s1.events[0].name: must be an identifier");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e', 'map': 'payload'}]"),
                 "$.tenants.demo.streams.s1.events[0].map: must be an object, not a string");
    expect_error(
        S1("'events': [{'namespace': 'n', 'name': 'e', 'map': {'x': 5}}]"),
        "$.tenants.demo.streams.s1.events[0].map.x: must be a path string or a nested map");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e', 'map': {'x': ''}}]"),
                 "$.tenants.demo.streams.s1.events[0].map.x: ");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e', 'map': {'a': {'b': null}}}]"),
                 "$.tenants.demo.streams.s1.events[0].map.a.b: ");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e', 'criteria': []}]"),
                 "$.tenants.demo.streams.s1.events[0].criteria: must be an object, not an array");
    expect_error(S1("'events': [{'namespace': 'n', 'name': 'e', 'criteria': {'a..b': 1}}]"),
                 "$.tenants.demo.streams.s1.events[0].criteria: ");
}

static void test_limit_errors(void **state)
{
#define LIMITS(body) "{'limits': {" body "}, 'tenants': {'demo': " TENANT("i") "}}}"
    (void)state;
    expect_error("{'limits': 1, 'tenants': {'demo': " TENANT("i") "}}}",
                 "$.limits: must be an object, not an integer");
    expect_error(LIMITS("'max_event_bytes': 0"),
                 "$.limits.max_event_bytes: must be between 1 and 268435455");
    expect_error(LIMITS("'max_event_bytes': 268435456"), "$.limits.max_event_bytes: must be");
    expect_error(LIMITS("'max_event_bytes': 99999999999999999999999"),
                 "$.limits.max_event_bytes: must be");
    expect_error(LIMITS("'max_event_bytes': 1.5"),
                 "$.limits.max_event_bytes: must be an integer, not a number");
    expect_error(LIMITS("'max_token_bytes': '8k'"),
                 "$.limits.max_token_bytes: must be an integer, not a string");
    expect_error(LIMITS("'max_token_bytes': 65536"), "$.limits.max_token_bytes: must be between");
    expect_error(LIMITS("'token_leeway_seconds': -1"),
                 "$.limits.token_leeway_seconds: must be between 0 and 86400");
    expect_error(LIMITS("'require_exp': 'true'"),
                 "$.limits.require_exp: must be a boolean, not a string");
#undef LIMITS
}

static void test_all_errors_listed(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg;

    (void)state;
    cfg = load("{'limits': {'require_exp': 1}, 'tenants': {"
               "'demo': {'issuer': 'https://x', 'audience': 'a', 'jwks': {'keys': []}, 'streams': {"
               "'s1': {'publicSubscribe': 0, 'events': [{'namespace': 'n', 'name': 'e', 'map': "
               "{'x': 'p.x'}}, {'namespace': '', 'name': 'e'}]}, 'events': {}}}, "
               "'acme': {'issuer': 'https://x', 'audience': 'a'}}}",
               &errs);
    assert_null(cfg);
    if (errs.n != 6) {
        print_errors(&errs);
        fail_msg("expected 6 errors, got %zu", errs.n);
    }
    assert_true(has_error(&errs, "$.limits.require_exp: "));
    assert_true(has_error(&errs, "$.tenants.demo.streams.s1.publicSubscribe: "));
    assert_true(has_error(&errs, "$.tenants.demo.streams.s1.events[1].namespace: "));
    assert_true(has_error(&errs, "$.tenants.demo.streams.events: "));
    assert_true(has_error(&errs, "$.tenants.acme: needs the issuer's keys"));
    assert_true(has_error(&errs, "$.tenants.acme.issuer: duplicate issuer"));
    /* Messages are appended: a second failure adds to what errs already holds. */
    assert_null(load("{}", &errs));
    assert_int_equal(errs.n, 7);
    assert_string_equal(errs.msgs[6], "$.tenants: is required");
    mqp_errors_clear(&errs);
    assert_int_equal(errs.n, 0);
    assert_null(errs.msgs);
    mqp_errors_clear(&errs);
    mqp_errors_clear(NULL);
}

static void test_error_count_is_bounded(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;
    char *doc = malloc(64 * 1024), *p = doc;

    (void)state;
    assert_non_null(doc);
    p += sprintf(p, "{\"tenants\": {");
    /* Each tenant lacks issuer, audience and keys: 3 errors, 600 in all. */
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "%s\"t%d\": {}", i ? ", " : "", i);
    p += sprintf(p, "}}");
    assert_int_equal(mqp_config_load_buffer(doc, (size_t)(p - doc), NULL, &cfg, &errs), -1);
    assert_null(cfg);
    assert_int_equal(errs.n, 101);
    assert_string_equal(errs.msgs[0], "$.tenants.t0.issuer: is required");
    assert_string_equal(errs.msgs[100], "$: 500 more errors not listed");
    mqp_errors_clear(&errs);
    free(doc);
}

static void test_generation_increases(void **state)
{
    struct mqp_config *a, *b, *c;
    struct mqp_errors errs = {0};

    (void)state;
    a = load(S1(""), NULL);
    b = load(S1(""), NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(b->generation > a->generation);
    assert_null(load("{}", &errs));
    c = load(S1(""), NULL);
    assert_non_null(c);
    assert_true(c->generation > b->generation);
    mqp_config_free(a);
    mqp_config_free(b);
    mqp_config_free(c);
    mqp_errors_clear(&errs);
}

static void test_build_keeps_doc(void **state)
{
    char *text = dq(S1(""));
    json_object *doc = json_tokener_parse(text);
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};

    (void)state;
    assert_non_null(doc);
    assert_int_equal(mqp_config_build(doc, NULL, &cfg, &errs), 0);
    json_object_put(doc);
    /* The model holds its own reference. */
    assert_true(json_object_object_get_ex(cfg->doc, "tenants", NULL));
    mqp_config_free(cfg);
    mqp_config_free(NULL);
    assert_int_equal(mqp_config_build(NULL, NULL, &cfg, &errs), -1);
    assert_true(has_error(&errs, "$: must be an object, not null"));
    mqp_errors_clear(&errs);
    free(text);
}

static void test_size_limits(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;
    size_t big = 4 * 1024 * 1024 + 1;
    char *buf = malloc(big), path[256];

    (void)state;
    assert_non_null(buf);
    memset(buf, ' ', big);
    memcpy(buf, "{}", 2);
    assert_int_equal(mqp_config_load_buffer(buf, big, NULL, &cfg, &errs), -1);
    assert_true(has_error(&errs, "$: the document is 4194305 bytes"));
    mqp_errors_clear(&errs);
    /* Exactly at the limit is parsed (and fails only for what it says). */
    assert_int_equal(mqp_config_load_buffer(buf, big - 1, NULL, &cfg, &errs), -1);
    assert_true(has_error(&errs, "$.tenants: is required"));
    mqp_errors_clear(&errs);
    tmp_path(path, sizeof(path), "big.json");
    write_file(path, buf, big);
    assert_int_equal(mqp_config_load_file(path, &cfg, &errs), -1);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "more than the 4194304 allowed"));
    assert_int_equal(strncmp(errs.msgs[0], path, strlen(path)), 0);
    mqp_errors_clear(&errs);
    free(buf);
    assert_int_equal(mqp_config_load_buffer("", 0, NULL, &cfg, &errs), -1);
    assert_true(has_error(&errs, "$: the document is empty"));
    mqp_errors_clear(&errs);
    /* Nesting beyond the parser's depth limit is refused, not recursed into. */
    buf = malloc(20000);
    assert_non_null(buf);
    for (int i = 0; i < 10000; i++)
        buf[i] = '[';
    for (int i = 10000; i < 20000; i++)
        buf[i] = ']';
    assert_int_equal(mqp_config_load_buffer(buf, 20000, NULL, &cfg, &errs), -1);
    assert_true(has_error(&errs, "$: not valid JSON"));
    mqp_errors_clear(&errs);
    free(buf);
}

static void test_file_errors(void **state)
{
    struct mqp_errors errs = {0};
    struct mqp_config *cfg = NULL;

    (void)state;
    assert_int_equal(mqp_config_load_file("/nonexistent/streams.json", &cfg, &errs), -1);
    assert_null(cfg);
    assert_true(has_error(&errs, "/nonexistent/streams.json: cannot open"));
    mqp_errors_clear(&errs);
    assert_int_equal(mqp_config_load_file(tmpdir, &cfg, &errs), -1);
    assert_true(has_error(&errs, tmpdir));
    mqp_errors_clear(&errs);
    assert_int_equal(mqp_config_load_file(NULL, &cfg, &errs), -1);
    assert_int_equal(errs.n, 1);
    mqp_errors_clear(&errs);
}

static void test_id_valid(void **state)
{
    char id[MQP_ID_MAX + 1];

    (void)state;
    memset(id, 'a', sizeof(id));
    assert_true(mqp_id_valid("demo", 4));
    assert_true(mqp_id_valid("A-z_0.9", 7));
    assert_true(mqp_id_valid(id, MQP_ID_MAX));
    assert_false(mqp_id_valid(id, MQP_ID_MAX + 1));
    assert_false(mqp_id_valid("", 0));
    assert_false(mqp_id_valid(NULL, 3));
    static const char *bad[] = {"a b", "a/b", "a+", "#", "$SYS", "a:b", "ä", "a\tb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mqp_id_valid(bad[i], strlen(bad[i])))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* The length decides, not a NUL. */
    assert_true(mqp_id_valid("ab/cd", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_lookups_take_lengths),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_unknown_keys_ignored),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_routes_per_tenant),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_tenant_errors),
        cmocka_unit_test(test_issuer_errors),
        cmocka_unit_test(test_jwks_errors),
        cmocka_unit_test(test_jwks_file_paths),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_event_errors),
        cmocka_unit_test(test_limit_errors),
        cmocka_unit_test(test_all_errors_listed),
        cmocka_unit_test(test_error_count_is_bounded),
        cmocka_unit_test(test_generation_increases),
        cmocka_unit_test(test_build_keeps_doc),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_id_valid),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
