/*
 * bridge.json: defaults, every key, the listen forms, path resolution against the file's
 * directory, token files (read at load and again on demand, trimmed), every class of error
 * with its JSON path, and the shipped examples/bridge.json.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "jwk.h"
#include "ssf/lang.h"

struct tmp {
    char dir[64];
    char real[PATH_MAX]; /* dir with symlinks resolved, as the loader reports paths */
    char path[128];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    strcpy(t->dir, "/tmp/mqp-bcfg-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    assert_non_null(realpath(t->dir, t->real));
    snprintf(t->path, sizeof(t->path), "%s/bridge.json", t->dir);
    *state = t;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct tmp *t = *state;

    nftw(t->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
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

static void write_in(struct tmp *t, const char *name, const char *text)
{
    char p[192];

    snprintf(p, sizeof(p), "%s/%s", t->dir, name);
    write_file(p, text);
}

static struct bridge_config *load_path_ok(const char *path)
{
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;
    size_t i;

    if (bridge_config_load(path, &cfg, &errs) != 0) {
        for (i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        fail_msg("expected %s to load", path);
    }
    assert_int_equal(errs.n, 0);
    mqp_errors_clear(&errs);
    return cfg;
}

static struct bridge_config *load_ok(struct tmp *t, const char *json)
{
    write_file(t->path, json);
    return load_path_ok(t->path);
}

/* Load json expecting failure; every string in want must appear in some error line. */
static void load_fails(struct tmp *t, const char *json, const char *const *want)
{
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = (struct bridge_config *)1;
    size_t i, j;

    write_file(t->path, json);
    assert_int_equal(bridge_config_load(t->path, &cfg, &errs), -1);
    assert_null(cfg);
    assert_true(errs.n > 0);
    for (j = 0; want[j]; j++) {
        int found = 0;

        for (i = 0; i < errs.n; i++)
            found |= strstr(errs.msgs[i], want[j]) != NULL;
        if (!found) {
            for (i = 0; i < errs.n; i++)
                fprintf(stderr, "  got: %s\n", errs.msgs[i]);
            fail_msg("%s: no error mentions \"%s\"", json, want[j]);
        }
    }
    mqp_errors_clear(&errs);
}

static void fails_with(struct tmp *t, const char *json, const char *want)
{
    const char *const one[] = {want, NULL};

    load_fails(t, json, one);
}

/* A minimal valid document with one member added (extra is "" or ",\"key\":value"). */
static char *with(const char *extra)
{
    static char doc[2048];

    snprintf(doc, sizeof(doc),
             "{\"listen\":\"127.0.0.1:8080\",\"broker\":{\"token\":\"a.b.c\"},"
             "\"streams_file\":\"streams.json\"%s}",
             extra);
    return doc;
}

static void test_defaults(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg = load_ok(t, with(""));
    char want[PATH_MAX + 32];

    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8080);
    assert_string_equal(cfg->public_url, "http://127.0.0.1:8080");
    assert_string_equal(cfg->broker_host, "127.0.0.1");
    assert_int_equal(cfg->broker_port, 1883);
    assert_string_equal(cfg->broker_client_id, "mqpush-bridge");
    assert_int_equal(cfg->broker_keepalive_s, 30);
    assert_string_equal(cfg->broker_token, "a.b.c");
    assert_null(cfg->broker_token_file);
    snprintf(want, sizeof(want), "%s/streams.json", t->real);
    assert_string_equal(cfg->streams_file, want);
    snprintf(want, sizeof(want), "sqlite://%s/mqpush.db", t->real);
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
    assert_string_equal(cfg->path, t->path);
    assert_non_null(cfg->doc);
    bridge_config_free(cfg);
}

static void test_every_key(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg = load_ok(
        t, "{\"$schema\":\"x\",\"listen\":\"[::1]:9000\",\"public_url\":\"https://push.example\","
           "\"broker\":{\"host\":\"::1\",\"port\":1884,\"client_id\":\"b2\",\"keepalive_s\":10,"
           "\"token\":\"t\"},\"streams_file\":\"/etc/s.json\",\"store\":\"sqlite://db/x.db\","
           "\"outbound\":{\"allow\":[\"127.0.0.0/8\",\"::1/128\",\"0.0.0.0/0\"]},"
           "\"limits\":{\"max_connections\":10,\"max_header_bytes\":2048,"
           "\"max_body_bytes\":4096,\"send_queue_bytes\":8192},"
           "\"sse\":{\"heartbeat_ms\":500,\"retry_ms\":0,\"coalesce_ms\":0,"
           "\"replay_max_events\":7,\"replay_max_age_s\":1,"
           "\"routes\":[{\"path\":\"/events/client\",\"tenant\":\"t\",\"stream\":\"s\"},"
           "{\"path\":\"/events/other\",\"tenant\":\"T.2\",\"stream\":\"s_-.x\"}]},"
           "\"socketio\":{},\"ssf\":{},\"webpush\":{\"subject\":\"mailto:a@example.com\"},"
           "\"unifiedpush\":{\"ttl_s\":60,\"streams\":[{\"tenant\":\"t\",\"stream\":\"s\"}]}}");
    char want[PATH_MAX + 32];

    assert_string_equal(cfg->listen_host, "::1");
    assert_int_equal(cfg->listen_port, 9000);
    assert_string_equal(cfg->public_url, "https://push.example");
    assert_string_equal(cfg->broker_host, "::1");
    assert_int_equal(cfg->broker_port, 1884);
    assert_string_equal(cfg->broker_client_id, "b2");
    assert_int_equal(cfg->broker_keepalive_s, 10);
    assert_string_equal(cfg->broker_token, "t");
    assert_string_equal(cfg->streams_file, "/etc/s.json");
    snprintf(want, sizeof(want), "sqlite://%s/db/x.db", t->real);
    assert_string_equal(cfg->store_url, want);
    assert_int_equal(cfg->n_outbound_allow, 3);
    assert_string_equal(cfg->outbound_allow[0], "127.0.0.0/8");
    assert_string_equal(cfg->outbound_allow[1], "::1/128");
    assert_string_equal(cfg->outbound_allow[2], "0.0.0.0/0");
    assert_int_equal(cfg->limits.max_connections, 10);
    assert_int_equal(cfg->limits.max_header_bytes, 2048);
    assert_int_equal(cfg->limits.max_body_bytes, 4096);
    assert_int_equal(cfg->limits.send_queue_bytes, 8192);
    assert_int_equal(cfg->sse.heartbeat_ms, 500);
    assert_int_equal(cfg->sse.retry_ms, 0);
    assert_int_equal(cfg->sse.coalesce_ms, 0);
    assert_int_equal(cfg->sse.replay_max_events, 7);
    assert_int_equal(cfg->sse.replay_max_age_s, 1);
    assert_int_equal(cfg->sse.n_routes, 2);
    assert_string_equal(cfg->sse.routes[0].path, "/events/client");
    assert_string_equal(cfg->sse.routes[0].tenant, "t");
    assert_string_equal(cfg->sse.routes[0].stream, "s");
    assert_string_equal(cfg->sse.routes[1].path, "/events/other");
    assert_string_equal(cfg->sse.routes[1].tenant, "T.2");
    assert_string_equal(cfg->sse.routes[1].stream, "s_-.x");
    assert_true(cfg->unifiedpush.enabled);
    assert_int_equal(cfg->unifiedpush.ttl_s, 60);
    assert_int_equal(cfg->unifiedpush.n_streams, 1);
    assert_int_equal(cfg->unifiedpush.streams[0].ttl_s, 60);
    assert_string_equal(cfg->unifiedpush.streams[0].urgency, "normal");
    bridge_config_free(cfg);
}

/* The edges of every numeric range load; integral numbers written as 1e3 or 8192.0 count. */
static void test_range_edges_and_integral_numbers(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg =
        load_ok(t, with(",\"limits\":{\"max_connections\":1000000,\"max_header_bytes\":65535,"
                        "\"max_body_bytes\":16777216,\"send_queue_bytes\":67108864},"
                        "\"sse\":{\"heartbeat_ms\":300000,\"retry_ms\":600000,\"coalesce_ms\":100,"
                        "\"replay_max_events\":100000,\"replay_max_age_s\":86400}"));

    assert_int_equal(cfg->limits.max_connections, 1000000);
    assert_int_equal(cfg->limits.max_header_bytes, 65535);
    assert_int_equal(cfg->limits.max_body_bytes, 16 * 1024 * 1024);
    assert_int_equal(cfg->limits.send_queue_bytes, 64 * 1024 * 1024);
    assert_int_equal(cfg->sse.heartbeat_ms, 300000);
    assert_int_equal(cfg->sse.retry_ms, 600000);
    assert_int_equal(cfg->sse.coalesce_ms, 100);
    assert_int_equal(cfg->sse.replay_max_events, 100000);
    assert_int_equal(cfg->sse.replay_max_age_s, 86400);
    bridge_config_free(cfg);
    cfg = load_ok(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"port\":1e3,"
                     "\"keepalive_s\":5.0},\"streams_file\":\"s\",\"limits\":"
                     "{\"max_connections\":1,\"max_header_bytes\":1024,\"max_body_bytes\":1024,"
                     "\"send_queue_bytes\":4096},\"sse\":{\"heartbeat_ms\":100}}");
    assert_int_equal(cfg->broker_port, 1000);
    assert_int_equal(cfg->broker_keepalive_s, 5);
    assert_int_equal(cfg->limits.max_connections, 1);
    assert_int_equal(cfg->limits.max_header_bytes, 1024);
    assert_int_equal(cfg->limits.send_queue_bytes, 4096);
    assert_int_equal(cfg->sse.heartbeat_ms, 100);
    bridge_config_free(cfg);
}

static void test_listen_forms(void **state)
{
    static const struct {
        const char *listen, *host, *url;
        int port;
    } ok[] = {
        {"localhost:80", "127.0.0.1", "http://localhost:80", 80},
        {"[::1]:9000", "::1", "http://[::1]:9000", 9000},
        {"0.0.0.0:65535", "0.0.0.0", "http://0.0.0.0:65535", 65535},
        {"[::]:1", "::", "http://[::]:1", 1},
        {"[::ffff:127.0.0.1]:8080", "::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]:8080", 8080},
    };
    static const struct {
        const char *listen, *error;
    } bad[] = {
        {"127.0.0.1:0", "$.listen: port must be between 1 and 65535"},
        {"127.0.0.1:65536", "$.listen: port"},
        {"127.0.0.1:080", "$.listen: port"},
        {"127.0.0.1:+80", "$.listen: port"},
        {"127.0.0.1: 80", "$.listen: port"},
        {"127.0.0.1:", "$.listen: port"},
        {"127.0.0.1", "$.listen: expected"},
        {"[::1]80", "$.listen: expected \"[ipv6]:port\""},
        {"[::1", "$.listen: expected"},
        {"::1:80", "$.listen: host"},
        {"[127.0.0.1]:80", "$.listen: host in brackets must be an IPv6 address"},
        {"[localhost]:80", "$.listen: host in brackets"},
        {"example.com:80", "$.listen: host must be an IP address or localhost"},
        {"256.0.0.1:80", "$.listen: host"},
        {":80", "$.listen: host"},
        {" 127.0.0.1:80", "$.listen: host"},
    };
    struct tmp *t = *state;
    char doc[256];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct bridge_config *cfg;

        snprintf(doc, sizeof(doc),
                 "{\"listen\":\"%s\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"}",
                 ok[i].listen);
        cfg = load_ok(t, doc);
        assert_string_equal(cfg->listen_host, ok[i].host);
        assert_int_equal(cfg->listen_port, ok[i].port);
        assert_string_equal(cfg->public_url, ok[i].url);
        bridge_config_free(cfg);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(doc, sizeof(doc),
                 "{\"listen\":\"%s\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"}",
                 bad[i].listen);
        fails_with(t, doc, bad[i].error);
    }
    fails_with(t, "{\"listen\":8080,\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"}",
               "$.listen: must be a non-empty string");
}

/* Relative paths follow bridge.json, wherever the process runs from. */
static void test_relative_paths(void **state)
{
    struct tmp *t = *state;
    char cwd[PATH_MAX], sub[128], want[PATH_MAX + 64];
    struct bridge_config *cfg;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(sub, sizeof(sub), "%s/conf", t->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_in(t, "conf/bridge.token", "tok\n");
    write_in(t, "conf/bridge.json",
             "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token_file\":\"bridge.token\"},"
             "\"streams_file\":\"../streams.json\",\"store\":\"sqlite://state/x.db\"}");
    /* Loaded by a relative path from the parent directory: resolved paths are absolute. */
    assert_int_equal(chdir(t->dir), 0);
    cfg = load_path_ok("conf/bridge.json");
    assert_int_equal(chdir(cwd), 0);
    snprintf(want, sizeof(want), "%s/conf/../streams.json", t->real);
    assert_string_equal(cfg->streams_file, want);
    snprintf(want, sizeof(want), "%s/conf/bridge.token", t->real);
    assert_string_equal(cfg->broker_token_file, want);
    assert_string_equal(cfg->broker_token, "tok");
    snprintf(want, sizeof(want), "sqlite://%s/conf/state/x.db", t->real);
    assert_string_equal(cfg->store_url, want);
    assert_int_equal(strncmp(cfg->store_url, "sqlite:///", 10), 0);
    bridge_config_free(cfg);

    /* A bare file name: the current directory. */
    assert_int_equal(chdir(sub), 0);
    cfg = load_path_ok("bridge.json");
    assert_int_equal(chdir(cwd), 0);
    snprintf(want, sizeof(want), "%s/conf/bridge.token", t->real);
    assert_string_equal(cfg->broker_token_file, want);
    bridge_config_free(cfg);

    /* Absolute paths and the in-memory store stay as written. */
    cfg = load_ok(t, with(",\"store\":\"sqlite:///var/lib/mqpush/x.db\""));
    assert_string_equal(cfg->store_url, "sqlite:///var/lib/mqpush/x.db");
    bridge_config_free(cfg);
    cfg = load_ok(t, with(",\"store\":\"sqlite::memory:\""));
    assert_string_equal(cfg->store_url, "sqlite::memory:");
    bridge_config_free(cfg);
    /* a connection URI goes to libpq as it is */
    cfg = load_ok(t, with(",\"store\":\"postgresql://mqp@db:5433/mqpush?sslmode=require\""));
    assert_string_equal(cfg->store_url, "postgresql://mqp@db:5433/mqpush?sslmode=require");
    bridge_config_free(cfg);
    cfg = load_ok(t, with(",\"store\":\"postgres://db/mqpush\""));
    assert_string_equal(cfg->store_url, "postgres://db/mqpush");
    bridge_config_free(cfg);
}

static void test_token_file_read_again_and_trimmed(void **state)
{
    struct tmp *t = *state;
    char tokpath[PATH_MAX + 32], err[256], *tok = NULL;
    struct bridge_config *cfg;

    snprintf(tokpath, sizeof(tokpath), "%s/bridge.token", t->real);
    write_file(tokpath, " \t first.token.value \r\n\n");
    cfg = load_ok(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token_file\":\"bridge.token\"},"
                     "\"streams_file\":\"s.json\"}");
    assert_string_equal(cfg->broker_token, "first.token.value");
    assert_string_equal(cfg->broker_token_file, tokpath);
    /* Rotated on disk: the next read sees the new token. */
    write_file(tokpath, "rotated.token.value\n");
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "rotated.token.value");
    free(tok);
    write_file(tokpath, " \n");
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), -1);
    assert_null(tok);
    assert_non_null(strstr(err, "empty"));
    unlink(tokpath);
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), -1);
    assert_null(tok);
    assert_non_null(strstr(err, "cannot open"));
    bridge_config_free(cfg);

    /* Inline: a copy the caller owns. */
    cfg = load_ok(t, with(""));
    assert_int_equal(bridge_config_read_token(cfg, &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "a.b.c");
    assert_ptr_not_equal(tok, cfg->broker_token);
    free(tok);
    bridge_config_free(cfg);

    /* At load time a missing or empty token file is an error of the key that names it. */
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token_file\":\"none.token\"},"
               "\"streams_file\":\"s\"}",
               "$.broker.token_file: cannot open");
    write_in(t, "empty.token", "\n\t \n");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token_file\":\"empty.token\"},"
               "\"streams_file\":\"s\"}",
               "empty.token is empty");
}

/* Many problems at once: each is reported, with its path. */
static void test_errors_are_collected(void **state)
{
    struct tmp *t = *state;
    static const char *const all[] = {"$: unknown key \"listne\"",
                                      "$.listen: required",
                                      "$.broker: token or token_file is required",
                                      "$.streams_file: required",
                                      "$.limits.max_connections: must be an integer between 1 "
                                      "and 1000000",
                                      "$.limits: unknown key \"max_conections\"",
                                      "$.outbound.allow[1]: must be a CIDR range",
                                      "$.sse.routes[0]: path must start with '/'",
                                      "$.sse.routes[2]: path \"/x\" appears twice",
                                      "$.sse.heartbeat_ms: must be an integer between 100",
                                      NULL};

    load_fails(t,
               "{\"listne\":1,\"broker\":{},\"limits\":{\"max_connections\":\"10\","
               "\"max_conections\":1},\"outbound\":{\"allow\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]},"
               "\"sse\":{\"heartbeat_ms\":5,\"routes\":[{\"path\":\"/healthz\",\"tenant\":\"t\","
               "\"stream\":\"s\"},{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"s\"},"
               "{\"path\":\"/x\",\"tenant\":\"u\",\"stream\":\"s\"}]}}",
               all);
}

static void test_unknown_keys_and_wrong_types(void **state)
{
    static const struct {
        const char *extra, *error;
    } cases[] = {
        {",\"extra\":1", "$: unknown key \"extra\""},
        {",\"outbound\":{\"alow\":[]}", "$.outbound: unknown key \"alow\""},
        {",\"sse\":{\"rotes\":[]}", "$.sse: unknown key \"rotes\""},
        {",\"sse\":{\"routes\":[{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"s\",\"m\":1}]}",
         "$.sse.routes[0]: unknown key \"m\""},
        {",\"$schema\":5", "$.$schema: must be a string"},
        {",\"public_url\":5", "$.public_url: must be a non-empty string"},
        {",\"store\":[]", "$.store: must be a non-empty string"},
        {",\"outbound\":[]", "$.outbound: must be an object"},
        {",\"outbound\":{\"allow\":\"10.0.0.0/8\"}", "$.outbound.allow: must be an array"},
        {",\"outbound\":{\"allow\":[8]}", "$.outbound.allow[0]: must be a CIDR range"},
        {",\"limits\":1", "$.limits: must be an object"},
        {",\"limits\":{\"max_body_bytes\":null}", "$.limits.max_body_bytes: must be an integer"},
        {",\"limits\":{\"max_body_bytes\":true}", "$.limits.max_body_bytes: must be an integer"},
        {",\"limits\":{\"max_body_bytes\":2048.5}", "$.limits.max_body_bytes: must be an integer"},
        {",\"sse\":[]", "$.sse: must be an object"},
        {",\"sse\":{\"routes\":{}}", "$.sse.routes: must be an array"},
        {",\"sse\":{\"routes\":[\"/x\"]}", "$.sse.routes[0]: must be an object"},
        {",\"sse\":{\"retry_ms\":\"1\"}", "$.sse.retry_ms: must be an integer"},
        {",\"socketio\":[]", "$.socketio: must be an object"},
        {",\"ssf\":1", "$.ssf: must be an object"},
        {",\"webpush\":\"x\"", "$.webpush: must be an object"},
        {",\"unifiedpush\":null", "$.unifiedpush: must be an object"},
    };
    struct tmp *t = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fails_with(t, with(cases[i].extra), cases[i].error);
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"tokn\":1},"
               "\"streams_file\":\"s\"}",
               "$.broker: unknown key \"tokn\"");
    fails_with(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":\"x\",\"streams_file\":\"s\"}",
               "$.broker: must be an object");
    fails_with(t, "{\"listen\":\"127.0.0.1:1\",\"streams_file\":\"s\"}", "$.broker: required");
    fails_with(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},\"streams_file\":5}",
               "$.streams_file: must be a non-empty string");
    fails_with(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"\"}",
               "$.streams_file: must be a non-empty string");
}

/* One past each end of every range is refused, naming the key and the range. */
static void test_ranges(void **state)
{
    static const struct {
        const char *section, *key;
        long long lo, hi;
    } r[] = {
        {"limits", "max_connections", 1, 1000000},
        {"limits", "max_header_bytes", 1024, 65535},
        {"limits", "max_body_bytes", 1024, 16777216},
        {"limits", "send_queue_bytes", 4096, 67108864},
        {"sse", "heartbeat_ms", 100, 300000},
        {"sse", "retry_ms", 0, 600000},
        {"sse", "coalesce_ms", 0, 100},
        {"sse", "replay_max_events", 0, 100000},
        {"sse", "replay_max_age_s", 0, 86400},
    };
    struct tmp *t = *state;
    char extra[160], want[160];
    size_t i;

    for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        snprintf(want, sizeof(want), "$.%s.%s: must be an integer between %lld and %lld",
                 r[i].section, r[i].key, r[i].lo, r[i].hi);
        snprintf(extra, sizeof(extra), ",\"%s\":{\"%s\":%lld}", r[i].section, r[i].key,
                 r[i].lo - 1);
        fails_with(t, with(extra), want);
        snprintf(extra, sizeof(extra), ",\"%s\":{\"%s\":%lld}", r[i].section, r[i].key,
                 r[i].hi + 1);
        fails_with(t, with(extra), want);
    }
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"port\":0},"
               "\"streams_file\":\"s\"}",
               "$.broker.port: must be an integer between 1 and 65535");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"keepalive_s\":4},"
               "\"streams_file\":\"s\"}",
               "$.broker.keepalive_s: must be an integer between 5 and 3600");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"keepalive_s\":3601},"
               "\"streams_file\":\"s\"}",
               "$.broker.keepalive_s");
    fails_with(t, with(",\"limits\":{\"max_connections\":99999999999999999999}"),
               "$.limits.max_connections: must be an integer");
}

static void test_bad_cidrs(void **state)
{
    static const char *const bad[] = {"10.0.0.0/33",    "::1/129",     "10.0.0.0",    "10.0.0.0/",
                                      "10.0.0.0/08",    "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0/8",
                                      "host.example/8", "::1/-1",      "256.0.0.0/8", "/8"};
    struct tmp *t = *state;
    char extra[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(extra, sizeof(extra), ",\"outbound\":{\"allow\":[\"::/0\",\"%s\"]}", bad[i]);
        fails_with(t, with(extra), "$.outbound.allow[1]: must be a CIDR range");
    }
}

static void test_socketio(void **state)
{
    static const char *const bad_origins[] = {
        "example.com", "https://a.example/", "ftp://a", "https://a.example/x", "", "http://"};
    struct tmp *t = *state;
    struct bridge_config *cfg = load_ok(t, with(""));
    char extra[256], want[PATH_MAX + 32];
    size_t i;

    assert_true(cfg->socketio.enabled);
    assert_int_equal(cfg->socketio.ping_interval_ms, 25000);
    assert_int_equal(cfg->socketio.ping_timeout_ms, 20000);
    assert_int_equal(cfg->socketio.max_payload, 1000000);
    assert_int_equal(cfg->socketio.connect_timeout_ms, 45000);
    assert_int_equal(cfg->socketio.recovery_window_s, 120);
    assert_int_equal(cfg->socketio.n_cors_origins, 0);
    assert_null(cfg->socketio.client_script);
    bridge_config_free(cfg);

    cfg = load_ok(t, with(",\"socketio\":{\"enabled\":false,\"ping_interval_ms\":300,"
                          "\"ping_timeout_ms\":200,\"max_payload\":4096,"
                          "\"connect_timeout_ms\":1000,\"recovery_window_s\":0,"
                          "\"cors_origins\":[\"*\",\"https://app.example:8443\"],"
                          "\"client_script\":\"js/sio.js\"}"));
    assert_false(cfg->socketio.enabled);
    assert_int_equal(cfg->socketio.ping_interval_ms, 300);
    assert_int_equal(cfg->socketio.ping_timeout_ms, 200);
    assert_int_equal(cfg->socketio.max_payload, 4096);
    assert_int_equal(cfg->socketio.connect_timeout_ms, 1000);
    assert_int_equal(cfg->socketio.recovery_window_s, 0);
    assert_int_equal(cfg->socketio.n_cors_origins, 2);
    assert_string_equal(cfg->socketio.cors_origins[0], "*");
    assert_string_equal(cfg->socketio.cors_origins[1], "https://app.example:8443");
    snprintf(want, sizeof(want), "%s/js/sio.js", t->real);
    assert_string_equal(cfg->socketio.client_script, want);
    bridge_config_free(cfg);

    for (i = 0; i < sizeof(bad_origins) / sizeof(bad_origins[0]); i++) {
        snprintf(extra, sizeof(extra), ",\"socketio\":{\"cors_origins\":[\"%s\"]}", bad_origins[i]);
        fails_with(t, with(extra), "$.socketio.cors_origins[0]: must be");
    }
    fails_with(t, with(",\"socketio\":{\"ping_interval_ms\":10}"),
               "$.socketio.ping_interval_ms: must be an integer between 50 and 600000");
    fails_with(t, with(",\"socketio\":{\"enabled\":1}"), "$.socketio.enabled: must be a boolean");
    fails_with(t, with(",\"socketio\":{\"path\":\"/x\"}"), "$.socketio: unknown key \"path\"");
    fails_with(t, with(",\"socketio\":{\"cors_origins\":\"*\"}"),
               "$.socketio.cors_origins: must be an array");
}

static void test_bad_routes(void **state)
{
    static const struct {
        const char *route, *error;
    } cases[] = {
        {"{\"path\":\"events\",\"tenant\":\"t\",\"stream\":\"s\"}", "path must start with '/'"},
        {"{\"path\":\"/e?x=1\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/e#f\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/metrics\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/stream/v1/x\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/api/x\",\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0]: path"},
        {"{\"path\":\"/x\",\"tenant\":\"a/b\",\"stream\":\"s\"}",
         "$.sse.routes[0].tenant: must be 1..128 of [A-Za-z0-9._-]"},
        {"{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"s s\"}",
         "$.sse.routes[0].stream: must be"},
        {"{\"path\":\"/x\",\"tenant\":\"\",\"stream\":\"s\"}",
         "$.sse.routes[0].tenant: must be a non-empty string"},
        {"{\"path\":\"/x\",\"tenant\":\"t\"}", "$.sse.routes[0]: path, tenant and stream are"},
        {"{\"path\":5,\"tenant\":\"t\",\"stream\":\"s\"}", "$.sse.routes[0].path: must be a"},
    };
    struct tmp *t = *state;
    char extra[512], id[140];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(extra, sizeof(extra), ",\"sse\":{\"routes\":[%s]}", cases[i].route);
        fails_with(t, with(extra), cases[i].error);
    }
    /* Ids: 128 characters are fine, 129 are not. */
    memset(id, 'x', 129);
    id[129] = '\0';
    snprintf(extra, sizeof(extra),
             ",\"sse\":{\"routes\":[{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"%s\"}]}", id);
    fails_with(t, with(extra), "$.sse.routes[0].stream: must be 1..128");
    id[128] = '\0';
    snprintf(extra, sizeof(extra),
             ",\"sse\":{\"routes\":[{\"path\":\"/x\",\"tenant\":\"t\",\"stream\":\"%s\"}]}", id);
    bridge_config_free(load_ok(t, with(extra)));
    /* Near misses of reserved paths are ordinary paths. */
    bridge_config_free(load_ok(t, with(",\"sse\":{\"routes\":[{\"path\":\"/streams\",\"tenant\":"
                                       "\"t\",\"stream\":\"s\"},{\"path\":\"/healthz2\","
                                       "\"tenant\":\"t\",\"stream\":\"s\"}]}")));
}

static void test_token_rules(void **state)
{
    struct tmp *t = *state;

    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"token_file\":\"y\"},"
               "\"streams_file\":\"s\"}",
               "$.broker: give token or token_file, not both");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"host\":\"::1\"},\"streams_file\":\"s\"}",
               "$.broker: token or token_file is required");
    fails_with(t, "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"\"},\"streams_file\":\"s\"}",
               "$.broker.token: must be a non-empty string");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"host\":\"mq.example\"},"
               "\"streams_file\":\"s\"}",
               "$.broker.host: must be an IP address or localhost");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\",\"client_id\":\"\"},"
               "\"streams_file\":\"s\"}",
               "$.broker.client_id: must be a non-empty string");
}

static void test_urls_and_stores(void **state)
{
    static const struct {
        const char *extra, *error;
    } cases[] = {
        {",\"public_url\":\"ftp://x\"", "$.public_url: must be an http or https URL"},
        {",\"public_url\":\"http://\"", "$.public_url: must be an http or https URL"},
        {",\"public_url\":\"https:///x\"", "$.public_url"},
        {",\"public_url\":\"http://a b\"", "$.public_url"},
        {",\"store\":\"mysql://db\"", "$.store: unknown store"},
        {",\"store\":\"postgresql://\"", "$.store: must be postgresql://"},
        {",\"store\":\"postgres:db\"", "$.store: must be postgresql://"},
        {",\"store\":\"sqlite:x.db\"", "$.store: must be sqlite://<path> or sqlite::memory:"},
        {",\"store\":\"sqlite://\"", "$.store: must be sqlite://"},
        {",\"store\":\"sqlite:///\"", "$.store: must be sqlite://"},
        {",\"store\":\"sqlite://a\\nb\"", "$.store: must not hold control characters"},
    };
    struct tmp *t = *state;
    struct bridge_config *cfg;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fails_with(t, with(cases[i].extra), cases[i].error);
    cfg = load_ok(t, with(",\"public_url\":\"http://[::1]:8080/base?x#y\""));
    assert_string_equal(cfg->public_url, "http://[::1]:8080/base?x#y");
    bridge_config_free(cfg);
}

/* 64 levels of nesting are read (the whole document counting as one), 65 are not. */
static void nested(char *extra, int arrays)
{
    char *p = extra + sprintf(extra, ",\"unifiedpush\":{\"x\":");

    memset(p, '[', (size_t)arrays);
    memset(p + arrays, ']', (size_t)arrays);
    strcpy(p + 2 * arrays, "}");
}

static void test_nesting(struct tmp *t)
{
    char extra[200];

    /* read whole: what stops it is the section's key check, after the JSON reader */
    nested(extra, 62);
    fails_with(t, with(extra), "$.unifiedpush: unknown key \"x\"");
    nested(extra, 63);
    fails_with(t, with(extra), "nested too deep");
}

static void test_documents_that_are_not_json_objects(void **state)
{
    struct tmp *t = *state;
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;

    fails_with(t, "{\"listen\": ", "$: not valid JSON");
    fails_with(t, "", "$: not valid JSON");
    fails_with(t, "[1]", "$: must be an object");
    fails_with(t, "{} {}", "$: not valid JSON at byte 3: content after the document");
    fails_with(t, "{\"listen\":NaN}", "$: not valid JSON at byte 10: not a JSON value");
    fails_with(t, with(",\"unifiedpush\":{\"x\":[-Infinity]}"),
               "$: not valid JSON at byte 105: not a JSON value");
    fails_with(t, with(",\"limits\":{\"max_body_bytes\":2048.}"),
               "digits must follow a decimal point");
    fails_with(t, with(",\"unifiedpush\":{\"x\":\"a\tb\"}"),
               "$: not valid JSON at byte 105: unescaped control character in a string");
    fails_with(t,
               "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},"
               "\"streams_file\":\"s\\u0000x\"}",
               "$.streams_file: must not contain NUL");
    fails_with(t, "{\"listen\":\"\xff\"}", "$: not valid JSON");
    fails_with(t, "{\"a\":1,}", "$: not valid JSON at byte 7: member names must be");
    fails_with(t, "[1,]", "$: not valid JSON at byte 3: not a JSON value");
    fails_with(t, "{\"a\":01}", "$: not valid JSON at byte 6: ',' or '}' expected");
    fails_with(t, "{\"a\":1} // c", "$: not valid JSON at byte 8: content after the document");
    fails_with(t, "{\"a\":\"\\x41\"}", "$: not valid JSON at byte 7: unknown escape");
    fails_with(t, "{\"a\":\"\\u12\"}", "$: not valid JSON at byte 7: \\u needs four hex digits");
    fails_with(t, "{\"a\":\"x}", "$: not valid JSON at byte 8: unterminated string");
    fails_with(t, "{\"a\":tru}", "$: not valid JSON at byte 5: not a JSON value");
    fails_with(t, "{'listen':1}",
               "$: not valid JSON at byte 1: member names must be double-quoted");
    test_nesting(t);
    /* Trailing white space is not content. */
    bridge_config_free(load_ok(t, "\n {\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},"
                                  "\"streams_file\":\"s\"} \r\n\t\n"));
    assert_int_equal(bridge_config_load("/nonexistent/bridge.json", &cfg, &errs), -1);
    assert_null(cfg);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msgs[0], "cannot open"));
    mqp_errors_clear(&errs);
}

/* A file full of mistakes lists 100 of them and says how many more there are. */
static void test_error_list_is_bounded(void **state)
{
    struct tmp *t = *state;
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;
    char *doc = malloc(300 * 16 + 64), *p = doc;
    int i;

    assert_non_null(doc);
    p += sprintf(p,
                 "{\"listen\":\"127.0.0.1:1\",\"broker\":{\"token\":\"x\"},\"streams_file\":\"s\"");
    for (i = 0; i < 300; i++)
        p += sprintf(p, ",\"k%d\":1", i);
    strcpy(p, "}");
    write_file(t->path, doc);
    free(doc);
    assert_int_equal(bridge_config_load(t->path, &cfg, &errs), -1);
    assert_int_equal(errs.n, 101);
    assert_string_equal(errs.msgs[100], "$: 200 more errors not listed");
    mqp_errors_clear(&errs);
}

/* A JWKS file with one fresh P-256 key at name in t's directory. */
static void write_jwks(struct tmp *t, const char *name)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    json_object *doc = json_object_new_object(), *keys = json_object_new_array();

    assert_non_null(key);
    json_object_array_add(keys, mqp_jwk_from_pkey(key));
    json_object_object_add(doc, "keys", keys);
    write_in(t, name, json_object_to_json_string(doc));
    json_object_put(doc);
    EVP_PKEY_free(key);
}

static void test_ssf_receiver(void **state)
{
    struct tmp *t = *state;
    struct bridge_config *cfg;
    char want[PATH_MAX + 32];

    write_jwks(t, "tx.jwks.json");
    write_in(t, "empty.jwks.json", "{\"keys\":[]}");
    /* Absent: off, with the defaults in place. */
    cfg = load_ok(t, with(""));
    assert_false(cfg->ssf.enabled);
    assert_string_equal(cfg->ssf.namespace_, "ssf");
    bridge_config_free(cfg);
    cfg = load_ok(t, with(",\"ssf\":{}"));
    assert_false(cfg->ssf.enabled);
    bridge_config_free(cfg);
    cfg = load_ok(t, with(",\"ssf\":{\"receiver\":{\"namespace\":\"signals\","
                          "\"languages\":[\"fr\"],\"jwks_refresh_s\":600,"
                          "\"event_names\":{\"https://x.example/ev/a\":\"alpha\"},"
                          "\"transmitters\":[{\"tenant\":\"t\",\"issuer\":\"https://tx/\","
                          "\"audience\":\"rx\",\"jwks_file\":\"tx.jwks.json\","
                          "\"authorization\":\"Bearer s3cret\"},{\"tenant\":\"u\","
                          "\"issuer\":\"https://tx/\",\"audience\":\"rx\","
                          "\"jwks_uri\":\"https://tx.example/jwks\"}]}}"));
    assert_true(cfg->ssf.enabled);
    assert_string_equal(cfg->ssf.namespace_, "signals");
    assert_int_equal(cfg->ssf.languages, (1u << SSF_LANG_EN) | (1u << SSF_LANG_FR));
    assert_int_equal(cfg->ssf.jwks_refresh_s, 600);
    assert_int_equal(cfg->ssf.n_event_names, 1);
    assert_string_equal(cfg->ssf.event_names[0].type, "https://x.example/ev/a");
    assert_string_equal(cfg->ssf.event_names[0].name, "alpha");
    assert_int_equal(cfg->ssf.n_transmitters, 2);
    assert_string_equal(cfg->ssf.transmitters[0].tenant, "t");
    assert_string_equal(cfg->ssf.transmitters[0].issuer, "https://tx/");
    assert_string_equal(cfg->ssf.transmitters[0].audience, "rx");
    snprintf(want, sizeof(want), "%s/tx.jwks.json", t->real);
    assert_string_equal(cfg->ssf.transmitters[0].jwks_file, want);
    assert_null(cfg->ssf.transmitters[0].jwks_uri);
    assert_string_equal(cfg->ssf.transmitters[0].authorization, "Bearer s3cret");
    assert_null(cfg->ssf.transmitters[1].jwks_file);
    assert_string_equal(cfg->ssf.transmitters[1].jwks_uri, "https://tx.example/jwks");
    assert_null(cfg->ssf.transmitters[1].authorization);
    bridge_config_free(cfg);
}

static void test_ssf_errors(void **state)
{
    static const struct {
        const char *extra, *error;
    } cases[] = {
        {",\"ssf\":{\"x\":1}", "$.ssf: unknown key \"x\""},
        {",\"ssf\":{\"receiver\":[]}", "$.ssf.receiver: must be an object"},
        {",\"ssf\":{\"receiver\":{}}", "$.ssf.receiver.transmitters: required"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[]}}", "$.ssf.receiver.transmitters: required"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[1]}}",
         "$.ssf.receiver.transmitters[0]: must be an object"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{}]}}",
         "$.ssf.receiver.transmitters[0].tenant: required"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{}]}}",
         "$.ssf.receiver.transmitters[0].issuer: required"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{}]}}",
         "$.ssf.receiver.transmitters[0].audience: required"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{}]}}",
         "$.ssf.receiver.transmitters[0]: give jwks_file or jwks_uri"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"jwks_file\":\"tx.jwks.json\","
         "\"jwks_uri\":\"https://a/\"}]}}",
         "$.ssf.receiver.transmitters[0]: give jwks_file or jwks_uri"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"jwks_file\":\"nope.json\"}]}}",
         "nope.json: No such file or directory"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"jwks_file\":\"empty.jwks.json\"}]}}",
         "holds no key"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"jwks_uri\":\"ftp://a/k\"}]}}",
         "$.ssf.receiver.transmitters[0].jwks_uri: must be an http or https URL"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"tenant\":\"a b\"}]}}",
         "$.ssf.receiver.transmitters[0].tenant: required: a tenant id"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"authorization\":\" x\"}]}}",
         "$.ssf.receiver.transmitters[0].authorization: must be a header value"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"authorization\":\"a\\nb\"}]}}",
         "$.ssf.receiver.transmitters[0].authorization: must be a header value"},
        {",\"ssf\":{\"receiver\":{\"transmitters\":[{\"colour\":1}]}}",
         "$.ssf.receiver.transmitters[0]: unknown key \"colour\""},
        {",\"ssf\":{\"receiver\":{\"namespace\":\"a/b\",\"transmitters\":[{}]}}",
         "$.ssf.receiver.namespace: must be an event namespace"},
        {",\"ssf\":{\"receiver\":{\"languages\":[\"it\"],\"transmitters\":[{}]}}",
         "$.ssf.receiver.languages[0]: must be one of"},
        {",\"ssf\":{\"receiver\":{\"languages\":\"de\",\"transmitters\":[{}]}}",
         "$.ssf.receiver.languages: must be an array"},
        {",\"ssf\":{\"receiver\":{\"event_names\":{\"u\":\"a b\"},\"transmitters\":[{}]}}",
         "$.ssf.receiver.event_names: \"u\" must map to an event name"},
        {",\"ssf\":{\"receiver\":{\"jwks_refresh_s\":10,\"transmitters\":[{}]}}",
         "$.ssf.receiver.jwks_refresh_s"},
        {",\"sse\":{\"routes\":[{\"path\":\"/ssf/x\",\"tenant\":\"t\",\"stream\":\"s\"}]}",
         "$.sse.routes[0]: path"},
    };
    struct tmp *t = *state;

    write_jwks(t, "tx.jwks.json");
    write_in(t, "empty.jwks.json", "{\"keys\":[]}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        fails_with(t, with(cases[i].extra), cases[i].error);
    /* One issuer twice for a tenant; one secret for two transmitters. */
    fails_with(t,
               with(",\"ssf\":{\"receiver\":{\"transmitters\":["
                    "{\"tenant\":\"t\",\"issuer\":\"i\",\"audience\":\"a\",\"jwks_file\":"
                    "\"tx.jwks.json\"},{\"tenant\":\"t\",\"issuer\":\"i\",\"audience\":\"b\","
                    "\"jwks_file\":\"tx.jwks.json\"}]}}"),
               "$.ssf.receiver.transmitters[1]: issuer i is listed twice for tenant t");
    fails_with(t,
               with(",\"ssf\":{\"receiver\":{\"transmitters\":["
                    "{\"tenant\":\"t\",\"issuer\":\"i\",\"audience\":\"a\",\"jwks_file\":"
                    "\"tx.jwks.json\",\"authorization\":\"Bearer x\"},{\"tenant\":\"u\","
                    "\"issuer\":\"i\",\"audience\":\"b\",\"jwks_file\":\"tx.jwks.json\","
                    "\"authorization\":\"Bearer x\"}]}}"),
               "$.ssf.receiver.transmitters[1]: authorization is the same as transmitters[0]'s");
}

/* The demo's file, next to the token and streams files it names. */
static void test_example_loads(void **state)
{
    struct tmp *t = *state;
    char src[PATH_MAX], want[PATH_MAX + 32], buf[8192];
    struct bridge_config *cfg;
    FILE *in, *out;
    size_t n;

    snprintf(src, sizeof(src), "%s/examples/bridge.json", MQP_SOURCE_DIR);
    in = fopen(src, "rb");
    assert_non_null(in);
    out = fopen(t->path, "wb");
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    write_in(t, "bridge.token", "demo.service.token\n");
    cfg = load_path_ok(t->path);
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8080);
    assert_string_equal(cfg->broker_token, "demo.service.token");
    snprintf(want, sizeof(want), "%s/streams.json", t->real);
    assert_string_equal(cfg->streams_file, want);
    snprintf(want, sizeof(want), "sqlite://%s/mqpush.db", t->real);
    assert_string_equal(cfg->store_url, want);
    assert_int_equal(cfg->n_outbound_allow, 2);
    assert_int_equal(cfg->sse.n_routes, 1);
    assert_string_equal(cfg->sse.routes[0].path, "/events/client");
    assert_true(cfg->ssf.enabled);
    assert_int_equal(cfg->ssf.n_transmitters, 1);
    assert_string_equal(cfg->ssf.transmitters[0].tenant, "demo");
    bridge_config_free(cfg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_every_key),
        T(test_range_edges_and_integral_numbers),
        T(test_listen_forms),
        T(test_relative_paths),
        T(test_token_file_read_again_and_trimmed),
        T(test_errors_are_collected),
        T(test_unknown_keys_and_wrong_types),
        T(test_ranges),
        T(test_bad_cidrs),
        T(test_bad_routes),
        T(test_socketio),
        T(test_token_rules),
        T(test_urls_and_stores),
        T(test_ssf_receiver),
        T(test_ssf_errors),
        T(test_documents_that_are_not_json_objects),
        T(test_error_list_is_bounded),
        T(test_example_loads),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
