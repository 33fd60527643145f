/*
 * JWK and JWKS (RFC 7517) to EVP_PKEY for RSA (RFC 7518 section 6.3), EC P-256 (RFC 7518
 * section 6.2) and Ed25519 (RFC 8037 section 2), and RFC 7638 thumbprints. Keys are built
 * through EVP_PKEY_fromdata so that no deprecated low-level key type is touched.
 */
#include "errmsg.h"
#include "jwk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include "b64url.h"

#define JWKS_MAX_KEYS 64
#define JWKS_MAX_FILE_BYTES (1024 * 1024)
#define JWKS_MAX_DEPTH 16
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define RSA_MAX_EXPONENT_BYTES 8
#define P256_COORD_BYTES 32
#define ED25519_KEY_BYTES 32

struct jwk_entry {
    EVP_PKEY *key;
    char *kid;                /* NULL when the JWK has none */
    enum mqp_jws_alg key_alg; /* what the key type implies */
    bool has_alg;             /* the JWK names an "alg" */
    enum mqp_jws_alg alg;     /* that "alg"; MQP_ALG_UNKNOWN when we do not accept it */
};

struct mqp_jwks {
    struct jwk_entry *keys;
    size_t n;
};

/* Outcome of parsing one JWK of a set. */
enum key_result {
    KEY_ERROR = -1,
    KEY_OK = 0,
    KEY_SKIP = 1,
};

/*
 * Optional string member: 0 and *out (borrowed, NULL when absent), or -1 when present with
 * another type.
 */
static int opt_string(json_object *obj, const char *name, const char **out, const char *where,
                      char *err, size_t errlen)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(obj, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        mqp_errmsg(err, errlen, "%s: \"%s\" must be a string", where, name);
        return -1;
    }
    *out = json_object_get_string(v);
    return 0;
}

/* Required base64url member, decoded. Caller frees *buf with free(). */
static int b64_member(json_object *jwk, const char *name, unsigned char **buf, size_t *len,
                      const char *where, char *err, size_t errlen)
{
    const char *text;

    *buf = NULL;
    if (opt_string(jwk, name, &text, where, err, errlen) != 0)
        return -1;
    if (text == NULL) {
        mqp_errmsg(err, errlen, "%s: missing \"%s\"", where, name);
        return -1;
    }
    *buf = mqp_b64url_decode(text, strlen(text), len);
    if (*buf == NULL) {
        mqp_errmsg(err, errlen, "%s: \"%s\" is not valid base64url", where, name);
        return -1;
    }
    return 0;
}

/* Build a public key of type (an OpenSSL key type name) from params. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

static enum key_result parse_rsa(json_object *jwk, EVP_PKEY **out, const char *where, char *err,
                                 size_t errlen)
{
    enum key_result rc = KEY_ERROR;
    unsigned char *n_buf = NULL, *e_buf = NULL;
    size_t n_len, e_len;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    int bits;

    if (b64_member(jwk, "n", &n_buf, &n_len, where, err, errlen) != 0 ||
        b64_member(jwk, "e", &e_buf, &e_len, where, err, errlen) != 0)
        goto out;
    if (n_len > RSA_MAX_BITS / 8 + 1 || e_len == 0 || e_len > RSA_MAX_EXPONENT_BYTES) {
        mqp_errmsg(err, errlen, "%s: RSA modulus or exponent out of range", where);
        goto out;
    }
    n = BN_bin2bn(n_buf, (int)n_len, NULL);
    e = BN_bin2bn(e_buf, (int)e_len, NULL);
    if (n == NULL || e == NULL) {
        mqp_errmsg(err, errlen, "%s: out of memory", where);
        goto out;
    }
    bits = BN_num_bits(n);
    /* NIST SP 800-131A: RSA below 2048 bits no longer gives adequate security. */
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        mqp_errmsg(err, errlen, "%s: RSA modulus has %d bits, %d to %d accepted", where, bits,
                   RSA_MIN_BITS, RSA_MAX_BITS);
        goto out;
    }
    if (!BN_is_odd(e) || BN_is_one(e)) {
        mqp_errmsg(err, errlen, "%s: RSA exponent must be odd and greater than 1", where);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (*out = pkey_from_params("RSA", bld)) == NULL) {
        mqp_errmsg(err, errlen, "%s: OpenSSL refused the RSA key", where);
        goto out;
    }
    rc = KEY_OK;
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(n_buf);
    free(e_buf);
    return rc;
}

/* EVP_PKEY_fromdata takes the point as given; the full public check proves it on the curve. */
static bool public_key_valid(EVP_PKEY *key)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    bool ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static enum key_result parse_ec(json_object *jwk, EVP_PKEY **out, const char *where, char *err,
                                size_t errlen)
{
    enum key_result rc = KEY_ERROR;
    unsigned char *x = NULL, *y = NULL;
    unsigned char point[1 + 2 * P256_COORD_BYTES];
    size_t x_len, y_len;
    OSSL_PARAM_BLD *bld = NULL;

    if (b64_member(jwk, "x", &x, &x_len, where, err, errlen) != 0 ||
        b64_member(jwk, "y", &y, &y_len, where, err, errlen) != 0)
        goto out;
    /* RFC 7518 section 6.2.1.2: coordinates are the full field size, 32 octets for P-256. */
    if (x_len != P256_COORD_BYTES || y_len != P256_COORD_BYTES) {
        mqp_errmsg(err, errlen, "%s: P-256 coordinates must be 32 bytes each", where);
        goto out;
    }
    point[0] = 0x04; /* SEC 1 section 2.3.3: uncompressed point */
    memcpy(point + 1, x, P256_COORD_BYTES);
    memcpy(point + 1 + P256_COORD_BYTES, y, P256_COORD_BYTES);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
        (*out = pkey_from_params("EC", bld)) == NULL || !public_key_valid(*out)) {
        EVP_PKEY_free(*out);
        *out = NULL;
        mqp_errmsg(err, errlen, "%s: EC point is not on P-256", where);
        goto out;
    }
    rc = KEY_OK;
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return rc;
}

static enum key_result parse_okp(json_object *jwk, EVP_PKEY **out, const char *where, char *err,
                                 size_t errlen)
{
    enum key_result rc = KEY_ERROR;
    unsigned char *x = NULL;
    size_t x_len;
    OSSL_PARAM_BLD *bld = NULL;

    if (b64_member(jwk, "x", &x, &x_len, where, err, errlen) != 0)
        goto out;
    if (x_len != ED25519_KEY_BYTES) {
        mqp_errmsg(err, errlen, "%s: Ed25519 public key must be 32 bytes", where);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, x_len) ||
        (*out = pkey_from_params("ED25519", bld)) == NULL) {
        mqp_errmsg(err, errlen, "%s: OpenSSL refused the Ed25519 key", where);
        goto out;
    }
    rc = KEY_OK;
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    return rc;
}

/* RFC 7517 section 4.3: a key whose "key_ops" lacks "verify" is not meant for us. */
static enum key_result check_key_ops(json_object *jwk, const char *where, char *err, size_t errlen)
{
    json_object *ops;

    if (!json_object_object_get_ex(jwk, "key_ops", &ops))
        return KEY_OK;
    if (!json_object_is_type(ops, json_type_array)) {
        mqp_errmsg(err, errlen, "%s: \"key_ops\" must be an array", where);
        return KEY_ERROR;
    }
    for (size_t i = 0; i < json_object_array_length(ops); i++) {
        json_object *op = json_object_array_get_idx(ops, i);
        if (json_object_is_type(op, json_type_string) &&
            strcmp(json_object_get_string(op), "verify") == 0)
            return KEY_OK;
    }
    return KEY_SKIP;
}

static enum key_result parse_key(json_object *jwk, struct jwk_entry *entry, const char *where,
                                 char *err, size_t errlen)
{
    const char *kty, *use, *kid, *alg, *crv;
    enum key_result rc;

    if (!json_object_is_type(jwk, json_type_object)) {
        mqp_errmsg(err, errlen, "%s: must be an object", where);
        return KEY_ERROR;
    }
    if (opt_string(jwk, "kty", &kty, where, err, errlen) != 0 ||
        opt_string(jwk, "use", &use, where, err, errlen) != 0 ||
        opt_string(jwk, "kid", &kid, where, err, errlen) != 0 ||
        opt_string(jwk, "alg", &alg, where, err, errlen) != 0 ||
        opt_string(jwk, "crv", &crv, where, err, errlen) != 0)
        return KEY_ERROR;
    if (kty == NULL || (crv == NULL && (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0))) {
        mqp_errmsg(err, errlen, "%s: missing \"%s\"", where, kty == NULL ? "kty" : "crv");
        return KEY_ERROR;
    }
    /* RFC 7517 section 4.2: "enc" keys (and any other use) never verify signatures. */
    if (use != NULL && strcmp(use, "sig") != 0)
        return KEY_SKIP;
    rc = check_key_ops(jwk, where, err, errlen);
    if (rc != KEY_OK)
        return rc;
    /*
     * "oct" (shared secrets) is skipped like every other type: HS* is never accepted. So are
     * curves other than P-256 and Ed25519 (X25519 only agrees keys; P-384, Ed448 unsupported).
     */
    if (strcmp(kty, "RSA") == 0)
        rc = parse_rsa(jwk, &entry->key, where, err, errlen);
    else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
        rc = parse_ec(jwk, &entry->key, where, err, errlen);
    else if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0)
        rc = parse_okp(jwk, &entry->key, where, err, errlen);
    else
        rc = KEY_SKIP;
    if (rc != KEY_OK)
        return rc;
    entry->key_alg = mqp_jws_alg_for_key(entry->key);
    entry->has_alg = alg != NULL;
    entry->alg = mqp_jws_alg_parse(alg);
    if (kid != NULL && (entry->kid = strdup(kid)) == NULL) {
        mqp_errmsg(err, errlen, "%s: out of memory", where);
        EVP_PKEY_free(entry->key);
        entry->key = NULL;
        return KEY_ERROR;
    }
    return KEY_OK;
}

int mqp_jwks_parse(json_object *jwks, struct mqp_jwks **out, char *err, size_t errlen)
{
    int rc = -1;
    struct mqp_jwks *set = NULL;
    json_object *keys;
    size_t n;

    *out = NULL;
    if (!json_object_is_type(jwks, json_type_object) ||
        !json_object_object_get_ex(jwks, "keys", &keys) ||
        !json_object_is_type(keys, json_type_array)) {
        mqp_errmsg(err, errlen, "a JWKS is an object with a \"keys\" array");
        goto out;
    }
    n = json_object_array_length(keys);
    if (n > JWKS_MAX_KEYS) {
        mqp_errmsg(err, errlen, "JWKS holds %zu keys, at most %d accepted", n, JWKS_MAX_KEYS);
        goto out;
    }
    set = calloc(1, sizeof(*set));
    if (set == NULL || (n > 0 && (set->keys = calloc(n, sizeof(*set->keys))) == NULL)) {
        mqp_errmsg(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char where[32];
        enum key_result kr;

        snprintf(where, sizeof(where), "keys[%zu]", i);
        kr = parse_key(json_object_array_get_idx(keys, i), &set->keys[set->n], where, err, errlen);
        if (kr == KEY_ERROR)
            goto out;
        if (kr == KEY_OK)
            set->n++;
    }
    *out = set;
    set = NULL;
    rc = 0;
out:
    /* Failed parses can leave reasons on OpenSSL's thread-local queue; the message says it. */
    ERR_clear_error();
    mqp_jwks_free(set);
    return rc;
}

/* Read at most limit bytes of path; more is an error. Caller frees *buf. */
static int read_file_limited(const char *path, size_t limit, char **buf, size_t *len, char *err,
                             size_t errlen)
{
    int rc = -1;
    FILE *f = NULL;
    char *data = NULL;
    size_t got;

    f = fopen(path, "rb");
    if (f == NULL) {
        mqp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    data = malloc(limit + 1);
    if (data == NULL) {
        mqp_errmsg(err, errlen, "%s: out of memory", path);
        goto out;
    }
    got = fread(data, 1, limit + 1, f);
    if (ferror(f)) {
        mqp_errmsg(err, errlen, "%s: read error", path);
        goto out;
    }
    if (got > limit) {
        mqp_errmsg(err, errlen, "%s: larger than %zu bytes", path, limit);
        goto out;
    }
    data[got] = '\0';
    *buf = data;
    *len = got;
    data = NULL;
    rc = 0;
out:
    free(data);
    if (f != NULL)
        fclose(f);
    return rc;
}

int mqp_jwks_load_file(const char *path, struct mqp_jwks **out, char *err, size_t errlen)
{
    int rc = -1;
    char *text = NULL;
    size_t len;
    json_tokener *tok = NULL;
    json_object *doc = NULL;
    char inner[200];

    *out = NULL;
    if (read_file_limited(path, JWKS_MAX_FILE_BYTES, &text, &len, err, errlen) != 0)
        goto out;
    tok = json_tokener_new_ex(JWKS_MAX_DEPTH);
    if (tok == NULL) {
        mqp_errmsg(err, errlen, "%s: out of memory", path);
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    doc = json_tokener_parse_ex(tok, text, (int)len);
    if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        enum json_tokener_error jerr = json_tokener_get_error(tok);

        mqp_errmsg(err, errlen, "%s: not valid JSON (%s at offset %zu)", path,
                   jerr == json_tokener_success ? "trailing data" : json_tokener_error_desc(jerr),
                   json_tokener_get_parse_end(tok));
        goto out;
    }
    if (mqp_jwks_parse(doc, out, inner, sizeof(inner)) != 0) {
        mqp_errmsg(err, errlen, "%s: %s", path, inner);
        goto out;
    }
    rc = 0;
out:
    json_object_put(doc);
    if (tok != NULL)
        json_tokener_free(tok);
    free(text);
    return rc;
}

void mqp_jwks_free(struct mqp_jwks *jwks)
{
    if (jwks == NULL)
        return;
    for (size_t i = 0; i < jwks->n; i++) {
        EVP_PKEY_free(jwks->keys[i].key);
        free(jwks->keys[i].kid);
    }
    free(jwks->keys);
    free(jwks);
}

size_t mqp_jwks_count(const struct mqp_jwks *jwks)
{
    return jwks != NULL ? jwks->n : 0;
}

static bool entry_fits(const struct jwk_entry *e, enum mqp_jws_alg alg)
{
    return e->key_alg == alg && (!e->has_alg || e->alg == alg);
}

EVP_PKEY *mqp_jwks_find(const struct mqp_jwks *jwks, const char *kid, enum mqp_jws_alg alg)
{
    EVP_PKEY *found = NULL;

    if (jwks == NULL || alg == MQP_ALG_UNKNOWN)
        return NULL;
    for (size_t i = 0; i < jwks->n; i++) {
        const struct jwk_entry *e = &jwks->keys[i];

        if (!entry_fits(e, alg))
            continue;
        if (kid != NULL) {
            if (e->kid != NULL && strcmp(e->kid, kid) == 0)
                return e->key;
            continue;
        }
        /* Without a kid, guessing between several candidates would be arbitrary. */
        if (found != NULL)
            return NULL;
        found = e->key;
    }
    return found;
}

/* The required public members of a key (RFC 7638 section 3.2), base64url-encoded. */
struct public_members {
    const char *kty;
    const char *crv; /* NULL for RSA */
    char *n, *e;     /* RSA */
    char *x, *y;     /* EC: x and y; OKP: x only */
};

static void public_members_clear(struct public_members *m)
{
    free(m->n);
    free(m->e);
    free(m->x);
    free(m->y);
    memset(m, 0, sizeof(*m));
}

static char *bn_param_b64(const EVP_PKEY *key, const char *name, int pad_to)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    char *text = NULL;
    int len;

    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
        goto out;
    len = pad_to > 0 ? pad_to : BN_num_bytes(bn);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL || BN_bn2binpad(bn, buf, len) != len)
        goto out;
    text = mqp_b64url_encode(buf, (size_t)len, NULL);
out:
    free(buf);
    BN_free(bn);
    return text;
}

static int public_members_get(EVP_PKEY *key, struct public_members *m)
{
    unsigned char raw[ED25519_KEY_BYTES];
    size_t raw_len = 0;

    memset(m, 0, sizeof(*m));
    switch (mqp_jws_alg_for_key(key)) {
    case MQP_ALG_RS256:
        m->kty = "RSA";
        m->n = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N, 0);
        m->e = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E, 0);
        if (m->n == NULL || m->e == NULL)
            goto fail;
        return 0;
    case MQP_ALG_ES256:
        m->kty = "EC";
        m->crv = "P-256";
        m->x = bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, P256_COORD_BYTES);
        m->y = bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, P256_COORD_BYTES);
        if (m->x == NULL || m->y == NULL)
            goto fail;
        return 0;
    case MQP_ALG_EDDSA:
        m->kty = "OKP";
        m->crv = "Ed25519";
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw),
                                            &raw_len) != 1 ||
            raw_len != ED25519_KEY_BYTES)
            goto fail;
        m->x = mqp_b64url_encode(raw, raw_len, NULL);
        if (m->x == NULL)
            goto fail;
        return 0;
    case MQP_ALG_UNKNOWN:
        break;
    }
fail:
    public_members_clear(m);
    ERR_clear_error();
    return -1;
}

/*
 * RFC 7638 section 3.2/3.3: only the required members, names in lexicographic order, no white
 * space. Base64url values need no JSON escaping, so printing them is the canonical form.
 */
static char *canonical_jwk(const struct public_members *m)
{
    char *buf = NULL;
    size_t cap;
    int len;

    cap = 64 + (m->n ? strlen(m->n) : 0) + (m->e ? strlen(m->e) : 0) + (m->x ? strlen(m->x) : 0) +
          (m->y ? strlen(m->y) : 0);
    buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    if (m->n != NULL)
        len = snprintf(buf, cap, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", m->e, m->n);
    else if (m->y != NULL)
        len = snprintf(buf, cap, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                       m->crv, m->x, m->y);
    else
        len = snprintf(buf, cap, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}", m->crv, m->x);
    if (len < 0 || (size_t)len >= cap) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *thumbprint_of(const struct public_members *m)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    char *canon = canonical_jwk(m);
    char *result = NULL;

    if (canon != NULL &&
        EVP_Digest(canon, strlen(canon), digest, &digest_len, EVP_sha256(), NULL) == 1)
        result = mqp_b64url_encode(digest, digest_len, NULL);
    free(canon);
    return result;
}

char *mqp_jwk_thumbprint(EVP_PKEY *key)
{
    struct public_members m;
    char *result;

    if (public_members_get(key, &m) != 0)
        return NULL;
    result = thumbprint_of(&m);
    public_members_clear(&m);
    return result;
}

static int add_string(json_object *obj, const char *name, const char *value)
{
    json_object *v = json_object_new_string(value);

    if (v == NULL || json_object_object_add(obj, name, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

json_object *mqp_jwk_from_pkey(EVP_PKEY *key)
{
    struct public_members m;
    json_object *jwk = NULL, *result = NULL;
    char *kid = NULL;

    if (public_members_get(key, &m) != 0)
        return NULL;
    kid = thumbprint_of(&m);
    jwk = json_object_new_object();
    if (kid == NULL || jwk == NULL || add_string(jwk, "kty", m.kty) != 0 ||
        (m.crv && add_string(jwk, "crv", m.crv) != 0) || (m.n && add_string(jwk, "n", m.n) != 0) ||
        (m.e && add_string(jwk, "e", m.e) != 0) || (m.x && add_string(jwk, "x", m.x) != 0) ||
        (m.y && add_string(jwk, "y", m.y) != 0) || add_string(jwk, "kid", kid) != 0 ||
        add_string(jwk, "use", "sig") != 0 ||
        add_string(jwk, "alg", mqp_jws_alg_name(mqp_jws_alg_for_key(key))) != 0)
        goto out;
    result = jwk;
    jwk = NULL;
out:
    json_object_put(jwk);
    free(kid);
    public_members_clear(&m);
    return result;
}
