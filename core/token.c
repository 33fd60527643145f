/*
 * Bearer-token policy over the JOSE layer: which issuer signed, whether the token is current
 * and meant for us (RFC 7519 section 4.1, RFC 9068 for access tokens), and which roles it
 * carries (top-level, Keycloak realm and client roles).
 */
#include "errmsg.h"
#include "token.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claims.h"
#include "jwt.h"

#define TOKEN_DEFAULT_MAX_BYTES (8 * 1024)
#define TOKEN_MAX_ROLES 256
#define TOKEN_MAX_ROLE_BYTES 256

const char *mqp_token_status_str(enum mqp_token_status st)
{
    switch (st) {
    case MQP_TOKEN_OK:
        return "token valid";
    case MQP_TOKEN_MALFORMED:
        return "token malformed";
    case MQP_TOKEN_TOO_LARGE:
        return "token too large";
    case MQP_TOKEN_BAD_ALG:
        return "token algorithm not accepted";
    case MQP_TOKEN_UNKNOWN_ISSUER:
        return "token issuer unknown";
    case MQP_TOKEN_UNKNOWN_KEY:
        return "token signing key unknown";
    case MQP_TOKEN_BAD_SIGNATURE:
        return "token signature invalid";
    case MQP_TOKEN_EXPIRED:
        return "token expired";
    case MQP_TOKEN_NOT_YET_VALID:
        return "token not yet valid";
    case MQP_TOKEN_WRONG_AUDIENCE:
        return "token audience mismatch";
    }
    return "token status unknown";
}

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool mqp_token_looks_like_jwt(const char *token, size_t len)
{
    size_t dots = 0, part_len = 0;

    if (token == NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (part_len == 0 || ++dots > 2)
                return false;
            part_len = 0;
        } else if (is_b64url_char(token[i])) {
            part_len++;
        } else {
            return false;
        }
    }
    return dots == 2 && part_len > 0;
}

/*
 * RFC 7515 section 4.1.9: "typ" may omit "application/". JWT (RFC 7519 section 5.1) and
 * at+jwt (RFC 9068 section 2.1) are access tokens; anything else, such as secevent+jwt
 * (RFC 8417 section 2.3), is another kind of JWT that must not open a session.
 */
static bool typ_accepted(const char *typ)
{
    static const char *const accepted[] = {"JWT", "at+jwt"};

    if (typ == NULL)
        return true;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        if (mqp_jose_typ_is(typ, accepted[i]))
            return true;
    }
    return false;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static enum mqp_token_status check_times(const struct mqp_config *cfg, json_object *claims,
                                         int64_t now, int64_t *exp, char *detail, size_t detail_len)
{
    static const char *const starts[] = {"nbf", "iat"};
    int64_t leeway = cfg->limits.leeway_seconds > 0 ? cfg->limits.leeway_seconds : 0, t;
    int rc;

    rc = mqp_claim_numeric_date(claims, "exp", exp);
    if (rc < 0) {
        mqp_errmsg(detail, detail_len, "\"exp\" is not a number");
        return MQP_TOKEN_MALFORMED;
    }
    if (rc > 0) {
        *exp = INT64_MAX;
        if (cfg->limits.require_exp) {
            mqp_errmsg(detail, detail_len, "token has no \"exp\"");
            return MQP_TOKEN_EXPIRED;
        }
    } else if (now > add_sat(*exp, leeway)) {
        mqp_errmsg(detail, detail_len, "expired at %lld, now %lld", (long long)*exp,
                   (long long)now);
        return MQP_TOKEN_EXPIRED;
    }
    /* RFC 7519 sections 4.1.5 and 4.1.6: not before nbf, and not issued in the future. */
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        rc = mqp_claim_numeric_date(claims, starts[i], &t);
        if (rc < 0) {
            mqp_errmsg(detail, detail_len, "\"%s\" is not a number", starts[i]);
            return MQP_TOKEN_MALFORMED;
        }
        if (rc == 0 && t > add_sat(now, leeway)) {
            mqp_errmsg(detail, detail_len, "\"%s\" %lld is in the future (now %lld)", starts[i],
                       (long long)t, (long long)now);
            return MQP_TOKEN_NOT_YET_VALID;
        }
    }
    return MQP_TOKEN_OK;
}

/* RFC 7519 section 4.1.3: "aud" is one string or an array of strings; one must be ours. */
static enum mqp_token_status check_audience(json_object *claims, const char *audience, char *detail,
                                            size_t detail_len)
{
    json_object *aud;

    if (audience == NULL) {
        mqp_errmsg(detail, detail_len, "issuer has no audience configured");
        return MQP_TOKEN_WRONG_AUDIENCE;
    }
    if (!json_object_object_get_ex(claims, "aud", &aud)) {
        mqp_errmsg(detail, detail_len, "token has no \"aud\"");
        return MQP_TOKEN_WRONG_AUDIENCE;
    }
    if (json_object_is_type(aud, json_type_string)) {
        if (strcmp(json_object_get_string(aud), audience) == 0)
            return MQP_TOKEN_OK;
    } else if (json_object_is_type(aud, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(aud); i++) {
            json_object *a = json_object_array_get_idx(aud, i);
            if (json_object_is_type(a, json_type_string) &&
                strcmp(json_object_get_string(a), audience) == 0)
                return MQP_TOKEN_OK;
        }
    } else {
        mqp_errmsg(detail, detail_len, "\"aud\" must be a string or an array");
        return MQP_TOKEN_MALFORMED;
    }
    mqp_errmsg(detail, detail_len, "\"aud\" does not contain \"%s\"", audience);
    return MQP_TOKEN_WRONG_AUDIENCE;
}

/* Add the string roles of array (may be NULL or not an array) to id, skipping duplicates. */
static int add_roles(struct mqp_identity *id, json_object *array)
{
    if (!json_object_is_type(array, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *r = json_object_array_get_idx(array, i);
        const char *name;

        if (id->n_roles >= TOKEN_MAX_ROLES)
            return 0;
        if (!json_object_is_type(r, json_type_string))
            continue;
        name = json_object_get_string(r);
        if (json_object_get_string_len(r) > TOKEN_MAX_ROLE_BYTES ||
            strlen(name) != (size_t)json_object_get_string_len(r) ||
            mqp_identity_has_role(id, name))
            continue;
        id->roles[id->n_roles] = strdup(name);
        if (id->roles[id->n_roles] == NULL)
            return -1;
        id->n_roles++;
    }
    return 0;
}

/* obj.a.b, or NULL when any step is missing or not an object. */
static json_object *get_path2(json_object *obj, const char *a, const char *b)
{
    json_object *mid, *leaf;

    if (!json_object_object_get_ex(obj, a, &mid) || !json_object_is_type(mid, json_type_object) ||
        !json_object_object_get_ex(mid, b, &leaf))
        return NULL;
    return leaf;
}

static int collect_roles(struct mqp_identity *id, json_object *claims,
                         const struct mqp_issuer *issuer)
{
    const char *client = issuer->roles_client ? issuer->roles_client : issuer->audience;
    json_object *roles = NULL;

    id->roles = calloc(TOKEN_MAX_ROLES, sizeof(*id->roles));
    if (id->roles == NULL)
        return -1;
    json_object_object_get_ex(claims, "roles", &roles);
    if (add_roles(id, roles) != 0 || add_roles(id, get_path2(claims, "realm_access", "roles")))
        return -1;
    /* Keycloak: resource_access.<client>.roles holds the roles of one client. */
    if (client != NULL) {
        json_object *access = get_path2(claims, "resource_access", client), *client_roles;

        if (json_object_is_type(access, json_type_object) &&
            json_object_object_get_ex(access, "roles", &client_roles) &&
            add_roles(id, client_roles) != 0)
            return -1;
    }
    return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *copy;

    if (s == NULL)
        return NULL;
    copy = strdup(s);
    if (copy == NULL)
        *oom = true;
    return copy;
}

static enum mqp_token_status build_identity(const struct mqp_tenant *tenant,
                                            const struct mqp_issuer *issuer, json_object *claims,
                                            int64_t exp, struct mqp_identity **out, char *detail,
                                            size_t detail_len)
{
    enum mqp_token_status st = MQP_TOKEN_MALFORMED;
    struct mqp_identity *id = NULL;
    const char *sub, *sid, *jti;
    bool oom = false;

    if (mqp_claim_string(claims, "sub", &sub) != 0 || mqp_claim_string(claims, "sid", &sid) != 0 ||
        mqp_claim_string(claims, "jti", &jti) != 0) {
        mqp_errmsg(detail, detail_len, "\"sub\", \"sid\" and \"jti\" must be strings");
        goto out;
    }
    id = calloc(1, sizeof(*id));
    if (id == NULL) {
        mqp_errmsg(detail, detail_len, "out of memory");
        goto out;
    }
    id->kind = tenant != NULL ? MQP_IDENTITY_TENANT : MQP_IDENTITY_SERVICE;
    id->tenant = dup_or_null(tenant != NULL ? tenant->id : NULL, &oom);
    id->sub = dup_or_null(sub, &oom);
    id->sid = dup_or_null(sid, &oom);
    id->jti = dup_or_null(jti, &oom);
    id->exp = exp;
    id->claims = json_object_get(claims);
    if (oom || collect_roles(id, claims, issuer) != 0) {
        /* Refuse rather than admit an identity with roles missing. */
        mqp_errmsg(detail, detail_len, "out of memory");
        goto out;
    }
    *out = id;
    id = NULL;
    st = MQP_TOKEN_OK;
out:
    mqp_identity_free(id);
    return st;
}

/* The issuer that vouches for iss: a tenant's, else the service issuer. */
static const struct mqp_issuer *find_issuer(const struct mqp_config *cfg, const char *iss,
                                            const struct mqp_tenant **tenant)
{
    *tenant = mqp_config_tenant_by_issuer(cfg, iss);
    if (*tenant != NULL)
        return &(*tenant)->issuer;
    if (cfg->has_service && cfg->service.issuer != NULL && strcmp(cfg->service.issuer, iss) == 0)
        return &cfg->service;
    return NULL;
}

enum mqp_token_status mqp_token_verify(const struct mqp_config *cfg, const char *token, size_t len,
                                       int64_t now, struct mqp_identity **out, char *detail,
                                       size_t detail_len)
{
    enum mqp_token_status st = MQP_TOKEN_MALFORMED;
    size_t max_len = TOKEN_DEFAULT_MAX_BYTES;
    struct mqp_jwt jwt = {0};
    const struct mqp_tenant *tenant = NULL;
    const struct mqp_issuer *issuer;
    const char *iss;
    EVP_PKEY *key;
    int64_t exp = INT64_MAX;
    char err[160];

    *out = NULL;
    mqp_errmsg(detail, detail_len, "%s", "");
    if (token == NULL || cfg == NULL) {
        mqp_errmsg(detail, detail_len, token == NULL ? "no token" : "no configuration");
        goto out;
    }
    if (cfg->limits.max_token_bytes > 0)
        max_len = cfg->limits.max_token_bytes;
    if (len > max_len) {
        st = MQP_TOKEN_TOO_LARGE;
        mqp_errmsg(detail, detail_len, "token of %zu bytes exceeds %zu", len, max_len);
        goto out;
    }
    if (mqp_jwt_decode(token, len, max_len, &jwt, err, sizeof(err)) != 0) {
        mqp_errmsg(detail, detail_len, "%s", err);
        goto out;
    }
    /* RFC 8725 section 3.1: the algorithm comes from an allow-list, never from the token. */
    if (jwt.alg == MQP_ALG_UNKNOWN) {
        st = MQP_TOKEN_BAD_ALG;
        mqp_errmsg(detail, detail_len, "algorithm \"%.32s\" not accepted",
                   json_object_get_string(json_object_object_get(jwt.header, "alg")));
        goto out;
    }
    if (!typ_accepted(jwt.typ)) {
        mqp_errmsg(detail, detail_len, "\"typ\" %.32s is not an access token", jwt.typ);
        goto out;
    }
    if (mqp_claim_string(jwt.claims, "iss", &iss) != 0 || iss == NULL) {
        mqp_errmsg(detail, detail_len, "\"iss\" missing or not a string");
        goto out;
    }
    issuer = find_issuer(cfg, iss, &tenant);
    if (issuer == NULL) {
        st = MQP_TOKEN_UNKNOWN_ISSUER;
        mqp_errmsg(detail, detail_len, "no issuer \"%.64s\" configured", iss);
        goto out;
    }
    key = mqp_jwks_find(issuer->jwks, jwt.kid, jwt.alg);
    if (key == NULL) {
        st = MQP_TOKEN_UNKNOWN_KEY;
        mqp_errmsg(detail, detail_len, "no %s key with kid \"%.64s\" for issuer \"%.64s\"",
                   mqp_jws_alg_name(jwt.alg), jwt.kid ? jwt.kid : "(none)", iss);
        goto out;
    }
    if (mqp_jwt_verify(&jwt, key) != 0) {
        st = MQP_TOKEN_BAD_SIGNATURE;
        mqp_errmsg(detail, detail_len, "signature does not verify");
        goto out;
    }
    st = check_times(cfg, jwt.claims, now, &exp, detail, detail_len);
    if (st != MQP_TOKEN_OK)
        goto out;
    st = check_audience(jwt.claims, issuer->audience, detail, detail_len);
    if (st != MQP_TOKEN_OK)
        goto out;
    st = build_identity(tenant, issuer, jwt.claims, exp, out, detail, detail_len);
out:
    mqp_jwt_clear(&jwt);
    return st;
}

void mqp_identity_free(struct mqp_identity *id)
{
    if (id == NULL)
        return;
    free(id->tenant);
    for (size_t i = 0; i < id->n_roles; i++)
        free(id->roles[i]);
    free(id->roles);
    free(id->sub);
    free(id->sid);
    free(id->jti);
    json_object_put(id->claims);
    free(id);
}

bool mqp_identity_has_role(const struct mqp_identity *id, const char *role)
{
    if (id == NULL || role == NULL)
        return false;
    for (size_t i = 0; i < id->n_roles; i++) {
        if (strcmp(id->roles[i], role) == 0)
            return true;
    }
    return false;
}
