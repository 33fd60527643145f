/*
 * Compact JWS / JWT (RFC 7515, RFC 7519): split, decode, verify and sign.
 * Policy (which issuer, which claims) lives in token.c; this module only does JOSE.
 */
#ifndef MQP_JWT_H
#define MQP_JWT_H

#include <stddef.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "jwk.h"

/* A JWS split into its parts. All members are owned by the struct. */
struct mqp_jwt {
    json_object *header;  /* decoded protected header */
    json_object *claims;  /* decoded payload (must be a JSON object) */
    enum mqp_jws_alg alg; /* from header; MQP_ALG_UNKNOWN when not one we accept */
    const char *kid;      /* borrowed from header, may be NULL */
    const char *typ;      /* borrowed from header, may be NULL */
    unsigned char *sig;   /* raw signature bytes (ES256: r||s, 64 bytes) */
    size_t sig_len;
    char *signing_input; /* "<b64 header>.<b64 payload>", NUL-terminated */
    size_t signing_input_len;
};

/*
 * Decode a compact JWS of len bytes (not NUL-terminated necessarily). Refuses more than
 * max_len bytes, anything but three base64url parts, non-object header or payload, JSON that
 * is not strict RFC 8259 in UTF-8 or has trailing data, JSON nested deeper than 32, a header
 * without a string "alg", a non-string "kid"/"typ", and any "crit" header. An "alg" we do
 * not accept still decodes (alg MQP_ALG_UNKNOWN), as does an empty signature; neither ever
 * verifies. Returns 0 and fills *out (free with mqp_jwt_clear(); *out is zeroed on error),
 * or -1 with a message in err. Does NOT verify the signature.
 */
int mqp_jwt_decode(const char *token, size_t len, size_t max_len, struct mqp_jwt *out, char *err,
                   size_t errlen);
void mqp_jwt_clear(struct mqp_jwt *jwt);

/*
 * Verify the signature with key, which must fit jwt->alg (mqp_jws_alg_for_key()). Signature
 * sizes are exact: ES256 and EdDSA 64 bytes, RS256 the modulus size. Returns 0 when valid,
 * -1 otherwise (also for MQP_ALG_UNKNOWN and a NULL key). Leaves OpenSSL's error queue empty.
 */
int mqp_jwt_verify(const struct mqp_jwt *jwt, EVP_PKEY *key);

/*
 * Sign claims (an object) with key, a private key, as a compact JWS. header_extra may be
 * NULL or an object whose members are added to the protected header ("typ", "kid", ...);
 * "alg" is set from the key and cannot be overridden. Neither object is consumed.
 * Returns a NUL-terminated token (caller frees with free()) or NULL.
 */
char *mqp_jwt_sign(json_object *claims, json_object *header_extra, EVP_PKEY *key);

/*
 * The same over a payload that is already text (len bytes, signed as it is: for claims the
 * caller made and serialised itself, such as a SET kept in an outbox). Caller frees; NULL on
 * failure. Thread-safe: ES256 keeps one signing context per thread for the last key used.
 */
char *mqp_jws_sign_text(EVP_PKEY *key, json_object *header_extra, const char *payload, size_t len);

/*
 * Raw JWS signature over data (ES256 gives r||s, 64 bytes, RFC 7518 section 3.4).
 * On success returns 0 and *sig (caller frees with free()) of *sig_len bytes.
 */
int mqp_jws_sign_raw(EVP_PKEY *key, const void *data, size_t len, unsigned char **sig,
                     size_t *sig_len);

#endif
