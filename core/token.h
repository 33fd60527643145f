/*
 * Bearer tokens: verify a JWT against the configured issuers and turn it into an identity.
 * The plugin (MQTT password) and the bridge (HTTP bearer) both call this, so they accept and
 * refuse exactly the same tokens.
 */
#ifndef MQP_TOKEN_H
#define MQP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stream.h"

enum mqp_token_status {
    MQP_TOKEN_OK = 0,
    MQP_TOKEN_MALFORMED,      /* not a JWS, bad base64url/JSON, missing or mistyped claim */
    MQP_TOKEN_TOO_LARGE,      /* over limits.max_token_bytes */
    MQP_TOKEN_BAD_ALG,        /* none, HS*, or any algorithm not accepted */
    MQP_TOKEN_UNKNOWN_ISSUER, /* iss names no tenant and not the service issuer */
    MQP_TOKEN_UNKNOWN_KEY,    /* no key in the issuer's JWKS fits kid and alg */
    MQP_TOKEN_BAD_SIGNATURE,
    MQP_TOKEN_EXPIRED,        /* exp in the past (beyond leeway), or missing when required */
    MQP_TOKEN_NOT_YET_VALID,  /* nbf or iat in the future (beyond leeway) */
    MQP_TOKEN_WRONG_AUDIENCE,
};

/* A short static description, e.g. "token expired". */
const char *mqp_token_status_str(enum mqp_token_status st);

enum mqp_identity_kind {
    MQP_IDENTITY_TENANT = 1,  /* signed by a tenant's issuer */
    MQP_IDENTITY_SERVICE = 2, /* signed by the service issuer, spans tenants */
};

/* What a verified token says about its holder. All strings owned by the identity. */
struct mqp_identity {
    enum mqp_identity_kind kind;
    char *tenant;        /* tenant id; NULL for service identities */
    char **roles;        /* roles, realm_access.roles, resource_access.<client>.roles, deduped */
    size_t n_roles;
    char *sub;           /* may be NULL */
    char *sid;           /* may be NULL */
    char *jti;           /* may be NULL */
    int64_t exp;         /* seconds since epoch; INT64_MAX when the token has none */
    json_object *claims; /* the verified claims (for subscriber criteria on claims) */
};

/*
 * Verify token (len bytes) at time now (seconds since epoch) against cfg, in this order:
 * size, JWS decoding, alg, "typ" (absent, or JWT / at+jwt with optional "application/",
 * any case: other JWT kinds such as secevent+jwt are MALFORMED), "iss" (a tenant's issuer,
 * else the service issuer), key by kid and alg, signature, exp/nbf/iat with leeway, aud.
 * On MQP_TOKEN_OK, *out is set (caller frees with mqp_identity_free()). On failure *out is
 * NULL; when detail is not NULL it gets a short human-readable explanation for logs (never
 * echo it to an unauthenticated peer verbatim). Roles: strings only, deduplicated, at most
 * 256 of at most 256 bytes; further ones are ignored.
 */
enum mqp_token_status mqp_token_verify(const struct mqp_config *cfg, const char *token, size_t len,
                                       int64_t now, struct mqp_identity **out, char *detail,
                                       size_t detail_len);

/*
 * True when token has the shape of a JWS (three base64url parts). The plugin uses it to tell
 * its own clients from those of another authentication method.
 */
bool mqp_token_looks_like_jwt(const char *token, size_t len);

void mqp_identity_free(struct mqp_identity *id);
bool mqp_identity_has_role(const struct mqp_identity *id, const char *role);

#endif
