/* bridge.json: defaults, path resolution against the file's directory, token files (read
 * again, trimmed), the listen forms, and errors collected with their JSON paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

struct tmp {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    strcpy(t->dir, "/tmp/mqp-bcfg-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/bridge.json", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    char p[160];

    unlink(t->path);
    snprintf(p, sizeof(p), "%s/bridge.token", t->dir);
    unlink(p);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct bridge_config *load_ok(struct tmp *t, const char *json)
{
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;

    write_file(t->path, json);
    if (bridge_config_load(t->path, &cfg, &errs) != 0) {
        size_t i;

        for (i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        fail_msg("expected %s to load", json);
    }
    mqp_errors_clear(&errs);
    return cfg;
}

/* Load json expecting failure; every message in want must appear among the errors. */
static void load_fails(struct tmp *t, const char *json, const char *const *want)
{
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;
    size_t i, j;

    write_file(t->path, json);
    assert_int_equal(bridge_config_load(t->path, &cfg, &errs), -1);
    assert_null(cfg);
    assert_true(errs.n > 0);
    for (j = 0; want[j]; j++) {
        int found = 0;

        for (i = 0; i < errs.n; i++)
            found |= strstr(errs.msgs[i], want[j]) != NULL;
        if (!found)
            fail_msg("no error mentions \"%s\" (first: %s)", want[j], errs.msgs[0]);
    }
    mqp_errors_clear(&errs);
}

static void test_defaults(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg =
        load_ok(t, "{\"listen\":\"127.0.0.1:8080\",\"broker\":{\"token\":\"a.b.c\"},"
                   "\"streams_file\":\"streams.json\"}");
    char want[160];

    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8080);
    assert_string_equal(cfg->public_url, "http://127.0.0.1:8080");
    assert_string_equal(cfg->broker_host, "127.0.0.1");
    assert_int_equal(cfg->broker_port, 1883);
    assert_string_equal(cfg->broker_client_id, "mqpush-bridge");
    assert_int_equal(cfg->broker_keepalive_s, 30);
    assert_string_equal(cfg->broker_token, "a.b.c");
    assert_null(cfg->broker_token_file);
    snprintf(want, sizeof(want), "%s/streams.json", t->dir);
    assert_string_equal(cfg->streams_file, want);
    snprintf(want, sizeof(want), "sqlite://%s/mqpush.db", t->dir);
    assert_string_equal(cfg->store_url, want);
    assert_int_equal(cfg->n_outbound_allow, 0);
    assert_int_equal(cfg->limits.max_connections, 20000);
    assert_int_equal(cfg->limits.max_header_bytes, 8192);
    assert_int_equal(cfg->limits.max_body_bytes, 65536);
    assert_int_equal(cfg->limits.send_queue_bytes, 1024 * 1024);
    assert_int_equal(cfg->sse.heartbeat_ms, 15000);
    assert_int_equal(cfg->sse.retry_ms, 3000);
    assert_int_equal(cfg->sse.coalesce_ms, 5);
    assert_int_equal(cfg->sse.replay_max_events, 1000);
    assert_int_equal(cfg->sse.replay_max_age_s, 300);
    assert_int_equal(cfg->sse.n_routes, 0);
    bridge_config_free(cfg);
}

static void test_every_key(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg = load_ok(
        t, "{\"$schema\":\"x\",\"listen\":\"[::1]:9000\",\"public_url\":\"https://push.example\","
           "\"broker\":{\"host\":\"::1\",\"port\":1884,\"client_id\":\"b2\",\"keepalive_s\":10,"
           "\"token\":\"t\"},\"streams_file\":\"/etc/s.json\",\"store\":\"sqlite://db/x.db\","
           "\"outbound\":{\"allow\":[\"127.0.0.0/8\",\"::1/128\"]},"
           "\"limits\":{\"max_connections\":10,\"max_header_bytes\":2048,"
           "\"max_body_bytes\":4096,\"send_queue_bytes\":8192},"
           "\"sse\":{\"heartbeat_ms\":500,\"retry_ms\":0,\"coalesce_ms\":0,"
           "\"replay_max_events\":0,\"replay_max_age_s\":1,"
           "\"routes\":[{\"path\":\"/events/client\",\"tenant\":\"t\",\"stream\":\"s\"}]},"
           "\"socketio\":{},\"ssf\":{\"x\":1},\"webpush\":{},\"unifiedpush\":{}}");
    char want[160];

    assert_string_equal(cfg->listen_host, "::1");
    assert_int_equal(cfg->listen_port, 9000);
    assert_string_equal(cfg->public_url, "https://push.example");
    assert_string_equal(cfg->broker_host, "::1");
    assert_int_equal(cfg->broker_port, 1884);
    assert_string_equal(cfg->broker_client_id, "b2");
    assert_int_equal(cfg->broker_keepalive_s, 10);
    assert_string_equal(cfg->streams_file, "/etc/s.json");
    snprintf(want, sizeof(want), "sqlite://%s/db/x.db", t->dir);
    assert_string_equal(cfg->store_url, want);
    assert_int_equal(cfg->n_outbound_allow, 2);
    assert_string_equal(cfg->outbound_allow[1], "::1/128");
    assert_int_equal(cfg->limits.max_connections, 10);
    assert_int_equal(cfg->limits.send_queue_bytes, 8192);
    assert_int_equal(cfg->sse.heartbeat_ms, 500);
    assert_int_equal(cfg->sse.coalesce_ms, 0);
    assert_int_equal(cfg->sse.n_routes, 1);
    assert_string_equal(cfg->sse.routes[0].path, "/events/client");
    assert_string_equal(cfg->sse.routes[0].tenant, "t");
    assert_string_equal(cfg->sse.routes[0].stream, "s");
    assert_non_null(cfg->doc);
    bridge_config_free(cfg);
}

static void test_token_file_read_again_and_trimmed(void **state)
{
    struct tmp *t = *state;
    char tokpath[160], err[128], *tok = NULL;
    struct bridge_config *cfg;

    snprintf(tokpath, sizeof(tokpath), "%s/bridge.token", t->dir);
    write_file(tokpath, "  first.token.value \n\n");
    cfg = load_ok(t, "{\"listen\":\"localhost:1\",\"broker\":{\"token_file\":\"bridge.token\"},"
                     "\"streams_file\":\"s.json\"}");
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_string_equal(cfg->broker_token, "first.token.value");
    assert_string_equal(cfg->broker_token_file, tokpath);
    write_file(tokpath, "rotated.token.value\n");
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "rotated.token.value");
    free(tok);
    write_file(tokpath, " \n");
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    unlink(tokpath);
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), -1);
    bridge_config_free(cfg);
}

static void test_errors_name_their_paths(void **state)
{
    struct tmp *t = *state;
    static const char *const all[] = {"$: unknown key \"listne\"",
                                      "$.listen: required",
                                      "$.broker: token or token_file is required",
                                      "$.streams_file: required",
                                      "$.limits.max_connections: must be an integer",
                                      "$.limits: unknown key \"max_conections\"",
                                      "$.outbound.allow[1]",
                                      "$.sse.routes[0]: path",
                                      "$.sse.routes[2]: path \"/x\" appears twice",
                                      "$.sse.heartbeat_ms: must be an integer between 100",
                                      NULL};
    static const char *const listen[] = {"$.listen: port", NULL};
    static const char *const host[] = {"$.listen: host", NULL};
    static const char *const both[] = {"$.broker: give token or token_file, not both", NULL};
    static const char *const json[] = {"not valid JSON", NULL};
    static const char *const store[] = {"$.store: unknown store", NULL};

    load_fails(t,
               "{\"listne\":1,\"broker\":{},\"limits\":{\"max_connections\":\"10\","
               "\"max_conections\":1},\"outbound\":{\"allow\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]},"
               "\"sse\":{\"heartbeat_ms\":5,\"routes\":[{\"path\":\"/healthz\",\"tenant\":\"t\","
               "\"stream\":\"s\"},{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"s\"},"
               "{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"s\"}]}}",
               all);
    load_fails(
        t, "{\"listen\":\"127.0.0.1:70000\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"}",
        listen);
    load_fails(
        t, "{\"listen\":\"example.com:80\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"}",
        host);
    load_fails(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"token_file\":\"y\"},"
               "\"streams_file\":\"s\"}",
               both);
    load_fails(t, "{\"listen\": ", json);
    load_fails(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\","
               "\"store\":\"postgres://db\"}",
               store);
}

static void test_missing_file(void **state)
{
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;

    (void)state;
    assert_int_equal(bridge_config_load("/nonexistent/bridge.json", &cfg, &errs), -1);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "cannot open"));
    mqp_errors_clear(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_read_again_and_trimmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_their_paths, setup, teardown),
        cmocka_unit_test(test_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
