/*
 * bridge.json "ssf": the Shared Signals receiver (bridge/ssf/receiver.c), its transmitters and
 * the event namespace their SETs are published in; and the bridge's own transmitter
 * (bridge/ssf/transmitter.c): its signing keys and the streams whose events it offers. Same
 * rules in schemas/bridge.schema.json.
 */
#include "config.h"
#include "config_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "jsonpath.h"
#include "jwk.h"
#include "ssf/lang.h"

/* An Authorization header value is sent whole in one header line: keep it well inside
 * limits.max_header_bytes' smallest setting. */
#define AUTHORIZATION_MAX 1024

/* Visible ASCII and inner spaces: what fits in a header field value (RFC 9110 5.5) and
 * survives the transmitter's and our trimming of white space. */
static bool header_value_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AUTHORIZATION_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

/* http:// or https://, a host, no white space or control characters. The SSRF guard decides
 * at start whether the bridge may fetch it (plain http only inside outbound.allow). */
static bool url_ok(const char *u)
{
    size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;

    if (skip == 0 || u[skip] == '\0' || strchr("/?#", u[skip]) != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static void check_jwks_file(struct bridge_config_ctx *x, const char *file, const char *path)
{
    struct mqp_jwks *jwks = NULL;
    char err[320];

    /* Loaded now so that a missing or broken key set fails --check-config, not the start;
     * the receiver loads it again when it starts (and on SIGHUP). */
    if (mqp_jwks_load_file(file, &jwks, err, sizeof(err)) != 0)
        bridge_config__report(x, path, "%s", err);
    else if (mqp_jwks_count(jwks) == 0)
        bridge_config__report(x, path, "%s holds no key the receiver can verify with", file);
    mqp_jwks_free(jwks);
}

static void unique(struct bridge_config_ctx *x, const struct bridge_config *cfg,
                   const struct bridge_ssf_transmitter *t, const char *path)
{
    for (size_t i = 0; i < cfg->ssf.n_transmitters; i++) {
        const struct bridge_ssf_transmitter *o = &cfg->ssf.transmitters[i];

        if (t->tenant && t->issuer && o->tenant && o->issuer && strcmp(o->tenant, t->tenant) == 0 &&
            strcmp(o->issuer, t->issuer) == 0)
            bridge_config__report(x, path, "issuer %s is listed twice for tenant %s", t->issuer,
                                  t->tenant);
        /* The header tells who is calling before the SET is read: it must name one. */
        if (t->authorization && o->authorization && strcmp(o->authorization, t->authorization) == 0)
            bridge_config__report(x, path, "authorization is the same as transmitters[%zu]'s", i);
    }
}

static void parse_transmitter(struct bridge_config_ctx *x, json_object *o, const char *path,
                              struct bridge_config *cfg)
{
    static const char *const keys[] = {"tenant",   "issuer",        "audience", "jwks_file",
                                       "jwks_uri", "authorization", NULL};
    struct bridge_ssf_transmitter *t = &cfg->ssf.transmitters[cfg->ssf.n_transmitters];
    char sub[96], *file = NULL;

    if (!json_object_is_type(o, json_type_object)) {
        bridge_config__report(x, path, "must be an object");
        return;
    }
    memset(t, 0, sizeof(*t));
    bridge_config__check_keys(x, o, path, keys);
    snprintf(sub, sizeof(sub), "%s.tenant", path);
    bridge_config__get_string(x, o, "tenant", sub, &t->tenant);
    if (t->tenant == NULL || !bridge_config__id(t->tenant))
        bridge_config__report(x, sub, "required: a tenant id");
    snprintf(sub, sizeof(sub), "%s.issuer", path);
    bridge_config__get_string(x, o, "issuer", sub, &t->issuer);
    if (t->issuer == NULL)
        bridge_config__report(x, sub, "required: the \"iss\" of the transmitter's SETs");
    snprintf(sub, sizeof(sub), "%s.audience", path);
    bridge_config__get_string(x, o, "audience", sub, &t->audience);
    if (t->audience == NULL)
        bridge_config__report(x, sub, "required: what the SETs' \"aud\" must contain");
    snprintf(sub, sizeof(sub), "%s.jwks_file", path);
    bridge_config__get_string(x, o, "jwks_file", sub, &file);
    if (file) {
        t->jwks_file = bridge_config__join_path(x->dir, file);
        if (t->jwks_file == NULL)
            bridge_config__report(x, sub, "out of memory");
        else
            check_jwks_file(x, t->jwks_file, sub);
    }
    free(file);
    snprintf(sub, sizeof(sub), "%s.jwks_uri", path);
    bridge_config__get_string(x, o, "jwks_uri", sub, &t->jwks_uri);
    if (t->jwks_uri && !url_ok(t->jwks_uri))
        bridge_config__report(x, sub, "must be an http or https URL");
    if (json_object_object_get_ex(o, "jwks_file", NULL) ==
        json_object_object_get_ex(o, "jwks_uri", NULL))
        bridge_config__report(x, path, "give jwks_file or jwks_uri (one of them)");
    snprintf(sub, sizeof(sub), "%s.authorization", path);
    bridge_config__get_string(x, o, "authorization", sub, &t->authorization);
    if (t->authorization && !header_value_ok(t->authorization))
        bridge_config__report(x, sub,
                              "must be a header value: visible ASCII and inner spaces, at most "
                              "%d bytes",
                              AUTHORIZATION_MAX);
    unique(x, cfg, t, path);
    cfg->ssf.n_transmitters++;
}

static void parse_languages(struct bridge_config_ctx *x, json_object *r, struct bridge_config *cfg)
{
    json_object *arr;

    if (!json_object_object_get_ex(r, "languages", &arr))
        return;
    if (!json_object_is_type(arr, json_type_array)) {
        bridge_config__report(x, "$.ssf.receiver.languages", "must be an array");
        return;
    }
    /* English is always offered: RFC 8935 2.4 wants it when nothing else is acceptable. */
    cfg->ssf.languages = 1u << SSF_LANG_EN;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        int lang = json_object_is_type(v, json_type_string)
                       ? ssf_lang_from_tag(json_object_get_string(v))
                       : -1;
        char path[48];

        snprintf(path, sizeof(path), "$.ssf.receiver.languages[%zu]", i);
        if (lang < 0)
            bridge_config__report(x, path, "must be one of \"en\", \"de\", \"fr\"");
        else
            cfg->ssf.languages |= 1u << lang;
    }
}

static void parse_event_names(struct bridge_config_ctx *x, json_object *r,
                              struct bridge_config *cfg)
{
    json_object *names;
    size_t n;

    if (!json_object_object_get_ex(r, "event_names", &names))
        return;
    if (!json_object_is_type(names, json_type_object)) {
        bridge_config__report(x, "$.ssf.receiver.event_names",
                              "must be an object of event type URI: event name");
        return;
    }
    n = (size_t)json_object_object_length(names);
    cfg->ssf.event_names = calloc(n ? n : 1, sizeof(*cfg->ssf.event_names));
    if (cfg->ssf.event_names == NULL) {
        bridge_config__report(x, "$.ssf.receiver.event_names", "out of memory");
        return;
    }
    json_object_object_foreach(names, type, name)
    {
        struct bridge_ssf_event_name *e = &cfg->ssf.event_names[cfg->ssf.n_event_names];

        if (!json_object_is_type(name, json_type_string) ||
            !bridge_config__id(json_object_get_string(name)) || type[0] == '\0') {
            bridge_config__report(x, "$.ssf.receiver.event_names",
                                  "\"%.200s\" must map to an event name (1..128 of "
                                  "[A-Za-z0-9._-])",
                                  type);
            continue;
        }
        e->type = strdup(type);
        e->name = strdup(json_object_get_string(name));
        cfg->ssf.n_event_names++;
        if (e->type == NULL || e->name == NULL)
            bridge_config__report(x, "$.ssf.receiver.event_names", "out of memory");
    }
}

static void parse_receiver(struct bridge_config_ctx *x, json_object *r, struct bridge_config *cfg)
{
    static const char *const keys[] = {"namespace",   "transmitters",   "languages",
                                       "event_names", "jwks_refresh_s", NULL};
    json_object *arr;
    char *ns = NULL;
    uint64_t refresh = cfg->ssf.jwks_refresh_s;
    size_t i, n;

    cfg->ssf.enabled = true;
    bridge_config__check_keys(x, r, "$.ssf.receiver", keys);
    bridge_config__get_string(x, r, "namespace", "$.ssf.receiver.namespace", &ns);
    if (ns && !bridge_config__id(ns)) {
        bridge_config__report(x, "$.ssf.receiver.namespace",
                              "must be an event namespace: 1..128 of [A-Za-z0-9._-]");
        free(ns);
    } else if (ns) {
        free(cfg->ssf.namespace_);
        cfg->ssf.namespace_ = ns;
    }
    parse_languages(x, r, cfg);
    parse_event_names(x, r, cfg);
    bridge_config__get_uint(x, r, "jwks_refresh_s", "$.ssf.receiver.jwks_refresh_s", 60, 7u * 86400,
                            &refresh);
    cfg->ssf.jwks_refresh_s = (unsigned)refresh;
    if (!json_object_object_get_ex(r, "transmitters", &arr) ||
        !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
        bridge_config__report(x, "$.ssf.receiver.transmitters",
                              "required: an array of at least one transmitter");
        return;
    }
    n = json_object_array_length(arr);
    cfg->ssf.transmitters = calloc(n, sizeof(*cfg->ssf.transmitters));
    if (cfg->ssf.transmitters == NULL) {
        bridge_config__report(x, "$.ssf.receiver.transmitters", "out of memory");
        return;
    }
    for (i = 0; i < n; i++) {
        char path[64];

        snprintf(path, sizeof(path), "$.ssf.receiver.transmitters[%zu]", i);
        parse_transmitter(x, json_object_array_get_idx(arr, i), path, cfg);
    }
}

static void parse_tx_event(struct bridge_config_ctx *x, json_object *o, const char *path,
                           struct bridge_ssf_tx_stream *s)
{
    static const char *const keys[] = {"namespace", "name", "type", "subject_path", NULL};
    struct bridge_ssf_tx_event *e = &s->events[s->n_events];
    struct mqp_path *compiled = NULL;
    char sub[160], err[200]; /* path (under 128) and a key */

    if (!json_object_is_type(o, json_type_object)) {
        bridge_config__report(x, path, "must be an object");
        return;
    }
    memset(e, 0, sizeof(*e));
    s->n_events++;
    bridge_config__check_keys(x, o, path, keys);
    snprintf(sub, sizeof(sub), "%s.namespace", path);
    bridge_config__get_string(x, o, "namespace", sub, &e->namespace_);
    if (e->namespace_ == NULL || !bridge_config__id(e->namespace_))
        bridge_config__report(x, sub, "required: an event namespace");
    snprintf(sub, sizeof(sub), "%s.name", path);
    bridge_config__get_string(x, o, "name", sub, &e->name);
    if (e->name == NULL || !bridge_config__id(e->name))
        bridge_config__report(x, sub, "required: an event name");
    snprintf(sub, sizeof(sub), "%s.type", path);
    bridge_config__get_string(x, o, "type", sub, &e->type);
    /* SSF 1.0 section 4.2.2: an event type is a URI; a receiver compares it as a string. */
    if (e->type && (strchr(e->type, ':') == NULL || strpbrk(e->type, " \t\r\n\"") != NULL))
        bridge_config__report(x, sub, "must be an event type URI");
    snprintf(sub, sizeof(sub), "%s.subject_path", path);
    bridge_config__get_string(x, o, "subject_path", sub, &e->subject_path);
    if (e->subject_path && mqp_path_compile(e->subject_path, &compiled, err, sizeof(err)) != 0)
        bridge_config__report(x, sub, "%s", err);
    mqp_path_free(compiled);
}

static void parse_tx_stream(struct bridge_config_ctx *x, json_object *o, const char *path,
                            struct bridge_config *cfg)
{
    static const char *const keys[] = {"tenant", "stream", "events", NULL};
    struct bridge_ssf_tx_stream *s = &cfg->ssf.tx.streams[cfg->ssf.tx.n_streams];
    json_object *arr;
    char sub[96];

    if (!json_object_is_type(o, json_type_object)) {
        bridge_config__report(x, path, "must be an object");
        return;
    }
    memset(s, 0, sizeof(*s));
    cfg->ssf.tx.n_streams++;
    bridge_config__check_keys(x, o, path, keys);
    snprintf(sub, sizeof(sub), "%s.tenant", path);
    bridge_config__get_string(x, o, "tenant", sub, &s->tenant);
    /* "receive" would put the tenant's endpoints under the receiver's /ssf/receive/. */
    if (s->tenant == NULL || !bridge_config__id(s->tenant) || strcmp(s->tenant, "receive") == 0)
        bridge_config__report(x, sub, "required: a tenant id (other than \"receive\")");
    snprintf(sub, sizeof(sub), "%s.stream", path);
    bridge_config__get_string(x, o, "stream", sub, &s->stream);
    if (s->stream == NULL || !bridge_config__id(s->stream))
        bridge_config__report(x, sub, "required: a stream id of the tenant");
    for (size_t i = 0; i + 1 < cfg->ssf.tx.n_streams; i++) {
        const struct bridge_ssf_tx_stream *p = &cfg->ssf.tx.streams[i];

        if (s->tenant && s->stream && p->tenant && p->stream && strcmp(p->tenant, s->tenant) == 0 &&
            strcmp(p->stream, s->stream) == 0)
            bridge_config__report(x, path, "stream %s of tenant %s is listed twice", s->stream,
                                  s->tenant);
    }
    if (!json_object_object_get_ex(o, "events", &arr))
        return;
    snprintf(sub, sizeof(sub), "%s.events", path);
    if (!json_object_is_type(arr, json_type_array)) {
        bridge_config__report(x, sub, "must be an array");
        return;
    }
    s->events = calloc(json_object_array_length(arr) + 1, sizeof(*s->events));
    if (s->events == NULL) {
        bridge_config__report(x, sub, "out of memory");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        char ep[128];

        snprintf(ep, sizeof(ep), "%s[%zu]", sub, i);
        parse_tx_event(x, json_object_array_get_idx(arr, i), ep, s);
    }
}

/* "ssf.transmitter.delivery": how SETs are pushed (RFC 8935) and polled (RFC 8936). */
static void parse_tx_delivery(struct bridge_config_ctx *x, json_object *d,
                              struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "retry_s",     "retry_min_ms", "retry_max_ms",    "auth_retries",
        "poll_wait_s", "max_pending",  "accept_language", NULL};
    static const struct {
        const char *key;
        uint64_t min, max;
        size_t off;
    } nums[] = {
        {"retry_s", 1, 30u * 86400, offsetof(struct bridge_config, ssf.tx.retry_s)},
        {"retry_min_ms", 10, 3600000, offsetof(struct bridge_config, ssf.tx.retry_min_ms)},
        {"retry_max_ms", 10, 86400000, offsetof(struct bridge_config, ssf.tx.retry_max_ms)},
        {"auth_retries", 1, 100, offsetof(struct bridge_config, ssf.tx.auth_retries)},
        {"poll_wait_s", 1, 300, offsetof(struct bridge_config, ssf.tx.poll_wait_s)},
        {"max_pending", 1, 10000000, offsetof(struct bridge_config, ssf.tx.max_pending)},
    };
    char path[64], *lang = NULL;

    bridge_config__check_keys(x, d, "$.ssf.transmitter.delivery", keys);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        unsigned *field = (unsigned *)((char *)cfg + nums[i].off);
        uint64_t v = *field;

        snprintf(path, sizeof(path), "$.ssf.transmitter.delivery.%s", nums[i].key);
        bridge_config__get_uint(x, d, nums[i].key, path, nums[i].min, nums[i].max, &v);
        *field = (unsigned)v;
    }
    if (cfg->ssf.tx.retry_min_ms > cfg->ssf.tx.retry_max_ms)
        bridge_config__report(x, "$.ssf.transmitter.delivery.retry_min_ms",
                              "must not exceed retry_max_ms");
    bridge_config__get_string(x, d, "accept_language", "$.ssf.transmitter.delivery.accept_language",
                              &lang);
    /* RFC 9110 12.5.4: a header field value; sent as it is. */
    if (lang && !header_value_ok(lang)) {
        bridge_config__report(x, "$.ssf.transmitter.delivery.accept_language",
                              "must be a header value (visible ASCII and inner spaces)");
        free(lang);
    } else if (lang) {
        free(cfg->ssf.tx.accept_language);
        cfg->ssf.tx.accept_language = lang;
    }
}

/* A signing key of the operator's ("key_file"): read now, so that a bad file stops the start
 * (and --check-config) with its path; its type is the algorithm. */
static void parse_key_file(struct bridge_config_ctx *x, json_object *t, struct bridge_config *cfg)
{
    static const char path[] = "$.ssf.transmitter.key_file";
    char *file = NULL;
    EVP_PKEY *key;
    BIO *bio;

    bridge_config__get_string(x, t, "key_file", path, &file);
    if (file == NULL)
        return;
    cfg->ssf.tx.key_file = bridge_config__join_path(x->dir, file);
    free(file);
    if (cfg->ssf.tx.key_file == NULL) {
        bridge_config__report(x, path, "out of memory");
        return;
    }
    bio = BIO_new_file(cfg->ssf.tx.key_file, "r");
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    if (key == NULL)
        bridge_config__report(x, path, "%s holds no readable PEM private key",
                              cfg->ssf.tx.key_file);
    else {
        enum mqp_jws_alg a = mqp_jws_alg_for_key(key);

        if (a != MQP_ALG_ES256 && (a != MQP_ALG_RS256 || EVP_PKEY_get_bits(key) < 2048))
            bridge_config__report(x, path,
                                  "the key must be P-256 (ES256) or RSA of 2048 bits or more");
        else if (json_object_object_get_ex(t, "alg", NULL) && cfg->ssf.tx.alg != (int)a)
            bridge_config__report(x, path, "the key is not for \"alg\" %s",
                                  mqp_jws_alg_name((enum mqp_jws_alg)cfg->ssf.tx.alg));
        else {
            cfg->ssf.tx.alg = (int)a;
            if (a == MQP_ALG_RS256)
                cfg->ssf.tx.rsa_bits = (unsigned)EVP_PKEY_get_bits(key);
        }
    }
    EVP_PKEY_free(key);
}

static void parse_transmitter_section(struct bridge_config_ctx *x, json_object *t,
                                      struct bridge_config *cfg)
{
    static const char *const keys[] = {
        "alg", "rsa_bits", "key_overlap_s", "key_file", "delivery", "streams", NULL};
    uint64_t bits = cfg->ssf.tx.rsa_bits, overlap = cfg->ssf.tx.key_overlap_s;
    json_object *d;
    json_object *arr;
    char *alg = NULL;
    size_t n;

    cfg->ssf.tx.enabled = true;
    bridge_config__check_keys(x, t, "$.ssf.transmitter", keys);
    bridge_config__get_string(x, t, "alg", "$.ssf.transmitter.alg", &alg);
    if (alg) {
        enum mqp_jws_alg a = mqp_jws_alg_parse(alg);

        /* RS256 for the CAEP interoperability profile; ES256 where the receiver can. */
        if (a != MQP_ALG_ES256 && a != MQP_ALG_RS256)
            bridge_config__report(x, "$.ssf.transmitter.alg", "must be \"ES256\" or \"RS256\"");
        else
            cfg->ssf.tx.alg = (int)a;
    }
    free(alg);
    bridge_config__get_uint(x, t, "rsa_bits", "$.ssf.transmitter.rsa_bits", 2048, 4096, &bits);
    cfg->ssf.tx.rsa_bits = (unsigned)bits;
    bridge_config__get_uint(x, t, "key_overlap_s", "$.ssf.transmitter.key_overlap_s", 0,
                            30u * 86400, &overlap);
    cfg->ssf.tx.key_overlap_s = (unsigned)overlap;
    parse_key_file(x, t, cfg);
    d = bridge_config__get_object(x, t, "delivery", "$.ssf.transmitter.delivery");
    if (d)
        parse_tx_delivery(x, d, cfg);
    if (!json_object_object_get_ex(t, "streams", &arr) ||
        !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0) {
        bridge_config__report(x, "$.ssf.transmitter.streams",
                              "required: an array of at least one stream");
        return;
    }
    n = json_object_array_length(arr);
    cfg->ssf.tx.streams = calloc(n, sizeof(*cfg->ssf.tx.streams));
    if (cfg->ssf.tx.streams == NULL) {
        bridge_config__report(x, "$.ssf.transmitter.streams", "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char path[64];

        snprintf(path, sizeof(path), "$.ssf.transmitter.streams[%zu]", i);
        parse_tx_stream(x, json_object_array_get_idx(arr, i), path, cfg);
    }
}

void bridge_config__ssf(struct bridge_config_ctx *x, json_object *doc, struct bridge_config *cfg)
{
    static const char *const keys[] = {"receiver", "transmitter", NULL};
    json_object *s = bridge_config__get_object(x, doc, "ssf", "$.ssf"), *r, *t;

    cfg->ssf.languages = SSF_LANG_ALL;
    cfg->ssf.jwks_refresh_s = 3600;
    cfg->ssf.tx.alg = MQP_ALG_ES256;
    cfg->ssf.tx.rsa_bits = 2048;
    cfg->ssf.tx.key_overlap_s = 86400;
    cfg->ssf.tx.retry_s = 86400;
    cfg->ssf.tx.retry_min_ms = 1000;
    cfg->ssf.tx.retry_max_ms = 300000;
    cfg->ssf.tx.auth_retries = 3;
    cfg->ssf.tx.poll_wait_s = 30;
    cfg->ssf.tx.max_pending = 10000;
    cfg->ssf.namespace_ = strdup("ssf");
    if (cfg->ssf.namespace_ == NULL)
        bridge_config__report(x, "$.ssf", "out of memory");
    if (s == NULL)
        return;
    bridge_config__check_keys(x, s, "$.ssf", keys);
    r = bridge_config__get_object(x, s, "receiver", "$.ssf.receiver");
    if (r)
        parse_receiver(x, r, cfg);
    t = bridge_config__get_object(x, s, "transmitter", "$.ssf.transmitter");
    if (t)
        parse_transmitter_section(x, t, cfg);
}

void bridge_config__ssf_free(struct bridge_config *cfg)
{
    for (size_t i = 0; i < cfg->ssf.n_transmitters; i++) {
        struct bridge_ssf_transmitter *t = &cfg->ssf.transmitters[i];

        free(t->tenant);
        free(t->issuer);
        free(t->audience);
        free(t->jwks_file);
        free(t->jwks_uri);
        if (t->authorization)
            memset(t->authorization, 0, strlen(t->authorization)); /* a secret */
        free(t->authorization);
    }
    free(cfg->ssf.transmitters);
    for (size_t i = 0; i < cfg->ssf.n_event_names; i++) {
        free(cfg->ssf.event_names[i].type);
        free(cfg->ssf.event_names[i].name);
    }
    free(cfg->ssf.event_names);
    for (size_t i = 0; i < cfg->ssf.tx.n_streams; i++) {
        struct bridge_ssf_tx_stream *s = &cfg->ssf.tx.streams[i];

        for (size_t j = 0; j < s->n_events; j++) {
            free(s->events[j].namespace_);
            free(s->events[j].name);
            free(s->events[j].type);
            free(s->events[j].subject_path);
        }
        free(s->events);
        free(s->tenant);
        free(s->stream);
    }
    free(cfg->ssf.tx.streams);
    free(cfg->ssf.tx.accept_language);
    free(cfg->ssf.tx.key_file);
    free(cfg->ssf.namespace_);
}
