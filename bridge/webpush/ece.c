/*
 * RFC 8291 / RFC 8188 encryption with OpenSSL 3: EVP keys for P-256 and ECDH, the HKDF KDF,
 * AES-128-GCM.
 */
#include "webpush/ece.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

/* A P-256 key from an encoded point (and the private scalar, when priv is not NULL). */
static EVP_PKEY *p256_key(const unsigned char *pub, size_t publen, const unsigned char *priv)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    BIGNUM *d = NULL;

    if (bld == NULL || ctx == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen))
        goto cleanup;
    if (priv && ((d = BN_bin2bn(priv, 32, NULL)) == NULL ||
                 !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
        goto cleanup;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0)
        key = NULL;
cleanup:
    BN_clear_free(d);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/*
 * The user agent's key as a peer for ECDH, given a key of the group (like, any P-256 key):
 * copying its parameters avoids building the group anew for every message. The point must
 * lie on the curve (RFC 8291 3.1, the invalid-curve attack): OpenSSL's decoding of the point
 * (EC_POINT_oct2point, through EVP_PKEY_set1_encoded_public_key) refuses one that does not,
 * and as P-256 has cofactor 1 that is the whole check (OpenSSL's full public key check, a
 * multiplication by the group order, would add nothing but time).
 */
static EVP_PKEY *peer_key(const unsigned char *pub, size_t len, EVP_PKEY *like)
{
    EVP_PKEY *key;

    if (len != WEBPUSH_KEY_LEN || pub[0] != 0x04)
        return NULL;
    key = EVP_PKEY_new();
    if (key == NULL || EVP_PKEY_copy_parameters(key, like) != 1 ||
        EVP_PKEY_set1_encoded_public_key(key, pub, len) != 1) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* Key generation from a context prepared once per thread (making one costs as much again as
 * the generation); freed when the thread ends. */
static pthread_key_t gen_key;
static pthread_once_t gen_once = PTHREAD_ONCE_INIT;
static int gen_ok;

static void gen_ctx_free(void *ctx)
{
    EVP_PKEY_CTX_free(ctx);
}

static void gen_init(void)
{
    gen_ok = pthread_key_create(&gen_key, gen_ctx_free) == 0;
}

static EVP_PKEY *p256_generate(void)
{
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *key = NULL;

    if (pthread_once(&gen_once, gen_init) != 0 || !gen_ok)
        return EVP_EC_gen("P-256");
    ctx = pthread_getspecific(gen_key);
    if (ctx == NULL) {
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1 ||
            pthread_setspecific(gen_key, ctx) != 0) {
            EVP_PKEY_CTX_free(ctx);
            return EVP_EC_gen("P-256");
        }
    }
    if (EVP_PKEY_keygen(ctx, &key) != 1)
        return NULL;
    return key;
}

int webpush_ece_valid_key(const unsigned char *key, size_t len)
{
    EVP_PKEY *like = p256_generate(), *k = like ? peer_key(key, len, like) : NULL;

    EVP_PKEY_free(k);
    EVP_PKEY_free(like);
    return k != NULL;
}

/* HKDF (RFC 5869) extract-then-expand of ikm with salt and info into out. */
static int hkdf(const unsigned char *salt, size_t saltlen, const unsigned char *ikm, size_t ikmlen,
                const unsigned char *info, size_t infolen, unsigned char *out, size_t outlen)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5];
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    params[4] = OSSL_PARAM_construct_end();
    ok = ctx && EVP_KDF_derive(ctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

static int ecdh(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char secret[32])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    size_t len = 32;
    /* peer_key() has checked the point */
    int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
             EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
             EVP_PKEY_derive(ctx, secret, &len) == 1 && len == 32;

    EVP_PKEY_CTX_free(ctx);
    return ok ? 0 : -1;
}

static EVP_PKEY *ephemeral(const struct webpush_ece_fixed *fixed)
{
    if (fixed) {
        /* the public point of the fixed scalar, for the key pair */
        EVP_PKEY *k = NULL;
        EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
        BIGNUM *d = BN_bin2bn(fixed->as_private, 32, NULL);
        unsigned char pub[WEBPUSH_KEY_LEN];

        if (pt && d && EC_POINT_mul(g, pt, d, NULL, NULL, NULL) == 1 &&
            EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) ==
                sizeof(pub))
            k = p256_key(pub, sizeof(pub), fixed->as_private);
        BN_clear_free(d);
        EC_POINT_free(pt);
        EC_GROUP_free(g);
        return k;
    }
    return p256_generate();
}

int webpush_ece_encrypt(const unsigned char *ua_public, const unsigned char *auth,
                        const void *plain, size_t len, size_t pad,
                        const struct webpush_ece_fixed *fixed, unsigned char **out, size_t *out_len,
                        char *err, size_t errlen)
{
    static const char info_key[] = "WebPush: info";               /* RFC 8291 3.4, with its NUL */
    static const char info_cek[] = "Content-Encoding: aes128gcm"; /* RFC 8188 2.2 */
    static const char info_nonce[] = "Content-Encoding: nonce";   /* RFC 8188 2.3 */
    unsigned char key_info[sizeof(info_key) + 2 * WEBPUSH_KEY_LEN], secret[32], ikm[32], cek[16],
        nonce[12], salt[WEBPUSH_SALT_LEN], as_public[WEBPUSH_KEY_LEN];
    EVP_PKEY *peer = NULL, *mine = NULL;
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *body = NULL, *rec = NULL;
    size_t as_len = 0, reclen = len + 1 + pad, total;
    int n, rc = -1;

    *out = NULL;
    *out_len = 0;
    if (len > WEBPUSH_MAX_PLAINTEXT || pad > WEBPUSH_MAX_PLAINTEXT - len) /* no wrap-around */
        return fail(err, errlen, "message too large for one push record");
    mine = ephemeral(fixed);
    if (mine == NULL)
        return fail(err, errlen, "cannot make the ephemeral key");
    peer = peer_key(ua_public, WEBPUSH_KEY_LEN, mine);
    if (peer == NULL) {
        fail(err, errlen, "p256dh is not a P-256 point");
        goto cleanup;
    }
    if (EVP_PKEY_get_octet_string_param(mine, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, as_public,
                                        sizeof(as_public), &as_len) != 1 ||
        as_len != WEBPUSH_KEY_LEN) {
        fail(err, errlen, "cannot make the ephemeral key");
        goto cleanup;
    }
    if (fixed)
        memcpy(salt, fixed->salt, sizeof(salt));
    else if (RAND_bytes(salt, sizeof(salt)) != 1) {
        fail(err, errlen, "no randomness");
        goto cleanup;
    }
    /* RFC 8291 3.3-3.4: IKM from the ECDH secret and the auth secret, bound to both keys */
    memcpy(key_info, info_key, sizeof(info_key));
    memcpy(key_info + sizeof(info_key), ua_public, WEBPUSH_KEY_LEN);
    memcpy(key_info + sizeof(info_key) + WEBPUSH_KEY_LEN, as_public, WEBPUSH_KEY_LEN);
    if (ecdh(mine, peer, secret) != 0 ||
        hkdf(auth, WEBPUSH_AUTH_LEN, secret, sizeof(secret), key_info, sizeof(key_info), ikm,
             sizeof(ikm)) != 0 ||
        hkdf(salt, sizeof(salt), ikm, sizeof(ikm), (const unsigned char *)info_cek,
             sizeof(info_cek), cek, sizeof(cek)) != 0 ||
        hkdf(salt, sizeof(salt), ikm, sizeof(ikm), (const unsigned char *)info_nonce,
             sizeof(info_nonce), nonce, sizeof(nonce)) != 0) {
        fail(err, errlen, "key derivation failed");
        goto cleanup;
    }
    /* RFC 8188 2: the only (and so last) record ends with the delimiter 2, then padding */
    rec = calloc(1, reclen);
    total = WEBPUSH_HEADER_LEN + reclen + WEBPUSH_TAG_LEN;
    body = malloc(total);
    if (rec == NULL || body == NULL) {
        fail(err, errlen, "out of memory");
        goto cleanup;
    }
    if (len)
        memcpy(rec, plain, len);
    rec[len] = 0x02;
    memcpy(body, salt, sizeof(salt));
    body[16] = (unsigned char)(WEBPUSH_RS >> 24);
    body[17] = (unsigned char)(WEBPUSH_RS >> 16);
    body[18] = (unsigned char)(WEBPUSH_RS >> 8);
    body[19] = (unsigned char)WEBPUSH_RS;
    body[20] = WEBPUSH_KEY_LEN;
    memcpy(body + 21, as_public, WEBPUSH_KEY_LEN);
    c = EVP_CIPHER_CTX_new();
    if (c == NULL || EVP_EncryptInit_ex2(c, EVP_aes_128_gcm(), cek, nonce, NULL) != 1 ||
        EVP_EncryptUpdate(c, body + WEBPUSH_HEADER_LEN, &n, rec, (int)reclen) != 1 ||
        (size_t)n != reclen || EVP_EncryptFinal_ex(c, body + WEBPUSH_HEADER_LEN + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, WEBPUSH_TAG_LEN,
                            body + WEBPUSH_HEADER_LEN + reclen) != 1) {
        fail(err, errlen, "encryption failed");
        goto cleanup;
    }
    *out = body;
    *out_len = total;
    body = NULL;
    rc = 0;
cleanup:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(ikm, sizeof(ikm));
    OPENSSL_cleanse(cek, sizeof(cek));
    OPENSSL_cleanse(nonce, sizeof(nonce));
    if (rec) {
        OPENSSL_cleanse(rec, reclen);
        free(rec);
    }
    free(body);
    EVP_CIPHER_CTX_free(c);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(peer);
    return rc;
}
