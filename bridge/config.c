/*
 * bridge.json: parse, check and fill in defaults. Every problem is reported with its JSON
 * path, and all of them at once, so that an operator fixes a file in one go. Unknown keys are
 * errors: a misspelt limit must not pass silently. schemas/bridge.schema.json states the same
 * rules for editors and CI; a change here is a change there.
 */
#include "config.h"
#include "config_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRIDGE_CONFIG_MAX_BYTES (1024 * 1024)
#define TOKEN_MAX_BYTES (64 * 1024)

static void parse_broker(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"host",  "port",       "client_id",   "keepalive_s",
                                       "token", "token_file", "share_group", NULL};
    json_object *b = bridge_config__get_object(x, doc, "broker", "$.broker");
    uint64_t port = 1883, ka = 30;
    char *token_file = NULL, err[320];

    cfg->broker_port = (int)port;
    cfg->broker_keepalive_s = (int)ka;
    if (b == NULL) {
        if (!json_object_object_get_ex(doc, "broker", NULL))
            bridge_config__report(x, "$.broker", "required (with token or token_file)");
        return;
    }
    bridge_config__check_keys(x, b, "$.broker", keys);
    bridge_config__get_string(x, b, "host", "$.broker.host", &cfg->broker_host);
    if (cfg->broker_host && !bridge_config__ip_or_localhost(cfg->broker_host, true))
        bridge_config__report(x, "$.broker.host", "must be an IP address or localhost");
    bridge_config__get_uint(x, b, "port", "$.broker.port", 1, 65535, &port);
    bridge_config__get_uint(x, b, "keepalive_s", "$.broker.keepalive_s", 5, 3600, &ka);
    bridge_config__get_string(x, b, "client_id", "$.broker.client_id", &cfg->broker_client_id);
    bridge_config__get_string(x, b, "token", "$.broker.token", &cfg->broker_token);
    bridge_config__get_string(x, b, "share_group", "$.broker.share_group",
                              &cfg->broker_share_group);
    /* A group name is one topic level (MQTT 5 4.8.2): no '/', '+' or '#'. */
    if (cfg->broker_share_group &&
        (cfg->broker_share_group[0] == '\0' || strpbrk(cfg->broker_share_group, "/+#") ||
         strlen(cfg->broker_share_group) > 64))
        bridge_config__report(x, "$.broker.share_group",
                              "must be 1 to 64 characters without '/', '+' or '#'");
    bridge_config__get_string(x, b, "token_file", "$.broker.token_file", &token_file);
    cfg->broker_port = (int)port;
    cfg->broker_keepalive_s = (int)ka;
    if (json_object_object_get_ex(b, "token", NULL) &&
        json_object_object_get_ex(b, "token_file", NULL))
        bridge_config__report(x, "$.broker", "give token or token_file, not both");
    else if (!json_object_object_get_ex(b, "token", NULL) &&
             !json_object_object_get_ex(b, "token_file", NULL))
        bridge_config__report(x, "$.broker", "token or token_file is required");
    else if (token_file) {
        /* Read now so that a missing or empty file fails at start, not at the first connect. */
        cfg->broker_token_file = bridge_config__join_path(x->dir, token_file);
        if (cfg->broker_token_file == NULL)
            bridge_config__report(x, "$.broker.token_file", "out of memory");
        else if (bridge_config_read_token(cfg, &cfg->broker_token, err, sizeof(err)) != 0)
            bridge_config__report(x, "$.broker.token_file", "%s", err);
    }
    free(token_file);
}

static void parse_limits(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"max_connections", "max_header_bytes", "max_body_bytes",
                                       "send_queue_bytes", NULL};
    json_object *l = bridge_config__get_object(x, doc, "limits", "$.limits");
    uint64_t mc = 20000, mh = 8192, mb = 65536, sq = 1024 * 1024;

    if (l) {
        bridge_config__check_keys(x, l, "$.limits", keys);
        bridge_config__get_uint(x, l, "max_connections", "$.limits.max_connections", 1, 1000000,
                                &mc);
        /* 65535, not 64 KiB: lws keeps its header buffer size in an unsigned short. */
        bridge_config__get_uint(x, l, "max_header_bytes", "$.limits.max_header_bytes", 1024, 65535,
                                &mh);
        bridge_config__get_uint(x, l, "max_body_bytes", "$.limits.max_body_bytes", 1024,
                                16 * 1024 * 1024, &mb);
        bridge_config__get_uint(x, l, "send_queue_bytes", "$.limits.send_queue_bytes", 4096,
                                64 * 1024 * 1024, &sq);
    }
    cfg->limits.max_connections = mc;
    cfg->limits.max_header_bytes = mh;
    cfg->limits.max_body_bytes = mb;
    cfg->limits.send_queue_bytes = sq;
}

static void parse_route(struct bridge_config_ctx *x, json_object *r, const char *path,
                        struct bridge_config *cfg)
{
    static const char *const keys[] = {"path", "tenant", "stream", NULL};
    struct bridge_sse_route *rt = &cfg->sse.routes[cfg->sse.n_routes];
    char sub[96];
    size_t j;

    cfg->sse.n_routes++;
    bridge_config__check_keys(x, r, path, keys);
    snprintf(sub, sizeof(sub), "%s.path", path);
    bridge_config__get_string(x, r, "path", sub, &rt->path);
    snprintf(sub, sizeof(sub), "%s.tenant", path);
    bridge_config__get_string(x, r, "tenant", sub, &rt->tenant);
    if (rt->tenant && !bridge_config__id(rt->tenant))
        bridge_config__report(x, sub, "must be 1..128 of [A-Za-z0-9._-]");
    snprintf(sub, sizeof(sub), "%s.stream", path);
    bridge_config__get_string(x, r, "stream", sub, &rt->stream);
    if (rt->stream && !bridge_config__id(rt->stream))
        bridge_config__report(x, sub, "must be 1..128 of [A-Za-z0-9._-]");
    if (!json_object_object_get_ex(r, "path", NULL) ||
        !json_object_object_get_ex(r, "tenant", NULL) ||
        !json_object_object_get_ex(r, "stream", NULL))
        bridge_config__report(x, path, "path, tenant and stream are required");
    if (rt->path == NULL)
        return;
    if (!bridge_config__route_path(rt->path) || bridge_config__reserved_path(rt->path))
        bridge_config__report(
            x, path,
            "path must start with '/', hold no '?', '#', space or control character, and "
            "not be one of the bridge's own paths (/, /healthz, /metrics, /index.html, "
            "/stream/, /api/, /socket.io/, /.well-known/)");
    for (j = 0; j + 1 < cfg->sse.n_routes; j++)
        if (cfg->sse.routes[j].path && strcmp(cfg->sse.routes[j].path, rt->path) == 0)
            bridge_config__report(x, path, "path \"%s\" appears twice", rt->path);
}

static void parse_routes(struct bridge_config_ctx *x, json_object *arr, struct bridge_config *cfg)
{
    size_t n, i;

    if (!json_object_is_type(arr, json_type_array)) {
        bridge_config__report(x, "$.sse.routes", "must be an array");
        return;
    }
    n = json_object_array_length(arr);
    cfg->sse.routes = calloc(n ? n : 1, sizeof(*cfg->sse.routes));
    if (cfg->sse.routes == NULL) {
        bridge_config__report(x, "$.sse.routes", "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(arr, i);
        char path[48];

        snprintf(path, sizeof(path), "$.sse.routes[%zu]", i);
        if (!json_object_is_type(r, json_type_object))
            bridge_config__report(x, path, "must be an object");
        else
            parse_route(x, r, path, cfg);
    }
}

static void parse_sse(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "heartbeat_ms",     "retry_ms", "coalesce_ms", "replay_max_events",
        "replay_max_age_s", "routes",   NULL};
    json_object *s = bridge_config__get_object(x, doc, "sse", "$.sse"), *routes;
    uint64_t hb = 15000, retry = 3000, co = 5, rme = 1000, rma = 300;

    if (s) {
        bridge_config__check_keys(x, s, "$.sse", keys);
        bridge_config__get_uint(x, s, "heartbeat_ms", "$.sse.heartbeat_ms", 100, 300000, &hb);
        bridge_config__get_uint(x, s, "retry_ms", "$.sse.retry_ms", 0, 600000, &retry);
        bridge_config__get_uint(x, s, "coalesce_ms", "$.sse.coalesce_ms", 0, 100, &co);
        bridge_config__get_uint(x, s, "replay_max_events", "$.sse.replay_max_events", 0, 100000,
                                &rme);
        bridge_config__get_uint(x, s, "replay_max_age_s", "$.sse.replay_max_age_s", 0, 86400, &rma);
        if (json_object_object_get_ex(s, "routes", &routes))
            parse_routes(x, routes, cfg);
    }
    cfg->sse.heartbeat_ms = (unsigned)hb;
    cfg->sse.retry_ms = (unsigned)retry;
    cfg->sse.coalesce_ms = (unsigned)co;
    cfg->sse.replay_max_events = rme;
    cfg->sse.replay_max_age_s = (unsigned)rma;
}

static void parse_origins(struct bridge_config_ctx *x, json_object *arr, struct bridge_config *cfg)
{
    size_t n, i;

    if (!json_object_is_type(arr, json_type_array)) {
        bridge_config__report(x, "$.socketio.cors_origins", "must be an array");
        return;
    }
    n = json_object_array_length(arr);
    cfg->socketio.cors_origins = calloc(n ? n : 1, sizeof(char *));
    if (cfg->socketio.cors_origins == NULL) {
        bridge_config__report(x, "$.socketio.cors_origins", "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        const char *v = json_object_get_string(o);
        char path[48];

        snprintf(path, sizeof(path), "$.socketio.cors_origins[%zu]", i);
        /* An origin is scheme://host[:port] (RFC 6454 6.2): no path, no trailing slash. */
        if (!json_object_is_type(o, json_type_string) ||
            (strcmp(v, "*") != 0 &&
             (!bridge_config__public_url(v) || strchr(strstr(v, "://") + 3, '/') != NULL))) {
            bridge_config__report(x, path,
                                  "must be \"*\" or an origin such as \"https://app.example\"");
            continue;
        }
        cfg->socketio.cors_origins[cfg->socketio.n_cors_origins] = strdup(v);
        if (cfg->socketio.cors_origins[cfg->socketio.n_cors_origins] == NULL)
            bridge_config__report(x, path, "out of memory");
        else
            cfg->socketio.n_cors_origins++;
    }
}

static void parse_socketio(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"enabled",      "ping_interval_ms",   "ping_timeout_ms",
                                       "max_payload",  "connect_timeout_ms", "recovery_window_s",
                                       "cors_origins", "client_script",      NULL};
    json_object *s = bridge_config__get_object(x, doc, "socketio", "$.socketio"), *v;
    uint64_t pi = 25000, pt = 20000, mp = 1000000, ct = 45000, rw = 120;
    char *script = NULL;

    cfg->socketio.enabled = true;
    if (s) {
        bridge_config__check_keys(x, s, "$.socketio", keys);
        if (json_object_object_get_ex(s, "enabled", &v)) {
            if (json_object_is_type(v, json_type_boolean))
                cfg->socketio.enabled = json_object_get_boolean(v);
            else
                bridge_config__report(x, "$.socketio.enabled", "must be a boolean");
        }
        bridge_config__get_uint(x, s, "ping_interval_ms", "$.socketio.ping_interval_ms", 50, 600000,
                                &pi);
        bridge_config__get_uint(x, s, "ping_timeout_ms", "$.socketio.ping_timeout_ms", 50, 600000,
                                &pt);
        bridge_config__get_uint(x, s, "max_payload", "$.socketio.max_payload", 1024, 100000000,
                                &mp);
        bridge_config__get_uint(x, s, "connect_timeout_ms", "$.socketio.connect_timeout_ms", 100,
                                600000, &ct);
        bridge_config__get_uint(x, s, "recovery_window_s", "$.socketio.recovery_window_s", 0, 86400,
                                &rw);
        if (json_object_object_get_ex(s, "cors_origins", &v))
            parse_origins(x, v, cfg);
        bridge_config__get_string(x, s, "client_script", "$.socketio.client_script", &script);
        if (script) {
            cfg->socketio.client_script = bridge_config__join_path(x->dir, script);
            if (cfg->socketio.client_script == NULL)
                bridge_config__report(x, "$.socketio.client_script", "out of memory");
            free(script);
        }
    }
    cfg->socketio.ping_interval_ms = (unsigned)pi;
    cfg->socketio.ping_timeout_ms = (unsigned)pt;
    cfg->socketio.max_payload = (size_t)mp;
    cfg->socketio.connect_timeout_ms = (unsigned)ct;
    cfg->socketio.recovery_window_s = (unsigned)rw;
}

static void parse_outbound(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"allow", NULL};
    json_object *o = bridge_config__get_object(x, doc, "outbound", "$.outbound"), *allow;
    size_t n, i;

    if (o == NULL)
        return;
    bridge_config__check_keys(x, o, "$.outbound", keys);
    if (!json_object_object_get_ex(o, "allow", &allow))
        return;
    if (!json_object_is_type(allow, json_type_array)) {
        bridge_config__report(x, "$.outbound.allow", "must be an array of CIDR ranges");
        return;
    }
    n = json_object_array_length(allow);
    cfg->outbound_allow = calloc(n ? n : 1, sizeof(char *));
    if (cfg->outbound_allow == NULL) {
        bridge_config__report(x, "$.outbound.allow", "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(allow, i);
        char path[48];

        snprintf(path, sizeof(path), "$.outbound.allow[%zu]", i);
        if (!json_object_is_type(v, json_type_string) ||
            !bridge_config__cidr(json_object_get_string(v))) {
            bridge_config__report(
                x, path,
                "must be a CIDR range such as \"127.0.0.0/8\" or \"::1/128\" (prefix "
                "0..32 for IPv4, 0..128 for IPv6)");
            continue;
        }
        cfg->outbound_allow[cfg->n_outbound_allow] = strdup(json_object_get_string(v));
        if (cfg->outbound_allow[cfg->n_outbound_allow] == NULL)
            bridge_config__report(x, path, "out of memory");
        else
            cfg->n_outbound_allow++;
    }
}

/*
 * "sqlite::memory:", "sqlite:///absolute.db", or "sqlite://relative.db", which is relative to
 * bridge.json like every other path in it and becomes "sqlite:///<dir>/relative.db"; or a
 * PostgreSQL connection URI, kept as it is for libpq to read.
 */
static void parse_store(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    const char *file = "mqpush.db";
    char *url = NULL, *abs;
    size_t len;

    bridge_config__get_string(x, doc, "store", "$.store", &url);
    if (url) {
        const unsigned char *c;

        for (c = (const unsigned char *)url; *c; c++)
            if (*c < 0x20 || *c == 0x7f) {
                bridge_config__report(x, "$.store", "must not hold control characters");
                free(url);
                return;
            }
        if (strcmp(url, "sqlite::memory:") == 0 ||
            (strncmp(url, "sqlite://", 9) == 0 && url[9] == '/' && url[10] != '\0') ||
            (strncmp(url, "postgresql://", 13) == 0 && url[13] != '\0') ||
            (strncmp(url, "postgres://", 11) == 0 && url[11] != '\0')) {
            cfg->store_url = url;
            return;
        }
        if (strncmp(url, "postgres", 8) == 0) {
            bridge_config__report(x, "$.store",
                                  "must be postgresql://[user@]host[:port]/database[?...]");
            free(url);
            return;
        }
        if (strncmp(url, "sqlite:", 7) != 0) {
            bridge_config__report(
                x, "$.store", "unknown store \"%s\" (this build has sqlite: and postgresql:)", url);
            free(url);
            return;
        }
        if (strncmp(url, "sqlite://", 9) != 0 || url[9] == '\0' || url[9] == '/') {
            bridge_config__report(x, "$.store", "must be sqlite://<path> or sqlite::memory:");
            free(url);
            return;
        }
        file = url + 9;
    } else if (json_object_object_get_ex(doc, "store", NULL)) {
        return; /* wrong type, reported */
    }
    abs = bridge_config__join_path(x->dir, file);
    len = abs ? strlen(abs) + 10 : 0;
    cfg->store_url = abs ? malloc(len) : NULL;
    if (cfg->store_url)
        snprintf(cfg->store_url, len, "sqlite://%s", abs);
    else
        bridge_config__report(x, "$.store", "out of memory");
    free(abs);
    free(url);
}

static void parse_listen_and_url(struct bridge_config_ctx *x, json_object *doc,
                                 struct bridge_config *cfg)
{
    char *listen = NULL;

    bridge_config__get_string(x, doc, "listen", "$.listen", &listen);
    if (listen) {
        char host[64];
        const char *why = bridge_config__listen(listen, host, sizeof(host), &cfg->listen_port);

        if (why) {
            bridge_config__report(x, "$.listen", "%s", why);
        } else {
            /* lws binds an interface name or an address, not a host name. */
            cfg->listen_host = strdup(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
            if (cfg->listen_host == NULL)
                bridge_config__report(x, "$.listen", "out of memory");
        }
    } else if (!json_object_object_get_ex(doc, "listen", NULL))
        bridge_config__report(x, "$.listen", "required, e.g. \"127.0.0.1:8080\"");
    bridge_config__get_string(x, doc, "public_url", "$.public_url", &cfg->public_url);
    if (cfg->public_url && !bridge_config__public_url(cfg->public_url))
        bridge_config__report(x, "$.public_url", "must be an http or https URL with a host");
    if (!json_object_object_get_ex(doc, "public_url", NULL) && listen && cfg->listen_host) {
        size_t len = strlen(listen) + 8;

        cfg->public_url = malloc(len);
        if (cfg->public_url)
            snprintf(cfg->public_url, len, "http://%s", listen);
        else
            bridge_config__report(x, "$.public_url", "out of memory");
    }
    free(listen);
}

static void parse_doc(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "$schema", "listen", "public_url", "broker", "streams_file", "store",       "outbound",
        "limits",  "sse",    "socketio",   "ssf",    "webpush",      "unifiedpush", NULL};
    json_object *v;
    char *streams = NULL;

    bridge_config__check_keys(x, doc, "$", keys);
    if (json_object_object_get_ex(doc, "$schema", &v) && !json_object_is_type(v, json_type_string))
        bridge_config__report(x, "$.$schema", "must be a string");
    parse_listen_and_url(x, doc, cfg);
    parse_broker(x, doc, cfg);
    bridge_config__get_string(x, doc, "streams_file", "$.streams_file", &streams);
    if (streams) {
        cfg->streams_file = bridge_config__join_path(x->dir, streams);
        if (cfg->streams_file == NULL)
            bridge_config__report(x, "$.streams_file", "out of memory");
    } else if (!json_object_object_get_ex(doc, "streams_file", NULL)) {
        bridge_config__report(x, "$.streams_file",
                              "required: the streams file the plugin reads too");
    }
    free(streams);
    parse_store(x, doc, cfg);
    parse_outbound(x, doc, cfg);
    parse_limits(x, doc, cfg);
    parse_sse(x, doc, cfg);
    parse_socketio(x, doc, cfg);
    bridge_config__webpush(x, doc, cfg);
    bridge_config__ssf(x, doc, cfg);
    if (cfg->broker_host == NULL)
        cfg->broker_host = strdup("127.0.0.1");
    if (cfg->broker_client_id == NULL)
        cfg->broker_client_id = strdup("mqpush-bridge");
    if (cfg->broker_host == NULL || cfg->broker_client_id == NULL)
        bridge_config__report(x, "$.broker", "out of memory");
}

int bridge_config_read_token(const struct bridge_config *cfg, char **out, char *err, size_t errlen)
{
    char *buf, *start, *end;
    size_t len = 0;
    int rc = -1;

    *out = NULL;
    if (cfg->broker_token_file == NULL) {
        *out = cfg->broker_token ? strdup(cfg->broker_token) : NULL;
        if (*out == NULL)
            snprintf(err, errlen, cfg->broker_token ? "out of memory" : "no broker token");
        return *out ? 0 : -1;
    }
    buf = bridge_config__read_file(cfg->broker_token_file, TOKEN_MAX_BYTES, &len, err, errlen);
    if (buf == NULL)
        return -1;
    if (memchr(buf, '\0', len)) {
        snprintf(err, errlen, "%s holds a NUL byte", cfg->broker_token_file);
        goto out;
    }
    /* Editors and `echo` add a final newline; a JWT (RFC 7519 7.1) holds no white space. */
    for (start = buf; *start == ' ' || (*start >= '\t' && *start <= '\r'); start++)
        ;
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || (end[-1] >= '\t' && end[-1] <= '\r')))
        end--;
    *end = '\0';
    if (*start == '\0') {
        snprintf(err, errlen, "%s is empty", cfg->broker_token_file);
        goto out;
    }
    *out = strdup(start);
    if (*out == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    memset(buf, 0, len); /* a secret: no copy left in freed memory */
    free(buf);
    return rc;
}

/* The directory of path, made absolute so that resolved paths survive a chdir. */
static char *config_dir(const char *path)
{
    char *copy = strdup(path), *slash, *dir = NULL;

    if (copy == NULL)
        return NULL;
    slash = strrchr(copy, '/');
    if (slash == copy)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    dir = realpath(slash ? copy : ".", NULL);
    free(copy);
    return dir;
}

int bridge_config_load(const char *path, struct bridge_config **out, struct mqp_errors *errs)
{
    struct bridge_config_ctx x = {errs, 0, 0, NULL};
    struct bridge_config *cfg = calloc(1, sizeof(*cfg));
    char err[320], *buf = NULL, *dir = NULL;
    size_t len = 0;
    json_object *doc = NULL;
    int rc = -1;

    *out = NULL;
    if (cfg == NULL) {
        bridge_config__report(&x, "$", "out of memory");
        goto out;
    }
    buf = bridge_config__read_file(path, BRIDGE_CONFIG_MAX_BYTES, &len, err, sizeof(err));
    if (buf == NULL) {
        bridge_config__report(&x, "$", "%s", err);
        goto out;
    }
    dir = config_dir(path);
    if (dir == NULL) {
        bridge_config__report(&x, "$", "cannot resolve the directory of %s: %s", path,
                              strerror(errno));
        goto out;
    }
    x.dir = dir;
    doc = bridge_config__parse_json(buf, len, err, sizeof(err));
    if (doc == NULL) {
        bridge_config__report(&x, "$", "%s", err);
        goto out;
    }
    if (!json_object_is_type(doc, json_type_object)) {
        bridge_config__report(&x, "$", "must be an object");
        goto out;
    }
    cfg->path = strdup(path);
    if (cfg->path == NULL)
        bridge_config__report(&x, "$", "out of memory");
    parse_doc(&x, doc, cfg);
    if (x.n > 0)
        goto out;
    cfg->doc = doc;
    doc = NULL;
    *out = cfg;
    cfg = NULL;
    rc = 0;
out:
    bridge_config__finish_report(&x);
    json_object_put(doc);
    free(buf);
    free(dir);
    bridge_config_free(cfg);
    return rc;
}

void bridge_config_free(struct bridge_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    free(cfg->listen_host);
    free(cfg->public_url);
    free(cfg->broker_host);
    if (cfg->broker_token)
        memset(cfg->broker_token, 0, strlen(cfg->broker_token));
    free(cfg->broker_token);
    free(cfg->broker_token_file);
    free(cfg->broker_client_id);
    free(cfg->broker_share_group);
    free(cfg->streams_file);
    free(cfg->store_url);
    for (i = 0; i < cfg->n_outbound_allow; i++)
        free(cfg->outbound_allow[i]);
    free(cfg->outbound_allow);
    for (i = 0; i < cfg->sse.n_routes; i++) {
        free(cfg->sse.routes[i].path);
        free(cfg->sse.routes[i].tenant);
        free(cfg->sse.routes[i].stream);
    }
    free(cfg->sse.routes);
    for (i = 0; i < cfg->socketio.n_cors_origins; i++)
        free(cfg->socketio.cors_origins[i]);
    free(cfg->socketio.cors_origins);
    free(cfg->socketio.client_script);
    bridge_config__webpush_free(cfg);
    bridge_config__ssf_free(cfg);
    free(cfg->path);
    json_object_put(cfg->doc);
    free(cfg);
}
