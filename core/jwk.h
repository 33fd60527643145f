/*
 * JSON Web Keys (RFC 7517) and key sets, mapped to OpenSSL EVP_PKEY.
 * Supported: RSA (>= 2048 bits), EC P-256, OKP Ed25519. Private members are never read
 * from a key set meant for verification.
 */
#ifndef MQP_JWK_H
#define MQP_JWK_H

#include <stddef.h>
#include <json-c/json.h>
#include <openssl/evp.h>

/* JOSE signature algorithms mqpush accepts; anything else (none, HS*, PS*) is refused. */
enum mqp_jws_alg {
    MQP_ALG_UNKNOWN = 0,
    MQP_ALG_RS256,
    MQP_ALG_ES256,
    MQP_ALG_EDDSA,
};

/* "RS256" -> MQP_ALG_RS256 ...; anything not accepted -> MQP_ALG_UNKNOWN. */
enum mqp_jws_alg mqp_jws_alg_parse(const char *name);
/* Returns a static string ("RS256", "ES256", "EdDSA") or NULL. */
const char *mqp_jws_alg_name(enum mqp_jws_alg alg);
/* The algorithm a key type implies (RSA -> RS256, P-256 -> ES256, Ed25519 -> EdDSA). */
enum mqp_jws_alg mqp_jws_alg_for_key(const EVP_PKEY *key);

struct mqp_jwks; /* opaque, immutable once parsed */

/*
 * Parse a JWKS object ({"keys": [...]}, at most 64 keys). Keys of unsupported types are
 * skipped: other "kty" values ("oct" included), curves other than P-256 and Ed25519, "use"
 * other than "sig", "key_ops" without "verify". A key that claims a supported type but is
 * malformed is an error: missing "kty"/"crv", members of the wrong type or not base64url, RSA
 * outside 2048..8192 bits, P-256 coordinates not 32 bytes or not on the curve, Ed25519 keys
 * not 32 bytes. On error returns -1 and writes a message (naming keys[i]) to err. On success
 * *out is owned by the caller (free with mqp_jwks_free()).
 */
int mqp_jwks_parse(json_object *jwks, struct mqp_jwks **out, char *err, size_t errlen);
/* Same, reading the JSON from a file of at most 1 MiB (strict JSON, UTF-8). */
int mqp_jwks_load_file(const char *path, struct mqp_jwks **out, char *err, size_t errlen);
void mqp_jwks_free(struct mqp_jwks *jwks);
size_t mqp_jwks_count(const struct mqp_jwks *jwks);

/*
 * Find the verification key for a token header. kid may be NULL: then the set must hold
 * exactly one key usable with alg. A key whose type does not fit alg, or whose JWK "alg"
 * names another algorithm, never matches (this is what stops HS/RS confusion).
 * Returns a borrowed key (valid while the set lives) or NULL.
 */
EVP_PKEY *mqp_jwks_find(const struct mqp_jwks *jwks, const char *kid, enum mqp_jws_alg alg);

/*
 * Public JWK of key, with "kid" set to its RFC 7638 thumbprint and "alg"/"use": "sig".
 * Returns a new object (caller frees with json_object_put()) or NULL.
 */
json_object *mqp_jwk_from_pkey(EVP_PKEY *key);

/* RFC 7638 thumbprint (base64url of SHA-256). Caller frees with free(); NULL on error. */
char *mqp_jwk_thumbprint(EVP_PKEY *key);

#endif
