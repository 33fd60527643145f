/*
 * bridge.json: parse, check and fill in defaults. Every problem is reported with its JSON
 * path, and all of them at once, so that an operator fixes a file in one go. Unknown keys are
 * errors: a misspelt limit must not pass silently.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRIDGE_CONFIG_MAX_BYTES (1024 * 1024)
#define TOKEN_MAX_BYTES (64 * 1024)

struct ctx {
    struct mqp_errors *errs;
    int n;
    const char *dir; /* directory of bridge.json, for relative paths */
};

static void report(struct ctx *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct ctx *x, const char *path, const char *fmt, ...)
{
    char msg[512], *line, **grown;
    va_list ap;
    size_t len;

    x->n++;
    if (x->errs == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    len = strlen(path) + strlen(msg) + 3;
    line = malloc(len);
    grown = realloc(x->errs->msgs, (x->errs->n + 1) * sizeof(*grown));
    if (line == NULL || grown == NULL) {
        free(line);
        if (grown)
            x->errs->msgs = grown;
        return;
    }
    snprintf(line, len, "%s: %s", path, msg);
    x->errs->msgs = grown;
    x->errs->msgs[x->errs->n++] = line;
}

static void check_keys(struct ctx *x, json_object *obj, const char *path, const char *const *known)
{
    json_object_object_foreach(obj, key, val)
    {
        size_t i;
        bool ok = false;

        (void)val;
        for (i = 0; known[i]; i++)
            ok = ok || strcmp(key, known[i]) == 0;
        if (!ok)
            report(x, path, "unknown key \"%s\"", key);
    }
}

static json_object *get_object(struct ctx *x, json_object *obj, const char *key, const char *path)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    if (!json_object_is_type(v, json_type_object)) {
        report(x, path, "must be an object");
        return NULL;
    }
    return v;
}

/* *out: copy of the string at key (NULL when absent). Returns false on a wrong type. */
static bool get_string(struct ctx *x, json_object *obj, const char *key, const char *path,
                       char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return true;
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        report(x, path, "must be a non-empty string");
        return false;
    }
    *out = strdup(json_object_get_string(v));
    return true;
}

static void get_uint(struct ctx *x, json_object *obj, const char *key, const char *path,
                     uint64_t min, uint64_t max, uint64_t *out)
{
    json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(obj, key, &v))
        return;
    n = json_object_get_int64(v);
    if (!json_object_is_type(v, json_type_int) || n < 0 || (uint64_t)n < min || (uint64_t)n > max) {
        report(x, path, "must be an integer between %llu and %llu", (unsigned long long)min,
               (unsigned long long)max);
        return;
    }
    *out = (uint64_t)n;
}

static char *join_path(const char *dir, const char *file)
{
    size_t len;
    char *p;

    if (file[0] == '/' || dir == NULL)
        return strdup(file);
    len = strlen(dir) + strlen(file) + 2;
    p = malloc(len);
    if (p)
        snprintf(p, len, "%s/%s", dir, file);
    return p;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 128)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* "host:port", "[v6]:port"; host an IP literal or localhost. */
static void parse_listen(struct ctx *x, const char *s, struct bridge_config *cfg)
{
    const char *colon;
    char host[64];
    size_t hl;
    char *end;
    long port;
    unsigned char addr[16];

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':') {
            report(x, "$.listen", "expected \"[ipv6]:port\"");
            return;
        }
        hl = (size_t)(close - s - 1);
        if (hl >= sizeof(host)) {
            report(x, "$.listen", "address too long");
            return;
        }
        memcpy(host, s + 1, hl);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            report(x, "$.listen", "expected \"host:port\"");
            return;
        }
        hl = (size_t)(colon - s);
        if (hl >= sizeof(host)) {
            report(x, "$.listen", "address too long");
            return;
        }
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || errno || port < 1 || port > 65535) {
        report(x, "$.listen", "port must be between 1 and 65535");
        return;
    }
    if (strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, addr) != 1 &&
        inet_pton(AF_INET6, host, addr) != 1) {
        report(x, "$.listen", "host must be an IP address or localhost");
        return;
    }
    cfg->listen_host = strdup(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
    cfg->listen_port = (int)port;
}

static bool valid_cidr(const char *s)
{
    char addr[64], *slash, *end;
    unsigned char bin[16];
    long prefix;
    int max;

    if (strlen(s) >= sizeof(addr))
        return false;
    strcpy(addr, s);
    slash = strchr(addr, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1)
        max = 32;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        max = 128;
    else
        return false;
    errno = 0;
    prefix = strtol(slash + 1, &end, 10);
    return slash[1] != '\0' && *end == '\0' && !errno && prefix >= 0 && prefix <= max;
}

static void parse_broker(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"host",  "port",       "client_id", "keepalive_s",
                                       "token", "token_file", NULL};
    json_object *b = get_object(x, doc, "broker", "$.broker");
    uint64_t port = 1883, ka = 30;
    char *token_file = NULL;

    if (b == NULL) {
        if (!json_object_object_get_ex(doc, "broker", NULL))
            report(x, "$.broker", "required (host, port and token or token_file)");
        return;
    }
    check_keys(x, b, "$.broker", keys);
    get_string(x, b, "host", "$.broker.host", &cfg->broker_host);
    get_uint(x, b, "port", "$.broker.port", 1, 65535, &port);
    get_uint(x, b, "keepalive_s", "$.broker.keepalive_s", 5, 3600, &ka);
    get_string(x, b, "client_id", "$.broker.client_id", &cfg->broker_client_id);
    get_string(x, b, "token", "$.broker.token", &cfg->broker_token);
    get_string(x, b, "token_file", "$.broker.token_file", &token_file);
    cfg->broker_port = (int)port;
    cfg->broker_keepalive_s = (int)ka;
    if (cfg->broker_token && token_file)
        report(x, "$.broker", "give token or token_file, not both");
    else if (!cfg->broker_token && !token_file)
        report(x, "$.broker", "token or token_file is required");
    if (token_file && !cfg->broker_token) {
        char err[256];

        cfg->broker_token_file = join_path(x->dir, token_file);
        if (cfg->broker_token_file &&
            bridge_config_read_token(cfg, &cfg->broker_token, err, sizeof(err)) != 0)
            report(x, "$.broker.token_file", "%s", err);
    }
    free(token_file);
}

static void parse_limits(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"max_connections", "max_header_bytes", "max_body_bytes",
                                       "send_queue_bytes", NULL};
    json_object *l = get_object(x, doc, "limits", "$.limits");
    uint64_t mc = 20000, mh = 8192, mb = 65536, sq = 1024 * 1024;

    if (l) {
        check_keys(x, l, "$.limits", keys);
        get_uint(x, l, "max_connections", "$.limits.max_connections", 1, 1000000, &mc);
        get_uint(x, l, "max_header_bytes", "$.limits.max_header_bytes", 1024, 65535, &mh);
        get_uint(x, l, "max_body_bytes", "$.limits.max_body_bytes", 1024, 16 * 1024 * 1024, &mb);
        get_uint(x, l, "send_queue_bytes", "$.limits.send_queue_bytes", 4096, 64 * 1024 * 1024,
                 &sq);
    }
    cfg->limits.max_connections = mc;
    cfg->limits.max_header_bytes = mh;
    cfg->limits.max_body_bytes = mb;
    cfg->limits.send_queue_bytes = sq;
}

static bool reserved_path(const char *p)
{
    return strcmp(p, "/") == 0 || strcmp(p, "/healthz") == 0 || strcmp(p, "/metrics") == 0 ||
           strcmp(p, "/index.html") == 0 || strncmp(p, "/stream/", 8) == 0 ||
           strncmp(p, "/api/", 5) == 0 || strncmp(p, "/socket.io/", 11) == 0 ||
           strncmp(p, "/.well-known/", 13) == 0;
}

static void parse_routes(struct ctx *x, json_object *arr, struct bridge_config *cfg)
{
    static const char *const keys[] = {"path", "tenant", "stream", NULL};
    size_t n, i, j;

    if (!json_object_is_type(arr, json_type_array)) {
        report(x, "$.sse.routes", "must be an array");
        return;
    }
    n = json_object_array_length(arr);
    cfg->sse.routes = calloc(n ? n : 1, sizeof(*cfg->sse.routes));
    if (cfg->sse.routes == NULL)
        return;
    for (i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(arr, i);
        struct bridge_sse_route *rt = &cfg->sse.routes[cfg->sse.n_routes];
        char path[64];

        snprintf(path, sizeof(path), "$.sse.routes[%zu]", i);
        if (!json_object_is_type(r, json_type_object)) {
            report(x, path, "must be an object");
            continue;
        }
        cfg->sse.n_routes++;
        check_keys(x, r, path, keys);
        get_string(x, r, "path", path, &rt->path);
        get_string(x, r, "tenant", path, &rt->tenant);
        get_string(x, r, "stream", path, &rt->stream);
        if (!rt->path || !rt->tenant || !rt->stream) {
            report(x, path, "path, tenant and stream are required");
            continue;
        }
        if (rt->path[0] != '/' || strpbrk(rt->path, "?# ") || reserved_path(rt->path))
            report(x, path,
                   "path must start with '/', hold no '?', '#' or space, and not be "
                   "one of the bridge's own paths");
        if (!valid_id(rt->tenant) || !valid_id(rt->stream))
            report(x, path, "tenant and stream must be 1..128 of [A-Za-z0-9._-]");
        for (j = 0; j + 1 < cfg->sse.n_routes; j++)
            if (cfg->sse.routes[j].path && strcmp(cfg->sse.routes[j].path, rt->path) == 0)
                report(x, path, "path \"%s\" appears twice", rt->path);
    }
}

static void parse_sse(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "heartbeat_ms",     "retry_ms", "coalesce_ms", "replay_max_events",
        "replay_max_age_s", "routes",   NULL};
    json_object *s = get_object(x, doc, "sse", "$.sse"), *routes;
    uint64_t hb = 15000, retry = 3000, co = 5, rme = 1000, rma = 300;

    if (s) {
        check_keys(x, s, "$.sse", keys);
        get_uint(x, s, "heartbeat_ms", "$.sse.heartbeat_ms", 100, 300000, &hb);
        get_uint(x, s, "retry_ms", "$.sse.retry_ms", 0, 600000, &retry);
        get_uint(x, s, "coalesce_ms", "$.sse.coalesce_ms", 0, 100, &co);
        get_uint(x, s, "replay_max_events", "$.sse.replay_max_events", 0, 100000, &rme);
        get_uint(x, s, "replay_max_age_s", "$.sse.replay_max_age_s", 0, 86400, &rma);
        if (json_object_object_get_ex(s, "routes", &routes))
            parse_routes(x, routes, cfg);
    }
    cfg->sse.heartbeat_ms = (unsigned)hb;
    cfg->sse.retry_ms = (unsigned)retry;
    cfg->sse.coalesce_ms = (unsigned)co;
    cfg->sse.replay_max_events = rme;
    cfg->sse.replay_max_age_s = (unsigned)rma;
}

static void parse_outbound(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"allow", NULL};
    json_object *o = get_object(x, doc, "outbound", "$.outbound"), *allow;
    size_t n, i;

    if (o == NULL)
        return;
    check_keys(x, o, "$.outbound", keys);
    if (!json_object_object_get_ex(o, "allow", &allow))
        return;
    if (!json_object_is_type(allow, json_type_array)) {
        report(x, "$.outbound.allow", "must be an array of CIDR ranges");
        return;
    }
    n = json_object_array_length(allow);
    cfg->outbound_allow = calloc(n ? n : 1, sizeof(char *));
    if (cfg->outbound_allow == NULL)
        return;
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(allow, i);
        char path[48];

        snprintf(path, sizeof(path), "$.outbound.allow[%zu]", i);
        if (!json_object_is_type(v, json_type_string) || !valid_cidr(json_object_get_string(v))) {
            report(x, path, "must be a CIDR range such as \"127.0.0.0/8\" or \"::1/128\"");
            continue;
        }
        cfg->outbound_allow[cfg->n_outbound_allow++] = strdup(json_object_get_string(v));
    }
}

/* "sqlite://relative.db" is relative to bridge.json, like every other path in it. */
static void parse_store(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    char *url = NULL;

    get_string(x, doc, "store", "$.store", &url);
    if (url == NULL) {
        char *db = join_path(x->dir, "mqpush.db");
        size_t len = db ? strlen(db) + 10 : 0;

        cfg->store_url = db ? malloc(len) : NULL;
        if (cfg->store_url)
            snprintf(cfg->store_url, len, "sqlite://%s", db);
        free(db);
        return;
    }
    if (strncmp(url, "sqlite://", 9) == 0 && url[9] != '/' && url[9] != '\0') {
        char *abs = join_path(x->dir, url + 9);
        size_t len = abs ? strlen(abs) + 10 : 0;

        cfg->store_url = abs ? malloc(len) : NULL;
        if (cfg->store_url)
            snprintf(cfg->store_url, len, "sqlite://%s", abs);
        free(abs);
        free(url);
        return;
    }
    if (strncmp(url, "sqlite:", 7) != 0)
        report(x, "$.store", "unknown store \"%s\" (this build has sqlite:)", url);
    cfg->store_url = url;
}

static void parse_doc(struct ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "$schema", "listen", "public_url", "broker", "streams_file", "store",       "outbound",
        "limits",  "sse",    "socketio",   "ssf",    "webpush",      "unifiedpush", NULL};
    static const char *const channels[] = {"socketio", "ssf", "webpush", "unifiedpush"};
    char *listen = NULL, *streams = NULL;
    size_t i;

    check_keys(x, doc, "$", keys);
    get_string(x, doc, "listen", "$.listen", &listen);
    if (listen == NULL && !json_object_object_get_ex(doc, "listen", NULL))
        report(x, "$.listen", "required, e.g. \"127.0.0.1:8080\"");
    else if (listen)
        parse_listen(x, listen, cfg);
    get_string(x, doc, "public_url", "$.public_url", &cfg->public_url);
    if (cfg->public_url && strncmp(cfg->public_url, "http://", 7) != 0 &&
        strncmp(cfg->public_url, "https://", 8) != 0)
        report(x, "$.public_url", "must be an http or https URL");
    if (cfg->public_url == NULL && cfg->listen_host) {
        size_t len = strlen(cfg->listen_host) + 32;

        cfg->public_url = malloc(len);
        if (cfg->public_url)
            snprintf(cfg->public_url, len,
                     strchr(cfg->listen_host, ':') ? "http://[%s]:%d" : "http://%s:%d",
                     cfg->listen_host, cfg->listen_port);
    }
    parse_broker(x, doc, cfg);
    get_string(x, doc, "streams_file", "$.streams_file", &streams);
    if (streams) {
        cfg->streams_file = join_path(x->dir, streams);
    } else if (!json_object_object_get_ex(doc, "streams_file", NULL)) {
        report(x, "$.streams_file", "required: the streams file the plugin reads too");
    }
    parse_store(x, doc, cfg);
    parse_outbound(x, doc, cfg);
    parse_limits(x, doc, cfg);
    parse_sse(x, doc, cfg);
    for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
        char path[32];

        snprintf(path, sizeof(path), "$.%s", channels[i]);
        get_object(x, doc, channels[i], path);
    }
    if (cfg->broker_host == NULL)
        cfg->broker_host = strdup("127.0.0.1");
    if (cfg->broker_client_id == NULL)
        cfg->broker_client_id = strdup("mqpush-bridge");
    free(listen);
    free(streams);
}

static char *read_all(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t got;

    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return NULL;
    }
    got = fread(buf, 1, max + 1, f);
    if (ferror(f) || got > max) {
        snprintf(err, errlen, ferror(f) ? "cannot read %s" : "%s is too large", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

int bridge_config_read_token(const struct bridge_config *cfg, char **out, char *err, size_t errlen)
{
    char *buf, *start, *end;
    size_t len;

    *out = NULL;
    if (cfg->broker_token_file == NULL) {
        *out = cfg->broker_token ? strdup(cfg->broker_token) : NULL;
        if (*out == NULL)
            snprintf(err, errlen, "no broker token");
        return *out ? 0 : -1;
    }
    buf = read_all(cfg->broker_token_file, TOKEN_MAX_BYTES, &len, err, errlen);
    if (buf == NULL)
        return -1;
    for (start = buf; *start && isspace((unsigned char)*start); start++)
        ;
    end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (*start == '\0') {
        snprintf(err, errlen, "%s is empty", cfg->broker_token_file);
        free(buf);
        return -1;
    }
    *out = strdup(start);
    free(buf);
    if (*out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int bridge_config_load(const char *path, struct bridge_config **out, struct mqp_errors *errs)
{
    struct ctx x = {errs, 0, NULL};
    struct bridge_config *cfg = calloc(1, sizeof(*cfg));
    struct json_tokener *tok = NULL;
    char err[256], *buf = NULL, *dir = NULL, *slash;
    size_t len = 0;
    json_object *doc = NULL;

    *out = NULL;
    if (cfg == NULL)
        return -1;
    buf = read_all(path, BRIDGE_CONFIG_MAX_BYTES, &len, err, sizeof(err));
    if (buf == NULL) {
        report(&x, "$", "%s", err);
        goto fail;
    }
    dir = strdup(path);
    slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = '\0';
    x.dir = slash ? dir : ".";
    tok = json_tokener_new();
    doc = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
    if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        (size_t)tok->char_offset < len) {
        report(&x, "$", "not valid JSON: %s",
               tok ? json_tokener_error_desc(json_tokener_get_error(tok)) : "out of memory");
        goto fail;
    }
    if (!json_object_is_type(doc, json_type_object)) {
        report(&x, "$", "must be an object");
        goto fail;
    }
    cfg->path = strdup(path);
    parse_doc(&x, doc, cfg);
    if (x.n > 0)
        goto fail;
    cfg->doc = doc;
    json_tokener_free(tok);
    free(buf);
    free(dir);
    *out = cfg;
    return 0;
fail:
    if (x.n == 0)
        report(&x, "$", "out of memory");
    json_object_put(doc);
    if (tok)
        json_tokener_free(tok);
    free(buf);
    free(dir);
    bridge_config_free(cfg);
    return -1;
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
    free(cfg->path);
    json_object_put(cfg->doc);
    free(cfg);
}
