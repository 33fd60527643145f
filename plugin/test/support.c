/*
 * Fixtures for the plugin tests. See support.h.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jwk.h"
#include "jwt.h"

static char *jwks_text(EVP_PKEY *key)
{
    json_object *set = json_object_new_object();
    json_object *keys = json_object_new_array();
    json_object *jwk = mqp_jwk_from_pkey(key);
    char *out = NULL;

    if (!set || !keys || !jwk)
        goto out;
    json_object_array_add(keys, jwk);
    jwk = NULL;
    json_object_object_add(set, "keys", keys);
    keys = NULL;
    out = strdup(json_object_to_json_string_ext(set, JSON_C_TO_STRING_PLAIN));
out:
    json_object_put(jwk);
    json_object_put(keys);
    json_object_put(set);
    return out;
}

int fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/mqp-plugin-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->config, sizeof(f->config), "%s/streams.json", f->dir);
    f->tenant_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->service_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->stranger_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!f->tenant_key || !f->service_key || !f->stranger_key)
        return -1;
    f->tenant_jwks = jwks_text(f->tenant_key);
    f->service_jwks = jwks_text(f->service_key);
    f->stranger_jwks = jwks_text(f->stranger_key);
    return f->tenant_jwks && f->service_jwks && f->stranger_jwks ? 0 : -1;
}

void fixture_free(struct fixture *f)
{
    unlink(f->config);
    rmdir(f->dir);
    EVP_PKEY_free(f->tenant_key);
    EVP_PKEY_free(f->service_key);
    EVP_PKEY_free(f->stranger_key);
    free(f->tenant_jwks);
    free(f->service_jwks);
    free(f->stranger_jwks);
}

int fixture_write_raw(struct fixture *f, const char *text)
{
    FILE *fp = fopen(f->config, "w");
    int rc;

    if (!fp)
        return -1;
    rc = fputs(text, fp) < 0 ? -1 : 0;
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

/* Arguments: leeway, max_event, service key set, tenant key set, the tenant's streams. */
#define CONFIG_FORMAT                                                                              \
    "{\"limits\": {\"token_leeway_seconds\": %d, \"max_event_bytes\": %zu},"                       \
    " \"service\": {\"issuer\": \"" SERVICE_ISS "\", \"audience\": \"" AUDIENCE "\","              \
    "   \"jwks\": %s},"                                                                            \
    " \"tenants\": {\"acme\": {\"issuer\": \"" TENANT_ISS "\","                                    \
    "   \"audience\": \"" AUDIENCE "\", \"jwks\": %s, \"streams\": {%s}}}}"

int fixture_write_config(struct fixture *f, int variant, int leeway, size_t max_event)
{
    static const char *const streams[] = {
        "\"news\": {\"publicSubscribe\": true,"
        "  \"events\": [{\"namespace\": \"news\", \"name\": \"published\"}]},"
        "\"cases\": {\"subscriberRoles\": [\"case-worker\"],"
        "  \"events\": [{\"namespace\": \"case\", \"name\": \"updated\","
        "    \"map\": {\"caseId\": \"payload.id\"}, \"criteria\": {\"payload.kind\": \"open\"}}]},"
        "\"audit\": {\"events\": [{\"namespace\": \"case\", \"name\": \"updated\"}]}",

        "\"news\": {\"publicSubscribe\": true,"
        "  \"events\": [{\"namespace\": \"news\", \"name\": \"published\"}]},"
        "\"cases\": {\"publicSubscribe\": true,"
        "  \"events\": [{\"namespace\": \"case\", \"name\": \"updated\"}]}",

        "\"news\": {\"publicSubscribe\": true,"
        "  \"events\": [{\"namespace\": \"news\", \"name\": \"published\"}]},"
        "\"inbox\": {\"publicSubscribe\": true,"
        "  \"events\": [{\"namespace\": \"case\", \"name\": \"updated\"}],"
        "  \"subscriberCriteria\": {\"payload.owner\": {\"claim\": \"sub\"}}}",
    };
    const char *tenant_jwks = variant == 2 ? f->stranger_jwks : f->tenant_jwks;
    char *text = NULL;
    int len, rc;

    if (variant < 0 || variant > 3)
        return -1;
    if (variant == 2)
        variant = 0;
    else if (variant == 3)
        variant = 2;
    len = snprintf(NULL, 0, CONFIG_FORMAT, leeway, max_event, f->service_jwks, tenant_jwks,
                   streams[variant]);
    if (len < 0 || !(text = malloc((size_t)len + 1)))
        return -1;
    snprintf(text, (size_t)len + 1, CONFIG_FORMAT, leeway, max_event, f->service_jwks, tenant_jwks,
             streams[variant]);
    rc = fixture_write_raw(f, text);
    free(text);
    return rc;
}

char *mint_token(EVP_PKEY *key, const char *iss, const char *roles, int64_t ttl)
{
    json_object *claims = json_object_new_object();
    json_object *list = json_object_new_array();
    int64_t now = (int64_t)time(NULL);
    char *copy = strdup(roles);
    char *save = NULL, *tok = NULL;

    if (!claims || !list || !copy)
        goto out;
    for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save))
        json_object_array_add(list, json_object_new_string(r));
    json_object_object_add(claims, "iss", json_object_new_string(iss));
    json_object_object_add(claims, "aud", json_object_new_string(AUDIENCE));
    json_object_object_add(claims, "sub", json_object_new_string("tester"));
    json_object_object_add(claims, "iat", json_object_new_int64(now));
    json_object_object_add(claims, "exp", json_object_new_int64(now + ttl));
    json_object_object_add(claims, "roles", list);
    list = NULL;
    tok = mqp_jwt_sign(claims, NULL, key);
out:
    free(copy);
    json_object_put(list);
    json_object_put(claims);
    return tok;
}
