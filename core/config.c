/*
 * Loading the streams file. The loader walks the whole document and reports every problem
 * with its JSON path instead of stopping at the first, so an operator fixes a file in one go.
 * A model is handed out only when the document had no error at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* uthash exits the process on OOM unless told otherwise; record it and fail the load. */
static _Thread_local int hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)

#include "errmsg.h"
#include "config.h"
#include "subscriber.h"
#include "topic.h"

#define CONFIG_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_ERRORS 100
#define PATH_CAP 320    /* longest JSON path shown in a message */
#define KEY_SHOWN 64    /* odd keys are shown quoted and cut to this many bytes */
#define STRING_MAX 1024 /* issuer, audience, client ids, roles, stream names */
#define DESCRIPTION_MAX 65536

#define ID_RULE "must be an identifier (1..128 characters of A-Z a-z 0-9 . _ -)"

/* Largest accepted limit values: Mosquitto's own packet ceiling (MQTT 5 section 2.2.3) for
 * events; tokens travel in the MQTT password field (at most 65535 bytes, section 1.5.6). */
#define EVENT_BYTES_MAX 268435455
#define TOKEN_BYTES_MAX 65535
#define LEEWAY_MAX 86400

static _Atomic uint64_t last_generation;

struct loader {
    struct mqp_errors *errs;
    size_t n_errors; /* all problems found, listed or not */
    size_t n_listed; /* of those, how many went into errs */
    const char *base_dir;
    struct mqp_config *cfg;
};

void mqp_errors_clear(struct mqp_errors *errs)
{
    if (errs == NULL)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
}

static int errors_push(struct mqp_errors *errs, const char *path, const char *msg)
{
    size_t len = strlen(path) + 2 + strlen(msg) + 1;
    char *s = malloc(len);
    char **grown;

    if (s == NULL)
        return -1;
    snprintf(s, len, "%s: %s", path, msg);
    grown = realloc(errs->msgs, (errs->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        free(s);
        return -1;
    }
    errs->msgs = grown;
    errs->msgs[errs->n++] = s;
    return 0;
}

static void report(struct loader *L, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct loader *L, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    L->n_errors++;
    if (L->errs == NULL || L->n_listed >= CONFIG_MAX_ERRORS)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (errors_push(L->errs, path, msg) == 0)
        L->n_listed++;
}

static void report_oom(struct loader *L, const char *path)
{
    report(L, path, "out of memory");
}

/*
 * Append ".key" to parent, or ["key"] when the key would not read unambiguously after a dot.
 * Paths only label messages, so one cut at cap by mqp_errmsg() is acceptable.
 */
static void path_key(char *out, size_t cap, const char *parent, const char *key)
{
    size_t len = strlen(key);
    bool plain = len > 0 && len <= KEY_SHOWN;
    char shown[KEY_SHOWN + 1];
    size_t n = 0;

    for (size_t i = 0; plain && i < len; i++)
        plain = key[i] != '.' && mqp_id_valid(key + i, 1);
    if (plain) {
        mqp_errmsg(out, cap, "%s.%s", parent, key);
        return;
    }
    for (size_t i = 0; i < len && n < KEY_SHOWN; i++) {
        unsigned char c = (unsigned char)key[i];
        shown[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    shown[n] = '\0';
    mqp_errmsg(out, cap, "%s[\"%s%s\"]", parent, shown, len > KEY_SHOWN ? "..." : "");
}

static void path_index(char *out, size_t cap, const char *parent, size_t i)
{
    mqp_errmsg(out, cap, "%s[%zu]", parent, i);
}

static const char *type_name(json_type t)
{
    switch (t) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a number";
    case json_type_int:
        return "an integer";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "unknown";
}

static bool is_type(json_object *v, json_type t)
{
    return v != NULL && json_object_is_type(v, t);
}

/* True when v has type t; otherwise reports what it is instead. */
static bool expect(struct loader *L, const char *path, json_object *v, json_type t)
{
    if (is_type(v, t))
        return true;
    report(L, path, "must be %s, not %s", type_name(t), type_name(json_object_get_type(v)));
    return false;
}

/* v must be a string of min..max bytes without NUL; *out gets a copy (owned by caller). */
static int dup_string(struct loader *L, json_object *v, const char *path, size_t min, size_t max,
                      char **out)
{
    size_t len;

    *out = NULL;
    if (!expect(L, path, v, json_type_string))
        return -1;
    len = (size_t)json_object_get_string_len(v);
    if (len < min || len > max) {
        report(L, path, "must be %zu..%zu characters long", min, max);
        return -1;
    }
    if (strlen(json_object_get_string(v)) != len) {
        report(L, path, "must not contain NUL characters");
        return -1;
    }
    *out = strdup(json_object_get_string(v));
    if (*out == NULL) {
        report_oom(L, path);
        return -1;
    }
    return 0;
}

/* String member key of obj per dup_string(). Absent: returns 0 with *out NULL, or an error
 * when required. */
static int get_string(struct loader *L, json_object *obj, const char *parent, const char *key,
                      bool required, size_t min, size_t max, char **out)
{
    char path[PATH_CAP];
    json_object *v;

    *out = NULL;
    path_key(path, sizeof(path), parent, key);
    if (json_object_object_get_ex(obj, key, &v))
        return dup_string(L, v, path, min, max, out);
    if (!required)
        return 0;
    report(L, path, "is required");
    return -1;
}

/* An identifier member (namespace, name): required, per mqp_id_valid(). */
static int get_id(struct loader *L, json_object *obj, const char *parent, const char *key,
                  char **out)
{
    char path[PATH_CAP];

    if (get_string(L, obj, parent, key, true, 0, SIZE_MAX, out) != 0)
        return -1;
    if (!mqp_id_valid(*out, strlen(*out))) {
        path_key(path, sizeof(path), parent, key);
        report(L, path, ID_RULE);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void get_bool(struct loader *L, json_object *obj, const char *parent, const char *key,
                     bool *out)
{
    char path[PATH_CAP];
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return;
    path_key(path, sizeof(path), parent, key);
    if (expect(L, path, v, json_type_boolean))
        *out = json_object_get_boolean(v);
}

/* Integer member in [min, max]; absent leaves *out alone. */
static void get_int(struct loader *L, json_object *obj, const char *parent, const char *key,
                    int64_t min, int64_t max, int64_t *out)
{
    char path[PATH_CAP];
    json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(obj, key, &v))
        return;
    path_key(path, sizeof(path), parent, key);
    if (!expect(L, path, v, json_type_int))
        return;
    errno = 0;
    x = json_object_get_int64(v);
    /* json-c saturates out-of-range values and flags them with ERANGE. */
    if (x < min || x > max || errno == ERANGE) {
        report(L, path, "must be between %lld and %lld", (long long)min, (long long)max);
        return;
    }
    *out = x;
}

static void parse_limits(struct loader *L, json_object *doc)
{
    struct mqp_limits *lim = &L->cfg->limits;
    json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(doc, "limits", &v) ||
        !expect(L, "$.limits", v, json_type_object))
        return;
    x = (int64_t)lim->max_event_bytes;
    get_int(L, v, "$.limits", "max_event_bytes", 1, EVENT_BYTES_MAX, &x);
    lim->max_event_bytes = (size_t)x;
    x = (int64_t)lim->max_token_bytes;
    get_int(L, v, "$.limits", "max_token_bytes", 1, TOKEN_BYTES_MAX, &x);
    lim->max_token_bytes = (size_t)x;
    get_int(L, v, "$.limits", "token_leeway_seconds", 0, LEEWAY_MAX, &lim->leeway_seconds);
    get_bool(L, v, "$.limits", "require_exp", &lim->require_exp);
}

static char *resolve_path(const char *base_dir, const char *file)
{
    size_t len;
    char *full;

    if (file[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
        return strdup(file);
    len = strlen(base_dir) + 1 + strlen(file) + 1;
    full = malloc(len);
    if (full != NULL)
        snprintf(full, len, "%s/%s", base_dir, file);
    return full;
}

static void parse_jwks(struct loader *L, json_object *obj, const char *parent,
                       struct mqp_issuer *iss)
{
    char path[PATH_CAP], err[256] = "", *file = NULL, *full = NULL;
    json_object *file_v, *set_v;
    bool has_file = json_object_object_get_ex(obj, "jwks_file", &file_v);
    bool has_set = json_object_object_get_ex(obj, "jwks", &set_v);

    if (has_file && has_set) {
        report(L, parent, "give either \"jwks_file\" or \"jwks\", not both");
        return;
    }
    if (!has_file && !has_set) {
        report(L, parent, "needs the issuer's keys: \"jwks_file\" or \"jwks\"");
        return;
    }
    if (has_set) {
        path_key(path, sizeof(path), parent, "jwks");
        if (expect(L, path, set_v, json_type_object) &&
            mqp_jwks_parse(set_v, &iss->jwks, err, sizeof(err)) != 0)
            report(L, path, "%s", err);
        return;
    }
    if (get_string(L, obj, parent, "jwks_file", true, 1, 4096, &file) != 0)
        return;
    path_key(path, sizeof(path), parent, "jwks_file");
    full = resolve_path(L->base_dir, file);
    if (full == NULL)
        report_oom(L, path);
    else if (mqp_jwks_load_file(full, &iss->jwks, err, sizeof(err)) != 0)
        report(L, path, "cannot load keys from %s", err);
    free(full);
    free(file);
}

static void parse_issuer(struct loader *L, json_object *obj, const char *parent,
                         struct mqp_issuer *iss)
{
    get_string(L, obj, parent, "issuer", true, 1, STRING_MAX, &iss->issuer);
    get_string(L, obj, parent, "audience", true, 1, STRING_MAX, &iss->audience);
    get_string(L, obj, parent, "roles_client", false, 1, STRING_MAX, &iss->roles_client);
    if (iss->roles_client == NULL && iss->audience != NULL) {
        iss->roles_client = strdup(iss->audience);
        if (iss->roles_client == NULL)
            report_oom(L, parent);
    }
    parse_jwks(L, obj, parent, iss);
}

static void parse_service(struct loader *L, json_object *doc)
{
    json_object *v;

    if (!json_object_object_get_ex(doc, "service", &v) ||
        !expect(L, "$.service", v, json_type_object))
        return;
    L->cfg->has_service = true;
    parse_issuer(L, v, "$.service", &L->cfg->service);
}

/* projection.c names the offending key relative to the map ("nested.k: empty path"); fold
 * that into the JSON path so the message reads like every other one. */
static void report_map(struct loader *L, const char *path, const char *err)
{
    const char *sep = strstr(err, ": ");
    char sub[PATH_CAP];

    if (sep != NULL && sep > err && memchr(err, ' ', (size_t)(sep - err)) == NULL) {
        mqp_errmsg(sub, sizeof(sub), "%s.%.*s", path, (int)(sep - err), err);
        report(L, sub, "%s", sep + 2);
        return;
    }
    report(L, path, "%s", err);
}

static void parse_event(struct loader *L, json_object *v, const char *path,
                        struct mqp_stream_event *ev)
{
    char sub[PATH_CAP], err[256] = "";
    json_object *m;

    if (!expect(L, path, v, json_type_object))
        return;
    get_id(L, v, path, "namespace", &ev->namespace_);
    get_id(L, v, path, "name", &ev->name);
    if (json_object_object_get_ex(v, "map", &m)) {
        path_key(sub, sizeof(sub), path, "map");
        if (expect(L, sub, m, json_type_object) &&
            mqp_projection_compile(m, &ev->map, err, sizeof(err)) != 0)
            report_map(L, sub, err);
    }
    if (json_object_object_get_ex(v, "criteria", &m)) {
        path_key(sub, sizeof(sub), path, "criteria");
        if (expect(L, sub, m, json_type_object) &&
            mqp_criteria_compile(m, &ev->criteria, err, sizeof(err)) != 0)
            report(L, sub, "%s", err);
    }
}

static void parse_roles(struct loader *L, json_object *v, const char *path, struct mqp_stream *s)
{
    char sub[PATH_CAP];
    size_t n;

    if (!expect(L, path, v, json_type_array) || (n = json_object_array_length(v)) == 0)
        return;
    s->subscriber_roles = calloc(n, sizeof(*s->subscriber_roles));
    if (s->subscriber_roles == NULL) {
        report_oom(L, path);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        path_index(sub, sizeof(sub), path, i);
        if (dup_string(L, json_object_array_get_idx(v, i), sub, 1, STRING_MAX,
                       &s->subscriber_roles[s->n_subscriber_roles]) == 0)
            s->n_subscriber_roles++;
    }
}

static void parse_subscriber(struct loader *L, json_object *v, const char *path,
                             struct mqp_stream *s)
{
    char sub[PATH_CAP], err[256] = "";
    const char *key = NULL;

    if (mqp_subscriber_criteria_compile(v, &s->subscriber_criteria, &key, err, sizeof(err)) == 0)
        return;
    if (key != NULL)
        path_key(sub, sizeof(sub), path, key);
    report(L, key != NULL ? sub : path, "%s", err);
}

static void parse_stream(struct loader *L, const char *key, json_object *v, const char *path,
                         struct mqp_stream *s)
{
    char sub[PATH_CAP], *id = NULL;
    json_object *m;
    size_t n;

    if (!mqp_id_valid(key, strlen(key)))
        report(L, path, "stream id " ID_RULE);
    else if (strcmp(key, MQP_EVENTS_LEVEL) == 0)
        report(L, path, "stream id \"events\" is reserved: that topic level carries domain events");
    s->id = strdup(key);
    if (s->id == NULL)
        report_oom(L, path);
    if (!expect(L, path, v, json_type_object))
        return;
    if (get_string(L, v, path, "id", false, 0, SIZE_MAX, &id) == 0 && id != NULL &&
        strcmp(id, key) != 0) {
        path_key(sub, sizeof(sub), path, "id");
        report(L, sub, "must equal the stream's key");
    }
    free(id);
    get_string(L, v, path, "name", false, 0, STRING_MAX, &s->name);
    if (s->name == NULL && (s->name = strdup(key)) == NULL)
        report_oom(L, path);
    get_string(L, v, path, "description", false, 0, DESCRIPTION_MAX, &s->description);
    if (s->description == NULL && (s->description = strdup("")) == NULL)
        report_oom(L, path);
    get_bool(L, v, path, "publicSubscribe", &s->public_subscribe);
    if (json_object_object_get_ex(v, "subscriberRoles", &m)) {
        path_key(sub, sizeof(sub), path, "subscriberRoles");
        parse_roles(L, m, sub, s);
    }
    if (json_object_object_get_ex(v, "subscriberCriteria", &m)) {
        path_key(sub, sizeof(sub), path, "subscriberCriteria");
        parse_subscriber(L, m, sub, s);
    }
    if (!json_object_object_get_ex(v, "events", &m))
        return;
    path_key(sub, sizeof(sub), path, "events");
    if (!expect(L, sub, m, json_type_array) || (n = json_object_array_length(m)) == 0)
        return;
    s->events = calloc(n, sizeof(*s->events));
    if (s->events == NULL) {
        report_oom(L, sub);
        return;
    }
    s->n_events = n;
    for (size_t i = 0; i < n; i++) {
        char epath[PATH_CAP];

        path_index(epath, sizeof(epath), sub, i);
        parse_event(L, json_object_array_get_idx(m, i), epath, &s->events[i]);
    }
}

static void parse_streams(struct loader *L, json_object *v, const char *path, struct mqp_tenant *t)
{
    size_t n, i = 0;

    if (!expect(L, path, v, json_type_object) || (n = (size_t)json_object_object_length(v)) == 0)
        return;
    t->streams = calloc(n, sizeof(*t->streams));
    if (t->streams == NULL) {
        report_oom(L, path);
        return;
    }
    /* json-c iterates members in document order: that order is the stream order. */
    json_object_object_foreach(v, key, val)
    {
        char spath[PATH_CAP];
        struct mqp_stream *s = &t->streams[i];

        s->index = i;
        s->tenant = t;
        t->n_streams = ++i;
        path_key(spath, sizeof(spath), path, key);
        parse_stream(L, key, val, spath, s);
        if (s->id == NULL || !mqp_id_valid(s->id, strlen(s->id)))
            continue;
        hash_oom = 0;
        HASH_ADD_KEYPTR(hh, t->by_id, s->id, strlen(s->id), s);
        if (hash_oom)
            report_oom(L, spath);
    }
}

static void parse_tenant(struct loader *L, const char *key, json_object *v, const char *path,
                         struct mqp_tenant *t)
{
    json_object *m;

    if (key[0] == '$')
        report(L, path, "tenant ids may not start with '$' (reserved for broker topics)");
    else if (!mqp_id_valid(key, strlen(key)))
        report(L, path, "tenant id " ID_RULE);
    t->id = strdup(key);
    if (t->id == NULL)
        report_oom(L, path);
    if (!expect(L, path, v, json_type_object))
        return;
    parse_issuer(L, v, path, &t->issuer);
    if (json_object_object_get_ex(v, "streams", &m)) {
        char spath[PATH_CAP];

        path_key(spath, sizeof(spath), path, "streams");
        parse_streams(L, m, spath, t);
    }
}

/* Issuers pick the tenant of a token, so two tenants (or a tenant and the service) sharing
 * one would let either side's keys speak for the other. */
static void index_tenant(struct loader *L, struct mqp_tenant *t, const char *path)
{
    struct mqp_config *cfg = L->cfg;
    struct mqp_tenant *other = NULL;
    char ipath[PATH_CAP], opath[PATH_CAP];

    if (t->id != NULL && mqp_id_valid(t->id, strlen(t->id))) {
        hash_oom = 0;
        HASH_ADD_KEYPTR(hh, cfg->tenants_by_id, t->id, strlen(t->id), t);
        if (hash_oom)
            report_oom(L, path);
    }
    if (t->issuer.issuer == NULL)
        return;
    path_key(ipath, sizeof(ipath), path, "issuer");
    if (cfg->service.issuer != NULL && strcmp(cfg->service.issuer, t->issuer.issuer) == 0) {
        report(L, ipath, "duplicate issuer, already used by $.service");
        return;
    }
    HASH_FIND(hh_iss, cfg->tenants_by_issuer, t->issuer.issuer, strlen(t->issuer.issuer), other);
    if (other != NULL) {
        path_key(opath, sizeof(opath), "$.tenants", other->id);
        report(L, ipath, "duplicate issuer, already used by %s", opath);
        return;
    }
    hash_oom = 0;
    HASH_ADD_KEYPTR(hh_iss, cfg->tenants_by_issuer, t->issuer.issuer, strlen(t->issuer.issuer), t);
    if (hash_oom)
        report_oom(L, ipath);
}

static void parse_tenants(struct loader *L, json_object *doc)
{
    struct mqp_config *cfg = L->cfg;
    json_object *v;
    size_t n, i = 0;

    if (!json_object_object_get_ex(doc, "tenants", &v)) {
        report(L, "$.tenants", "is required");
        return;
    }
    if (!expect(L, "$.tenants", v, json_type_object))
        return;
    n = (size_t)json_object_object_length(v);
    if (n == 0) {
        report(L, "$.tenants", "must hold at least one tenant");
        return;
    }
    cfg->tenants = calloc(n, sizeof(*cfg->tenants));
    if (cfg->tenants == NULL) {
        report_oom(L, "$.tenants");
        return;
    }
    json_object_object_foreach(v, key, val)
    {
        char tpath[PATH_CAP];
        struct mqp_tenant *t = &cfg->tenants[i];

        cfg->n_tenants = ++i;
        path_key(tpath, sizeof(tpath), "$.tenants", key);
        parse_tenant(L, key, val, tpath, t);
        index_tenant(L, t, tpath);
    }
}

static void build_routes(struct loader *L)
{
    if (mqp__config_build_indexes(L->cfg) != 0)
        report_oom(L, "$.tenants");
}

int mqp_config_build(json_object *doc, const char *base_dir, struct mqp_config **out,
                     struct mqp_errors *errs)
{
    struct loader L = {.errs = errs, .base_dir = base_dir};
    int rc = -1;

    if (out == NULL)
        return -1; /* nowhere to put a model: a caller bug, not a config error */
    *out = NULL;
    L.cfg = calloc(1, sizeof(*L.cfg));
    if (L.cfg == NULL) {
        report_oom(&L, "$");
        goto out;
    }
    L.cfg->limits.max_event_bytes = (size_t)256 * 1024;
    L.cfg->limits.max_token_bytes = (size_t)8 * 1024;
    L.cfg->limits.leeway_seconds = 30;
    L.cfg->limits.require_exp = true;
    if (!expect(&L, "$", doc, json_type_object))
        goto out;
    parse_limits(&L, doc);
    parse_service(&L, doc);
    parse_tenants(&L, doc);
    if (L.n_errors == 0)
        build_routes(&L);
    if (L.n_errors > L.n_listed && errs != NULL) {
        char msg[96];

        snprintf(msg, sizeof(msg), "%zu more errors not listed", L.n_errors - L.n_listed);
        errors_push(errs, "$", msg);
    }
    if (L.n_errors > 0)
        goto out;
    L.cfg->doc = json_object_get(doc);
    L.cfg->generation = atomic_fetch_add(&last_generation, 1) + 1;
    *out = L.cfg;
    L.cfg = NULL;
    rc = 0;
out:
    mqp_config_free(L.cfg);
    return rc;
}

int mqp_config_load_buffer(const char *buf, size_t len, const char *base_dir,
                           struct mqp_config **out, struct mqp_errors *errs)
{
    struct loader L = {.errs = errs};
    struct json_tokener *tok = NULL;
    json_object *doc = NULL;
    int rc = -1;

    if (out == NULL)
        return -1; /* nowhere to put a model: a caller bug, not a config error */
    *out = NULL;
    if (buf == NULL || len == 0) {
        report(&L, "$", "the document is empty");
        goto out;
    }
    if (len > CONFIG_MAX_BYTES) {
        report(&L, "$", "the document is %zu bytes, more than the %zu allowed", len,
               CONFIG_MAX_BYTES);
        goto out;
    }
    tok = json_tokener_new_ex(CONFIG_MAX_DEPTH);
    if (tok == NULL) {
        report_oom(&L, "$");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    doc = json_tokener_parse_ex(tok, buf, (int)len);
    if (doc == NULL) {
        enum json_tokener_error jerr = json_tokener_get_error(tok);

        if (jerr == json_tokener_continue)
            report(&L, "$", "not valid JSON: unexpected end of the document");
        else
            report(&L, "$", "not valid JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
                   json_tokener_error_desc(jerr));
        goto out;
    }
    rc = mqp_config_build(doc, base_dir, out, errs);
out:
    json_object_put(doc);
    if (tok != NULL) /* json-c 0.16 does not accept NULL here */
        json_tokener_free(tok);
    return rc;
}

static char *read_file(struct loader *L, const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        report(L, path, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        report(L, path, "not a regular file");
        goto out;
    }
    if ((uintmax_t)st.st_size > CONFIG_MAX_BYTES) {
        report(L, path, "%jd bytes, more than the %zu allowed", (intmax_t)st.st_size,
               CONFIG_MAX_BYTES);
        goto out;
    }
    /* One byte more than the size: a file that grew meanwhile still ends up over the limit
     * in load_buffer instead of being cut short silently. */
    buf = malloc((size_t)st.st_size + 2);
    if (buf == NULL) {
        report_oom(L, path);
        goto out;
    }
    while (got < (size_t)st.st_size + 1) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            report(L, path, "cannot read: %s", strerror(errno));
            free(buf);
            buf = NULL;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
out:
    close(fd);
    return buf;
}

int mqp_config_load_file(const char *path, struct mqp_config **out, struct mqp_errors *errs)
{
    struct loader L = {.errs = errs};
    char *buf = NULL, *dir = NULL, *slash;
    const char *base;
    size_t len = 0;
    int rc = -1;

    if (out == NULL)
        return -1; /* nowhere to put a model: a caller bug, not a config error */
    *out = NULL;
    if (path == NULL) {
        report(&L, "$", "no file name given");
        goto out;
    }
    buf = read_file(&L, path, &len);
    if (buf == NULL)
        goto out;
    dir = strdup(path);
    if (dir == NULL) {
        report_oom(&L, path);
        goto out;
    }
    /* jwks_file paths are relative to the directory holding the streams file. */
    slash = strrchr(dir, '/');
    base = dir;
    if (slash == NULL)
        base = ".";
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (mqp_config_load_buffer(buf, len, base, out, errs) != 0)
        goto out;
    (*out)->path = strdup(path);
    if ((*out)->path == NULL) {
        report_oom(&L, path);
        mqp_config_free(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    free(dir);
    free(buf);
    return rc;
}
