/*
 * The SSF transmitter's keys and discovery. The issuer of tenant t is
 * "<public_url>/ssf/<t>"; its metadata is found, as SSF 1.0 section 7.2 says (the RFC 8414
 * section 3 rule), by inserting "/.well-known/ssf-configuration" between the host and the
 * issuer's path: "<host>/.well-known/ssf-configuration[/<path of public_url>]/ssf/<t>".
 */
#include "ssf/transmitter.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http/api.h"
#include "http/request.h"
#include "ssf/delivery.h"
#include "ssf/transmitter_int.h"
#include "ssf/tx_keys.h"
#include "token.h"

#define ADMIN_ROLE "mqpush-admin"

bool ssf__tx_serves(const struct bridge *b, const char *tenant)
{
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++)
        if (strcmp(b->cfg->ssf.tx.streams[i].tenant, tenant) == 0)
            return true;
    return false;
}

int ssf__tx_url(const struct bridge *b, const char *tenant, const char *suffix, char *buf,
                size_t cap)
{
    const char *base = b->cfg->public_url;
    size_t bl = strlen(base);
    int n;

    if (bl > 0 && base[bl - 1] == '/')
        bl--;
    n = tenant ? snprintf(buf, cap, "%.*s/ssf/%s%s", (int)bl, base, tenant, suffix)
               : snprintf(buf, cap, "%.*s%s", (int)bl, base, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static bool has_string(json_object *arr, const char *s)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return true;
    return false;
}

/* The mapping of (namespace, name) in s, or NULL. */
static const struct bridge_ssf_tx_event *mapping(const struct bridge_ssf_tx_stream *s,
                                                 const char *ns, const char *name)
{
    for (size_t i = 0; i < s->n_events; i++)
        if (strcmp(s->events[i].namespace_, ns) == 0 && strcmp(s->events[i].name, name) == 0)
            return &s->events[i];
    return NULL;
}

json_object *ssf__tx_events_supported(const struct bridge *b, const char *tenant)
{
    const struct mqp_tenant *t = mqp_config_tenant(b->streams, tenant, strlen(tenant));
    json_object *arr = json_object_new_array();

    if (arr == NULL || t == NULL)
        return arr;
    for (size_t i = 0; i < b->cfg->ssf.tx.n_streams; i++) {
        const struct bridge_ssf_tx_stream *cs = &b->cfg->ssf.tx.streams[i];
        const struct mqp_stream *s;

        if (strcmp(cs->tenant, tenant) != 0 ||
            (s = mqp_tenant_stream(t, cs->stream, strlen(cs->stream))) == NULL)
            continue;
        for (size_t j = 0; j < s->n_events; j++) {
            const struct bridge_ssf_tx_event *m =
                mapping(cs, s->events[j].namespace_, s->events[j].name);
            char urn[512];

            /* An event without a registered type gets a URN private to the tenant (SSF 1.0
             * section 4.2.2 lets a transmitter define event types). */
            if (m && m->type)
                snprintf(urn, sizeof(urn), "%s", m->type);
            else
                snprintf(urn, sizeof(urn), "urn:mqpush:%s:event:%s:%s", tenant,
                         s->events[j].namespace_, s->events[j].name);
            if (!has_string(arr, urn))
                json_object_array_add(arr, json_object_new_string(urn));
        }
    }
    return arr;
}

int ssf__tx_reply_json(struct conn *c, int status, json_object *o)
{
    const char *js;
    int rc;

    if (o == NULL)
        return http_reply_error(c, 500, "internal", "out of memory");
    js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = js ? http_reply(c, status, "application/json", js, strlen(js), NULL) : -1;
    json_object_put(o);
    return rc;
}

static bool is_get(struct conn *c)
{
    return lws_hdr_total_length(c->wsi, WSI_TOKEN_GET_URI) > 0;
}

int ssf_transmitter_jwks_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct ssf_transmitter *tx = c->b->ssf_transmitter;

    (void)body;
    (void)len;
    if (tx == NULL || strcmp(path, "/jwks.json") != 0)
        return http_reply_error(c, 404, "not_found", "no such path");
    if (!is_get(c))
        return http_reply_error(c, 405, "method_not_allowed", "use GET");
    return ssf__tx_reply_json(c, 200, ssf_tx_keys_jwks(tx->keys, (int64_t)time(NULL)));
}

static void add_url(json_object *o, const struct bridge *b, const char *name, const char *tenant,
                    const char *suffix)
{
    char url[1024];

    if (ssf__tx_url(b, tenant, suffix, url, sizeof(url)) == 0)
        json_object_object_add(o, name, json_object_new_string(url));
}

/* SSF 1.0 section 7.1: Transmitter Configuration Metadata. */
static json_object *metadata(const struct bridge *b, const char *tenant)
{
    json_object *o = json_object_new_object(), *methods = json_object_new_array(),
                *schemes = json_object_new_array(), *bearer = json_object_new_object();

    json_object_object_add(o, "spec_version", json_object_new_string("1_0"));
    add_url(o, b, "issuer", tenant, "");
    add_url(o, b, "jwks_uri", NULL, "/jwks.json");
    json_object_array_add(methods, json_object_new_string(SSF_DELIVERY_PUSH));
    json_object_array_add(methods, json_object_new_string(SSF_DELIVERY_POLL));
    json_object_object_add(o, "delivery_methods_supported", methods);
    add_url(o, b, "configuration_endpoint", tenant, "/streams");
    add_url(o, b, "status_endpoint", tenant, "/streams/status");
    add_url(o, b, "add_subject_endpoint", tenant, "/streams/subjects:add");
    add_url(o, b, "remove_subject_endpoint", tenant, "/streams/subjects:remove");
    add_url(o, b, "verification_endpoint", tenant, "/streams/verify");
    /* Section 7.1.1: the management API takes RFC 6750 bearer tokens. */
    json_object_object_add(bearer, "spec_urn", json_object_new_string("urn:ietf:rfc:6750"));
    json_object_array_add(schemes, bearer);
    json_object_object_add(o, "authorization_schemes", schemes);
    return o;
}

/* The path of public_url ("" or "/x/y", no trailing '/'): what follows the well-known name. */
static size_t base_path(const char *public_url, const char **p)
{
    const char *s = strstr(public_url, "://"), *slash = s ? strchr(s + 3, '/') : NULL;
    size_t n;

    *p = slash ? slash : "";
    n = strlen(*p);
    while (n > 0 && (*p)[n - 1] == '/')
        n--;
    return n;
}

int ssf_transmitter_wellknown_api(struct conn *c, const char *path, const char *body, size_t len)
{
    static const char *const names[] = {"/.well-known/ssf-configuration",
                                        /* the name of the drafts before SSF 1.0 */
                                        "/.well-known/sse-configuration"};
    struct bridge *b = c->b;
    const char *rest = NULL, *bp;
    size_t bl;

    (void)body;
    (void)len;
    for (size_t i = 0; i < 2 && rest == NULL; i++)
        if (strncmp(path, names[i], strlen(names[i])) == 0)
            rest = path + strlen(names[i]);
    if (b->ssf_transmitter == NULL || rest == NULL)
        return http_reply_error(c, 404, "not_found", "no such path");
    bl = base_path(b->cfg->public_url, &bp);
    if (strncmp(rest, bp, bl) != 0 || strncmp(rest + bl, "/ssf/", 5) != 0 ||
        !ssf__tx_serves(b, rest + bl + 5))
        return http_reply_error(c, 404, "not_found", "no SSF transmitter for this issuer");
    if (!is_get(c))
        return http_reply_error(c, 405, "method_not_allowed", "use GET");
    return ssf__tx_reply_json(c, 200, metadata(b, rest + bl + 5));
}

int ssf_transmitter_admin_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct ssf_transmitter *tx = c->b->ssf_transmitter;
    struct mqp_identity *id = NULL;
    bool too_long = false;
    char *tok = NULL, msg[200];
    int rc;

    (void)body;
    (void)len;
    if (tx == NULL || strcmp(path, "/api/ssf/keys/rotate") != 0)
        return http_reply_error(c, 404, "not_found", "no such path");
    if (lws_hdr_total_length(c->wsi, WSI_TOKEN_POST_URI) <= 0)
        return http_reply_error(c, 405, "method_not_allowed", "use POST");
    tok = http_bearer_token(c->wsi, 65536, &too_long);
    if (tok == NULL) {
        rc = http_reply_error(c, 401, "auth_required", "a bearer token is required");
    } else if (mqp_token_verify(c->b->streams, tok, strlen(tok), (int64_t)time(NULL), &id, NULL,
                                0) != MQP_TOKEN_OK) {
        rc = http_reply_error(c, 401, "auth_failed", "the token was refused");
    } else if (id->kind != MQP_IDENTITY_SERVICE || !mqp_identity_has_role(id, ADMIN_ROLE)) {
        /* The keys sign for every tenant: only the operator's service token may change them. */
        rc = http_reply_error(c, 403, "forbidden",
                              "a service token with role " ADMIN_ROLE " is required");
    } else if (c->b->cfg->ssf.tx.key_file) {
        /* the operator's key would come back at the next start: rotate by replacing the file */
        rc = http_reply_error(c, 409, "conflict",
                              "the signing key comes from ssf.transmitter.key_file: replace the "
                              "file and restart to rotate it");
    } else if (ssf_tx_keys_rotate(tx->keys, (int64_t)time(NULL), msg, sizeof(msg)) != 0) {
        rc = http_reply_error(c, 500, "internal", msg);
    } else {
        fprintf(stderr, "mqpush-bridge: ssf: transmitter key rotated\n");
        rc = ssf__tx_reply_json(c, 200, ssf_tx_keys_jwks(tx->keys, (int64_t)time(NULL)));
    }
    mqp_identity_free(id);
    free(tok);
    return rc;
}

int ssf_transmitter_start(struct bridge *b)
{
    const struct bridge_config *cfg = b->cfg;
    struct ssf_transmitter *tx;
    const char *kid = NULL;
    EVP_PKEY *configured = NULL;
    char err[200];
    int rc;

    if (!cfg->ssf.tx.enabled)
        return 0;
    tx = calloc(1, sizeof(*tx));
    if (tx == NULL)
        return -1;
    tx->b = b;
    if (cfg->ssf.tx.key_file) {
        BIO *bio = BIO_new_file(cfg->ssf.tx.key_file, "r");

        configured = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (configured == NULL) {
            fprintf(stderr, "mqpush-bridge: ssf: cannot read %s\n", cfg->ssf.tx.key_file);
            free(tx);
            return -1;
        }
    }
    rc = ssf_tx_keys_open(b->store, (enum mqp_jws_alg)cfg->ssf.tx.alg, cfg->ssf.tx.rsa_bits,
                          cfg->ssf.tx.key_overlap_s, configured, (int64_t)time(NULL), &tx->keys,
                          err, sizeof(err));
    EVP_PKEY_free(configured);
    if (rc != 0) {
        fprintf(stderr, "mqpush-bridge: ssf: transmitter not started: %s\n", err);
        free(tx);
        return -1;
    }
    ssf_tx_keys_current(tx->keys, &kid);
    b->ssf_transmitter = tx;
    if (ssf_delivery_start(b) != 0)
        return -1; /* freed by ssf_transmitter_free() */
    fprintf(stderr, "mqpush-bridge: ssf: transmitter for %zu stream%s, signing with %s key %s\n",
            cfg->ssf.tx.n_streams, cfg->ssf.tx.n_streams == 1 ? "" : "s",
            mqp_jws_alg_name((enum mqp_jws_alg)cfg->ssf.tx.alg), kid);
    return 0;
}

void ssf_transmitter_free(struct bridge *b)
{
    struct ssf_transmitter *tx = b->ssf_transmitter;

    if (tx == NULL)
        return;
    ssf_delivery_free(b);
    ssf_tx_keys_free(tx->keys);
    free(tx);
    b->ssf_transmitter = NULL;
}
