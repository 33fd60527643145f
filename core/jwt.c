/*
 * Compact JWS (RFC 7515 section 7.1) for JWTs (RFC 7519): decode, verify and sign with RS256,
 * ES256 and EdDSA (RFC 7518 sections 3.3 and 3.4, RFC 8037 section 3.1).
 */
#include "errmsg.h"
#include "jwt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include "b64url.h"

#define JWT_MAX_DEPTH 32
#define ES256_COORD_BYTES 32
#define ES256_SIG_BYTES (2 * ES256_COORD_BYTES)
#define ED25519_SIG_BYTES 64

enum mqp_jws_alg mqp_jws_alg_parse(const char *name)
{
    /* RFC 7515 section 4.1.1: "alg" values are case-sensitive. */
    if (name == NULL)
        return MQP_ALG_UNKNOWN;
    if (strcmp(name, "RS256") == 0)
        return MQP_ALG_RS256;
    if (strcmp(name, "ES256") == 0)
        return MQP_ALG_ES256;
    if (strcmp(name, "EdDSA") == 0)
        return MQP_ALG_EDDSA;
    return MQP_ALG_UNKNOWN;
}

const char *mqp_jws_alg_name(enum mqp_jws_alg alg)
{
    switch (alg) {
    case MQP_ALG_RS256:
        return "RS256";
    case MQP_ALG_ES256:
        return "ES256";
    case MQP_ALG_EDDSA:
        return "EdDSA";
    case MQP_ALG_UNKNOWN:
        break;
    }
    return NULL;
}

enum mqp_jws_alg mqp_jws_alg_for_key(const EVP_PKEY *key)
{
    char group[64];

    if (key == NULL)
        return MQP_ALG_UNKNOWN;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return MQP_ALG_RS256;
    case EVP_PKEY_ED25519:
        return MQP_ALG_EDDSA;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1 &&
            strcmp(group, "prime256v1") == 0)
            return MQP_ALG_ES256;
        return MQP_ALG_UNKNOWN;
    default:
        return MQP_ALG_UNKNOWN;
    }
}

/*
 * Decode one base64url part and parse it as a JSON object. Strict JSON, valid UTF-8, nesting
 * at most JWT_MAX_DEPTH, and nothing but white space after the value.
 */
static json_object *decode_json_part(const char *part, size_t len, const char *what, char *err,
                                     size_t errlen)
{
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    json_tokener *tok = NULL;
    json_object *obj = NULL, *result = NULL;

    raw = mqp_b64url_decode(part, len, &raw_len);
    if (raw == NULL) {
        mqp_errmsg(err, errlen, "%s is not base64url", what);
        goto out;
    }
    tok = json_tokener_new_ex(JWT_MAX_DEPTH);
    if (tok == NULL) {
        mqp_errmsg(err, errlen, "out of memory");
        goto out;
    }
    /* STRICT refuses a second value after the first and consumes trailing white space. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, (const char *)raw, (int)raw_len);
    if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
        mqp_errmsg(err, errlen, "%s is not valid JSON (%s)", what,
                   json_tokener_error_desc(json_tokener_get_error(tok)));
        goto out;
    }
    /* json-c stops at a NUL byte and calls that success; whatever follows is not JSON. */
    if (json_tokener_get_parse_end(tok) != raw_len) {
        mqp_errmsg(err, errlen, "%s has trailing data", what);
        goto out;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        mqp_errmsg(err, errlen, "%s is not a JSON object", what);
        goto out;
    }
    result = obj;
    obj = NULL;
out:
    json_object_put(obj);
    if (tok != NULL)
        json_tokener_free(tok);
    free(raw);
    return result;
}

/* Borrowed string member or NULL; -1 when present with another type. */
static int header_string(json_object *header, const char *name, const char **out, char *err,
                         size_t errlen)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(header, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        mqp_errmsg(err, errlen, "header \"%s\" must be a string", name);
        return -1;
    }
    *out = json_object_get_string(v);
    return 0;
}

static int check_header(struct mqp_jwt *jwt, char *err, size_t errlen)
{
    const char *alg;

    /*
     * RFC 7515 section 4.1.11: a recipient must refuse a JWS whose "crit" lists extensions it
     * does not understand, and we understand none, so any "crit" is refused.
     */
    if (json_object_object_get_ex(jwt->header, "crit", NULL)) {
        mqp_errmsg(err, errlen, "header \"crit\" is not supported");
        return -1;
    }
    if (header_string(jwt->header, "alg", &alg, err, errlen) != 0 ||
        header_string(jwt->header, "kid", &jwt->kid, err, errlen) != 0 ||
        header_string(jwt->header, "typ", &jwt->typ, err, errlen) != 0)
        return -1;
    /* RFC 7515 section 4.1.1: "alg" must be present. */
    if (alg == NULL) {
        mqp_errmsg(err, errlen, "header has no \"alg\"");
        return -1;
    }
    jwt->alg = mqp_jws_alg_parse(alg);
    return 0;
}

int mqp_jwt_decode(const char *token, size_t len, size_t max_len, struct mqp_jwt *out, char *err,
                   size_t errlen)
{
    int rc = -1;
    const char *dot1, *dot2, *payload, *sig;
    size_t header_len, payload_len, sig_len;

    memset(out, 0, sizeof(*out));
    if (token == NULL) {
        mqp_errmsg(err, errlen, "no token");
        goto out;
    }
    if (len > max_len) {
        mqp_errmsg(err, errlen, "token of %zu bytes exceeds %zu", len, max_len);
        goto out;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        mqp_errmsg(err, errlen, "a compact JWS has exactly three parts");
        goto out;
    }
    header_len = (size_t)(dot1 - token);
    payload = dot1 + 1;
    payload_len = (size_t)(dot2 - payload);
    sig = dot2 + 1;
    sig_len = len - (size_t)(sig - token);
    out->header = decode_json_part(token, header_len, "header", err, errlen);
    if (out->header == NULL || check_header(out, err, errlen) != 0)
        goto out;
    out->claims = decode_json_part(payload, payload_len, "payload", err, errlen);
    if (out->claims == NULL)
        goto out;
    /* An empty signature decodes to zero bytes; verification then fails, as it must. */
    out->sig = mqp_b64url_decode(sig, sig_len, &out->sig_len);
    if (out->sig == NULL) {
        mqp_errmsg(err, errlen, "signature is not base64url");
        goto out;
    }
    out->signing_input_len = (size_t)(dot2 - token);
    out->signing_input = malloc(out->signing_input_len + 1);
    if (out->signing_input == NULL) {
        mqp_errmsg(err, errlen, "out of memory");
        goto out;
    }
    memcpy(out->signing_input, token, out->signing_input_len);
    out->signing_input[out->signing_input_len] = '\0';
    rc = 0;
out:
    if (rc != 0)
        mqp_jwt_clear(out);
    return rc;
}

void mqp_jwt_clear(struct mqp_jwt *jwt)
{
    if (jwt == NULL)
        return;
    json_object_put(jwt->header);
    json_object_put(jwt->claims);
    free(jwt->sig);
    free(jwt->signing_input);
    memset(jwt, 0, sizeof(*jwt));
}

/*
 * RFC 7518 section 3.4: JWS carries r||s as two 32-octet big-endian integers; OpenSSL wants
 * the DER ECDSA-Sig-Value. Caller frees *der with OPENSSL_free().
 */
static int es256_raw_to_der(const unsigned char *raw, unsigned char **der, int *der_len)
{
    int rc = -1;
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;

    *der = NULL;
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(raw, ES256_COORD_BYTES, NULL);
    s = BN_bin2bn(raw + ES256_COORD_BYTES, ES256_COORD_BYTES, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
        goto out;
    r = s = NULL;
    *der_len = i2d_ECDSA_SIG(sig, der);
    if (*der_len <= 0)
        goto out;
    rc = 0;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

/* The inverse: DER from OpenSSL to r||s, each zero-padded to 32 octets. */
static int es256_der_to_raw(const unsigned char *der, size_t der_len, unsigned char *raw)
{
    int rc = -1;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r, *s;

    if (sig == NULL)
        goto out;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, raw, ES256_COORD_BYTES) != ES256_COORD_BYTES ||
        BN_bn2binpad(s, raw + ES256_COORD_BYTES, ES256_COORD_BYTES) != ES256_COORD_BYTES)
        goto out;
    rc = 0;
out:
    ECDSA_SIG_free(sig);
    return rc;
}

/* A digest context set up for alg: SHA-256 for RS256/ES256, none (one-shot) for EdDSA. */
static EVP_MD_CTX *digest_ctx(enum mqp_jws_alg alg, EVP_PKEY *key, bool sign)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const char *md = alg == MQP_ALG_EDDSA ? NULL : "SHA256";
    int ok;

    if (ctx == NULL)
        return NULL;
    ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)
              : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL);
    /* RFC 7518 section 3.3: RS256 is RSASSA-PKCS1-v1_5, never PSS. */
    if (ok == 1 && alg == MQP_ALG_RS256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
    if (ok != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int mqp_jwt_verify(const struct mqp_jwt *jwt, EVP_PKEY *key)
{
    int rc = -1;
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *sig;
    size_t sig_len;
    int der_len;

    if (jwt == NULL || key == NULL || jwt->alg == MQP_ALG_UNKNOWN ||
        mqp_jws_alg_for_key(key) != jwt->alg || jwt->sig == NULL)
        goto out;
    sig = jwt->sig;
    sig_len = jwt->sig_len;
    if (jwt->alg == MQP_ALG_ES256) {
        /* A DER signature in place of r||s is a different encoding: refuse it. */
        if (sig_len != ES256_SIG_BYTES || es256_raw_to_der(sig, &der, &der_len) != 0)
            goto out;
        sig = der;
        sig_len = (size_t)der_len;
    } else if (jwt->alg == MQP_ALG_EDDSA && sig_len != ED25519_SIG_BYTES) {
        goto out;
    }
    ctx = digest_ctx(jwt->alg, key, false);
    if (ctx == NULL)
        goto out;
    if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jwt->signing_input,
                         jwt->signing_input_len) == 1)
        rc = 0;
out:
    /* A refused signature leaves reasons on OpenSSL's queue; the broker thread must not pile
     * them up. */
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}

/*
 * ES256 signs a SHA-256 digest with an EVP_PKEY_CTX; making that context (provider lookups,
 * the key's parameters) costs about as much as the signature itself, so each thread keeps one
 * for the last key it signed with. The context holds a reference to its key, so a cached key
 * cannot be freed and its address reused while it is cached.
 */
struct es256_cache {
    EVP_PKEY *key;
    EVP_PKEY_CTX *ctx;
};

static pthread_key_t es256_tls;
static pthread_once_t es256_once = PTHREAD_ONCE_INIT;
static int es256_tls_ok;

static void es256_cache_free(void *p)
{
    struct es256_cache *c = p;

    EVP_PKEY_CTX_free(c->ctx);
    EVP_PKEY_free(c->key);
    free(c);
}

static void es256_tls_init(void)
{
    es256_tls_ok = pthread_key_create(&es256_tls, es256_cache_free) == 0;
}

static EVP_PKEY_CTX *es256_sign_ctx(EVP_PKEY *key)
{
    struct es256_cache *c;

    if (pthread_once(&es256_once, es256_tls_init) != 0 || !es256_tls_ok)
        return NULL;
    c = pthread_getspecific(es256_tls);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL || pthread_setspecific(es256_tls, c) != 0) {
            free(c);
            return NULL;
        }
    }
    if (c->key != key) {
        EVP_PKEY_CTX_free(c->ctx);
        EVP_PKEY_free(c->key);
        c->key = NULL;
        c->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (c->ctx == NULL || EVP_PKEY_sign_init(c->ctx) != 1 || EVP_PKEY_up_ref(key) != 1) {
            EVP_PKEY_CTX_free(c->ctx);
            c->ctx = NULL;
            return NULL;
        }
        c->key = key;
    }
    return c->ctx;
}

/* RFC 7518 section 3.4: ECDSA over SHA-256 of data; DER out. */
static int es256_sign_der(EVP_PKEY *key, const void *data, size_t len, unsigned char *der,
                          size_t *der_len)
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_PKEY_CTX *ctx = es256_sign_ctx(key);

    if (ctx == NULL || EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != sizeof(md))
        return -1;
    return EVP_PKEY_sign(ctx, der, der_len, md, sizeof(md)) == 1 ? 0 : -1;
}

int mqp_jws_sign_raw(EVP_PKEY *key, const void *data, size_t len, unsigned char **sig,
                     size_t *sig_len)
{
    int rc = -1;
    enum mqp_jws_alg alg = mqp_jws_alg_for_key(key);
    EVP_MD_CTX *ctx = NULL;
    unsigned char *buf = NULL, der[80];
    size_t buf_len = 0, der_len = sizeof(der);

    *sig = NULL;
    *sig_len = 0;
    if (alg == MQP_ALG_UNKNOWN || (data == NULL && len > 0))
        goto out;
    if (alg == MQP_ALG_ES256) {
        buf = malloc(ES256_SIG_BYTES);
        if (buf == NULL || es256_sign_der(key, data, len, der, &der_len) != 0 ||
            es256_der_to_raw(der, der_len, buf) != 0)
            goto out;
        buf_len = ES256_SIG_BYTES;
    } else {
        ctx = digest_ctx(alg, key, true);
        if (ctx == NULL || EVP_DigestSign(ctx, NULL, &buf_len, data, len) != 1)
            goto out;
        buf = malloc(buf_len);
        if (buf == NULL || EVP_DigestSign(ctx, buf, &buf_len, data, len) != 1)
            goto out;
    }
    *sig = buf;
    *sig_len = buf_len;
    buf = NULL;
    rc = 0;
out:
    ERR_clear_error();
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* base64url of obj serialised without white space. Caller frees with free(). */
static char *b64_json(json_object *obj)
{
    size_t len;
    const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);

    if (text == NULL)
        return NULL;
    len = strlen(text);
    return mqp_b64url_encode(text, len, NULL);
}

static json_object *build_header(json_object *header_extra, enum mqp_jws_alg alg)
{
    json_object *header = json_object_new_object(), *v;

    if (header == NULL)
        return NULL;
    v = json_object_new_string(mqp_jws_alg_name(alg));
    if (v == NULL || json_object_object_add(header, "alg", v) != 0)
        goto fail;
    if (json_object_is_type(header_extra, json_type_object)) {
        json_object_object_foreach(header_extra, name, value)
        {
            /* The key decides the algorithm; a caller cannot make the header lie about it. */
            if (strcmp(name, "alg") == 0)
                continue;
            if (json_object_object_add(header, name, json_object_get(value)) != 0) {
                json_object_put(value);
                goto fail;
            }
        }
    }
    return header;
fail:
    json_object_put(header);
    return NULL;
}

/* h64.p64.signature, or NULL; h64 and p64 are borrowed. */
static char *compact(EVP_PKEY *key, const char *h64, const char *p64)
{
    size_t input_len = strlen(h64) + 1 + strlen(p64), sig_len;
    char *input = malloc(input_len + 1), *s64 = NULL, *token = NULL;
    unsigned char *sig = NULL;

    if (input == NULL)
        goto out;
    snprintf(input, input_len + 1, "%s.%s", h64, p64);
    if (mqp_jws_sign_raw(key, input, input_len, &sig, &sig_len) != 0)
        goto out;
    s64 = mqp_b64url_encode(sig, sig_len, NULL);
    if (s64 == NULL)
        goto out;
    token = malloc(input_len + 1 + strlen(s64) + 1);
    if (token != NULL)
        sprintf(token, "%s.%s", input, s64);
out:
    free(input);
    free(sig);
    free(s64);
    return token;
}

char *mqp_jws_sign_text(EVP_PKEY *key, json_object *header_extra, const char *payload, size_t len)
{
    enum mqp_jws_alg alg = mqp_jws_alg_for_key(key);
    json_object *header = NULL;
    char *h64 = NULL, *p64 = NULL, *token = NULL;

    if (alg == MQP_ALG_UNKNOWN || payload == NULL)
        goto out;
    header = build_header(header_extra, alg);
    h64 = header ? b64_json(header) : NULL;
    p64 = mqp_b64url_encode(payload, len, NULL);
    if (h64 && p64)
        token = compact(key, h64, p64);
out:
    json_object_put(header);
    free(h64);
    free(p64);
    return token;
}

char *mqp_jwt_sign(json_object *claims, json_object *header_extra, EVP_PKEY *key)
{
    const char *text;

    if (!json_object_is_type(claims, json_type_object))
        return NULL;
    text = json_object_to_json_string_ext(claims,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return text ? mqp_jws_sign_text(key, header_extra, text, strlen(text)) : NULL;
}
