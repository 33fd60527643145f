/*
 * Tests of mqpush_plugin.so as built: loaded with dlopen(RTLD_NOW) into this executable, which
 * plays the broker (fake_broker.c), and driven through the callbacks it registers.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fake_broker.h"
#include "jwt.h"
#include "support.h"

typedef int (*version_fn)(int, const int *);
typedef int (*init_fn)(mosquitto_plugin_id_t *, void **, struct mosquitto_opt *, int);
typedef int (*cleanup_fn)(void *, struct mosquitto_opt *, int);

struct mosquitto_plugin_id_t {
    int unused;
};

static struct {
    void *lib;
    version_fn version;
    init_fn init;
    cleanup_fn cleanup;
    struct mosquitto_plugin_id_t pid;
    struct fixture fx;
    void *userdata;
    struct mosquitto_opt opt;
} P;

static int group_setup(void **state)
{
    (void)state;
    /* RTLD_NOW: every symbol the plugin needs must resolve, core's included. */
    P.lib = dlopen(MQP_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!P.lib) {
        print_error("dlopen: %s\n", dlerror());
        return -1;
    }
    *(void **)&P.version = dlsym(P.lib, "mosquitto_plugin_version");
    *(void **)&P.init = dlsym(P.lib, "mosquitto_plugin_init");
    *(void **)&P.cleanup = dlsym(P.lib, "mosquitto_plugin_cleanup");
    if (!P.version || !P.init || !P.cleanup)
        return -1;
    return fixture_init(&P.fx);
}

static int group_teardown(void **state)
{
    (void)state;
    fixture_free(&P.fx);
    dlclose(P.lib);
    return 0;
}

/* Write the streams file and start a plugin instance on it. */
static void start(int variant, int leeway, size_t max_event)
{
    assert_int_equal(fixture_write_config(&P.fx, variant, leeway, max_event), 0);
    P.opt.key = "config";
    P.opt.value = P.fx.config;
    P.userdata = NULL;
    assert_int_equal(P.init(&P.pid, &P.userdata, &P.opt, 1), MOSQ_ERR_SUCCESS);
    assert_non_null(P.userdata);
    assert_int_equal(fake.n_registered, 6);
}

static int teardown(void **state)
{
    (void)state;
    if (P.userdata) {
        P.cleanup(P.userdata, &P.opt, 1);
        P.userdata = NULL;
    }
    /* Cleanup must leave nothing registered with the broker. */
    if (fake.n_registered != 0)
        return -1;
    fake_clear();
    return 0;
}

static char *token(EVP_PKEY *key, const char *iss, const char *roles, int64_t ttl)
{
    char *t = mint_token(key, iss, roles, ttl);

    assert_non_null(t);
    return t;
}

/* Wait until a token expiring at now + ttl is past its exp under zero leeway. */
static void wait_past(time_t minted, int64_t ttl)
{
    const struct timespec step = {0, 100 * 1000 * 1000};

    while ((int64_t)time(NULL) <= (int64_t)minted + ttl)
        nanosleep(&step, NULL);
}

static void test_version(void **state)
{
    const int offered[] = {5, 4, 3, 2};
    const int older[] = {4, 3, 2};

    (void)state;
    assert_int_equal(P.version(4, offered), 5);
    assert_int_equal(P.version(3, older), -1);
    assert_int_equal(P.version(0, NULL), -1);
}

static void test_init_errors(void **state)
{
    struct mosquitto_opt opts[2] = {{"config", "/nonexistent/streams.json"}, {"other", "x"}};
    void *ud = NULL;

    (void)state;
    assert_int_not_equal(P.init(&P.pid, &ud, NULL, 0), MOSQ_ERR_SUCCESS);
    assert_null(ud);
    assert_int_equal(fake.n_registered, 0);
    assert_int_equal(fake_log_count("mqpush: ", "plugin_opt_config", NULL), 1);

    fake_reset_records();
    assert_int_not_equal(P.init(&P.pid, &ud, opts, 2), MOSQ_ERR_SUCCESS);
    assert_null(ud);
    assert_int_equal(fake.n_registered, 0);
    assert_true(fake_log_count("mqpush: ", "/nonexistent/streams.json", NULL) >= 1);
    assert_int_equal(fake_log_count("mqpush: ", "plugin_opt_other", NULL), 1);

    /* Every configuration error gets its own line. */
    fake_reset_records();
    assert_int_equal(fixture_write_raw(&P.fx, "{\"tenants\": {\"bad tenant\": {},"
                                              " \"ok\": {\"issuer\": 5}}}"),
                     0);
    opts[0].value = P.fx.config;
    assert_int_not_equal(P.init(&P.pid, &ud, opts, 1), MOSQ_ERR_SUCCESS);
    assert_null(ud);
    assert_int_equal(fake.n_registered, 0);
    assert_true(fake_log_count("mqpush: ", "$.tenants", NULL) >= 2);
    assert_true(fake_log_count("mqpush: ", "$.tenants.ok.issuer", NULL) >= 1);
}

static void test_auth_not_ours_defers(void **state)
{
    struct mosquitto a = {.id = "anon"};

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&a, NULL, NULL), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&a, "user", NULL), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&a, "user", ""), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&a, "user", "s3cret"), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&a, NULL, "a.b"), MOSQ_ERR_PLUGIN_DEFER);
}

static void test_auth_tokens(void **state)
{
    struct mosquitto c = {.id = "c1"};
    char *good = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);
    char *forged = token(P.fx.stranger_key, TENANT_ISS, "case-worker", 600);
    char *expired = token(P.fx.tenant_key, TENANT_ISS, "case-worker", -3600);
    char *unknown = token(P.fx.tenant_key, "https://elsewhere.test", "case-worker", 600);

    (void)state;
    start(0, 30, 4096);
    /* The username is ignored, present or not. */
    assert_int_equal(fake_auth(&c, NULL, good), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&c, "whoever", good), MOSQ_ERR_SUCCESS);

    fake_reset_records();
    assert_int_equal(fake_auth(&c, "u", forged), MOSQ_ERR_AUTH);
    assert_int_equal(fake_auth(&c, "u", expired), MOSQ_ERR_AUTH);
    assert_int_equal(fake_auth(&c, "u", unknown), MOSQ_ERR_AUTH);
    /* One line per refusal, naming the client and the reason. */
    assert_int_equal(fake_log_count("mqpush: ", "c1", NULL), 3);
    assert_int_equal(fake_log_count("mqpush: client c1: token refused", "expired", NULL), 1);
    assert_int_equal(fake_log_count("mqpush: client c1: token refused", "issuer", NULL), 1);
    free(good);
    free(forged);
    free(expired);
    free(unknown);
}

/* Claims of a refused token reach the log without their control characters. */
static void test_refusal_log_is_one_line(void **state)
{
    struct mosquitto c = {.id = "c2"};
    json_object *claims = json_object_new_object();
    json_object *header = json_object_new_object();
    char *forged;

    (void)state;
    start(0, 30, 4096);
    json_object_object_add(claims, "iss", json_object_new_string(TENANT_ISS));
    json_object_object_add(header, "typ", json_object_new_string("evil\nmqpush: fake line"));
    forged = mqp_jwt_sign(claims, header, P.fx.tenant_key);
    json_object_put(claims);
    json_object_put(header);
    assert_non_null(forged);
    fake_reset_records();
    assert_int_equal(fake_auth(&c, NULL, forged), MOSQ_ERR_AUTH);
    assert_int_equal(fake.n_log, 1);
    assert_null(strchr(fake.log[0], '\n'));
    assert_int_equal(fake_log_count("evil?mqpush: fake line", NULL), 1);
    free(forged);
}

static void test_acl_decisions(void **state)
{
    struct mosquitto worker = {.id = "worker"}, pub = {.id = "pub"}, anon = {.id = "anon"};
    struct mosquitto bridge = {.id = "bridge"};
    char *t_worker = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);
    char *t_pub = token(P.fx.tenant_key, TENANT_ISS, "mqpush-publisher", 600);
    char *t_bridge = token(P.fx.service_key, SERVICE_ISS, "mqpush-bridge", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&worker, NULL, t_worker), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&pub, NULL, t_pub), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&bridge, NULL, t_bridge), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&anon, NULL, NULL), MOSQ_ERR_PLUGIN_DEFER);

    assert_int_equal(fake_acl(&worker, "acme/cases/#", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&worker, "$share/g/acme/cases/#", MOSQ_ACL_SUBSCRIBE),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&worker, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&worker, "acme/audit/case:updated", MOSQ_ACL_READ),
                     MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&worker, "acme/events/case/updated", MOSQ_ACL_WRITE),
                     MOSQ_ERR_ACL_DENIED);

    assert_int_equal(fake_acl(&pub, "acme/events/case/updated", MOSQ_ACL_WRITE), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&pub, "acme/cases/case:updated", MOSQ_ACL_WRITE),
                     MOSQ_ERR_ACL_DENIED);

    assert_int_equal(fake_acl(&bridge, "acme/audit/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);

    assert_int_equal(fake_acl(&anon, "acme/news/news:published", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&anon, "acme/cases/case:updated", MOSQ_ACL_READ),
                     MOSQ_ERR_ACL_DENIED);
    /* Outside stream topics a client without a token is another method's business. */
    assert_int_equal(fake_acl(&anon, "acme/events/case/updated", MOSQ_ACL_WRITE),
                     MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_acl(&anon, "sensors/1", MOSQ_ACL_READ), MOSQ_ERR_PLUGIN_DEFER);
    free(t_worker);
    free(t_pub);
    free(t_bridge);
}

static void test_bad_token_keeps_state(void **state)
{
    struct mosquitto a = {.id = "same"}, b = {.id = "same"};
    char *good = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);
    char *forged = token(P.fx.stranger_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&a, NULL, good), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&b, NULL, forged), MOSQ_ERR_AUTH);
    assert_int_equal(fake_acl(&a, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    free(good);
    free(forged);
}

static void test_non_token_takes_over_id(void **state)
{
    struct mosquitto a = {.id = "same"}, b = {.id = "same"};
    char *good = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&a, NULL, good), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&b, "user", "password"), MOSQ_ERR_PLUGIN_DEFER);
    /* The id's token state is gone: b must not inherit it. */
    assert_int_equal(fake_acl(&b, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&b, "acme/news/news:published", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    free(good);
}

static void test_offline_session_keeps_rights(void **state)
{
    struct mosquitto a = {.id = "persistent"};
    char *good = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&a, NULL, good), MOSQ_ERR_SUCCESS);
    fake_connect(&a);
    fake_disconnect(&a);
    assert_int_equal(fake_acl(&a, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    free(good);
}

static void test_message_fanout(void **state)
{
    struct mosquitto pub = {.id = "pub"};
    const char *topic = "acme/events/case/updated";
    const char *body = "{\"payload\": {\"id\": \"42\", \"kind\": \"open\", \"secret\": 1}}";
    char *topic_out;
    void *payload_out;

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_message(&pub, topic, body, 1, &topic_out, &payload_out),
                     MOSQ_ERR_SUCCESS);
    assert_ptr_equal(topic_out, topic);
    assert_ptr_equal(payload_out, body);
    assert_int_equal(fake.n_copies, 2);
    assert_string_equal(fake.copies[0].topic, "acme/cases/case:updated");
    assert_string_equal(fake.copies[1].topic, "acme/audit/case:updated");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(fake.copies[i].qos, 1);
        assert_false(fake.copies[i].retain);
        assert_int_equal(fake.copies[i].len, (int)strlen(fake.copies[i].body));
    }
    /* "cases" maps the event down to its id; "audit" carries it whole. */
    assert_non_null(strstr(fake.copies[0].body, "\"caseId\":\"42\""));
    assert_null(strstr(fake.copies[0].body, "secret"));
    assert_non_null(strstr(fake.copies[1].body, "secret"));

    /* Criteria: a closed case reaches "audit" only. */
    fake_reset_records();
    assert_int_equal(fake_message(&pub, topic,
                                  "{\"payload\": {\"id\": \"7\", \"kind\": \"closed\"}}", 0, NULL,
                                  NULL),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake.n_copies, 1);
    assert_string_equal(fake.copies[0].topic, "acme/audit/case:updated");
    assert_int_equal(fake.copies[0].qos, 0);
}

static void test_message_not_ours(void **state)
{
    struct mosquitto pub = {.id = "pub"};

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_message(&pub, "sensors/1", "not json", 0, NULL, NULL), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_message(&pub, "ghost/events/case/updated", "{}", 0, NULL, NULL),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_message(&pub, "acme/events/nobody/listens", "{}", 0, NULL, NULL),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake.n_copies, 0);
    assert_int_equal(fake_log_count("mqpush: ", NULL), 1); /* the start-up line only */
}

static void test_message_refused(void **state)
{
    struct mosquitto pub = {.id = "pub7"};
    const char *topic = "acme/events/case/updated";
    char big[5000];

    (void)state;
    start(0, 30, 4096);
    fake_reset_records();
    assert_int_equal(fake_message(&pub, topic, "not json", 1, NULL, NULL), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_message(&pub, topic, "[1, 2]", 1, NULL, NULL), MOSQ_ERR_ACL_DENIED);
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(fake_message(&pub, topic, big, 1, NULL, NULL), MOSQ_ERR_ACL_DENIED);
    fake.fail_publish = true;
    assert_int_equal(
        fake_message(&pub, topic, "{\"payload\": {\"kind\": \"open\"}}", 1, NULL, NULL),
        MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake.n_copies, 0);
    /* One line each, with client id and topic. */
    assert_int_equal(fake_log_count("mqpush: client pub7: event on acme/events/case/updated", NULL),
                     4);
}

static void test_reload_swaps_config(void **state)
{
    struct mosquitto c = {.id = "plain"}, anon = {.id = "anon"};
    char *t = token(P.fx.tenant_key, TENANT_ISS, "", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&c, NULL, t), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&c, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&anon, "acme/cases/case:updated", MOSQ_ACL_READ),
                     MOSQ_ERR_ACL_DENIED);

    assert_int_equal(fixture_write_config(&P.fx, 1, 30, 4096), 0);
    /* Deferring keeps the broker's reload chain going (password and ACL files). */
    assert_int_equal(fake_reload(), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_log_count("mqpush: reloaded", NULL), 1);
    assert_int_equal(fake_acl(&c, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&c, "acme/audit/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&anon, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    /* The new routes are in use: "cases" now carries every case:updated, unmapped. */
    assert_int_equal(fake_message(&c, "acme/events/case/updated", "{\"x\": 1}", 0, NULL, NULL),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake.n_copies, 1);
    assert_string_equal(fake.copies[0].topic, "acme/cases/case:updated");
    free(t);
}

static void test_reload_failure_keeps_config(void **state)
{
    struct mosquitto c = {.id = "worker"};
    char *t = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 30, 4096);
    assert_int_equal(fake_auth(&c, NULL, t), MOSQ_ERR_SUCCESS);
    assert_int_equal(fixture_write_raw(&P.fx, "{\"tenants\": {\"acme\": {}}, \"limits\": 3}"), 0);
    fake_reset_records();
    assert_int_equal(fake_reload(), MOSQ_ERR_PLUGIN_DEFER);
    assert_true(fake_log_count("mqpush: ", "$.limits", NULL) >= 1);
    assert_true(fake_log_count("mqpush: ", "$.tenants.acme", NULL) >= 1);
    assert_int_equal(fake_log_count("mqpush: reload of", "keeping", NULL), 1);
    assert_int_equal(fake_acl(&c, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_message(&c, "acme/events/news/published", "{}", 0, NULL, NULL),
                     MOSQ_ERR_SUCCESS);
    assert_int_equal(fake.n_copies, 1);
    /* The broker re-checks every client after a reload; the token still passes. */
    assert_int_equal(fake_auth(&c, NULL, t), MOSQ_ERR_SUCCESS);
    free(t);
}

/* After a reload the broker re-runs basic auth for every client, offline sessions included. */
static void test_reauth_after_reload(void **state)
{
    struct mosquitto off = {.id = "off"}, on = {.id = "on"}, gone = {.id = "gone"};
    time_t minted = time(NULL);
    char *t_off = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 1);
    char *t_on = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 1);
    char *t_gone = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 0, 4096);
    assert_int_equal(fake_auth(&off, NULL, t_off), MOSQ_ERR_SUCCESS);
    fake_connect(&off);
    assert_int_equal(fake_auth(&on, NULL, t_on), MOSQ_ERR_SUCCESS);
    fake_connect(&on);
    fake_disconnect(&off);

    assert_int_equal(fake_reload(), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&off, NULL, t_off), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_auth(&on, NULL, t_on), MOSQ_ERR_SUCCESS);
    fake_tick();

    /* The re-check kept "off" offline: once expired it is dropped, not kicked. */
    wait_past(minted, 1);
    fake_reset_records();
    fake_tick();
    assert_int_equal(fake.n_kicked, 1);
    assert_string_equal(fake.kicked[0], "on");
    assert_int_equal(fake_acl(&off, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&on, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);

    /* A re-check that fails drops the state of that connection. */
    assert_int_equal(fake_auth(&gone, NULL, t_gone), MOSQ_ERR_SUCCESS);
    assert_int_equal(fixture_write_config(&P.fx, 2, 0, 4096), 0);
    assert_int_equal(fake_reload(), MOSQ_ERR_PLUGIN_DEFER);
    assert_int_equal(fake_auth(&gone, NULL, t_gone), MOSQ_ERR_AUTH);
    fake_tick();
    assert_int_equal(fixture_write_config(&P.fx, 0, 0, 4096), 0);
    assert_int_equal(fake_reload(), MOSQ_ERR_PLUGIN_DEFER);
    fake_tick();
    assert_int_equal(fake_acl(&gone, "acme/cases/case:updated", MOSQ_ACL_READ),
                     MOSQ_ERR_ACL_DENIED);
    free(t_off);
    free(t_on);
    free(t_gone);
}

static void test_tick_expiry(void **state)
{
    struct mosquitto on = {.id = "on"}, off = {.id = "off"}, lasting = {.id = "lasting"};
    struct mosquitto old = {.id = "taken"}, taker = {.id = "taken"};
    time_t minted = time(NULL);
    char *t_short = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 1);
    char *t_long = token(P.fx.tenant_key, TENANT_ISS, "case-worker", 600);

    (void)state;
    start(0, 0, 4096);
    assert_int_equal(fake_auth(&on, NULL, t_short), MOSQ_ERR_SUCCESS);
    fake_connect(&on);
    assert_int_equal(fake_auth(&off, NULL, t_short), MOSQ_ERR_SUCCESS);
    fake_connect(&off);
    fake_disconnect(&off);
    assert_int_equal(fake_auth(&lasting, NULL, t_long), MOSQ_ERR_SUCCESS);
    fake_connect(&lasting);
    /* A reconnect under the same id: the broker admits the new connection, then closes the
     * old one, whose disconnect must not mark the new one offline. */
    assert_int_equal(fake_auth(&old, NULL, t_long), MOSQ_ERR_SUCCESS);
    fake_connect(&old);
    assert_int_equal(fake_auth(&taker, NULL, t_short), MOSQ_ERR_SUCCESS);
    fake_connect(&taker);
    fake_disconnect(&old);
    assert_int_equal(fake_acl(&old, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&taker, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);

    fake_tick();
    assert_int_equal(fake.n_kicked, 0);
    wait_past(minted, 1);
    fake_reset_records();
    fake_tick();
    assert_int_equal(fake.n_kicked, 2);
    assert_true(strcmp(fake.kicked[0], "on") == 0 || strcmp(fake.kicked[1], "on") == 0);
    assert_true(strcmp(fake.kicked[0], "taken") == 0 || strcmp(fake.kicked[1], "taken") == 0);
    assert_false(on.connected);
    assert_int_equal(fake_log_count("mqpush: client on: token expired", NULL), 1);
    /* Expired state is gone, online or not; the offline session reads public streams only. */
    assert_int_equal(fake_acl(&on, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&off, "acme/cases/case:updated", MOSQ_ACL_READ), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(fake_acl(&off, "acme/news/news:published", MOSQ_ACL_READ), MOSQ_ERR_SUCCESS);
    assert_int_equal(fake_acl(&lasting, "acme/cases/case:updated", MOSQ_ACL_READ),
                     MOSQ_ERR_SUCCESS);
    fake_tick();
    assert_int_equal(fake.n_kicked, 2);
    free(t_short);
    free(t_long);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_version, teardown),
        cmocka_unit_test_teardown(test_init_errors, teardown),
        cmocka_unit_test_teardown(test_auth_not_ours_defers, teardown),
        cmocka_unit_test_teardown(test_auth_tokens, teardown),
        cmocka_unit_test_teardown(test_refusal_log_is_one_line, teardown),
        cmocka_unit_test_teardown(test_acl_decisions, teardown),
        cmocka_unit_test_teardown(test_bad_token_keeps_state, teardown),
        cmocka_unit_test_teardown(test_non_token_takes_over_id, teardown),
        cmocka_unit_test_teardown(test_offline_session_keeps_rights, teardown),
        cmocka_unit_test_teardown(test_message_fanout, teardown),
        cmocka_unit_test_teardown(test_message_not_ours, teardown),
        cmocka_unit_test_teardown(test_message_refused, teardown),
        cmocka_unit_test_teardown(test_reload_swaps_config, teardown),
        cmocka_unit_test_teardown(test_reload_failure_keeps_config, teardown),
        cmocka_unit_test_teardown(test_reauth_after_reload, teardown),
        cmocka_unit_test_teardown(test_tick_expiry, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
