/*
 * The transmitter's keys are kept as one JSON document in the store's key-value table:
 * {"keys": [{"pem": "<PKCS#8 PEM>", "created": s, "retired": s}]}, current key last with
 * "retired" 0. The private keys are needed again after a restart (SETs are signed with the
 * current one); the retired ones only for their public half, but keeping the PEM keeps one
 * format.
 */
#include "ssf/tx_keys.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_NS "ssf-tx"
#define KV_KEY "keys"
#define MAX_KEYS                                                                                   \
    16 /* a retired key leaves after the overlap; rotations beyond this drop the oldest */

struct tx_key {
    EVP_PKEY *pkey; /* owned */
    char *kid;      /* owned, RFC 7638 thumbprint */
    int64_t created;
    int64_t retired; /* 0: the current key */
};

struct ssf_tx_keys {
    struct store *st; /* borrowed */
    enum mqp_jws_alg alg;
    unsigned rsa_bits;
    unsigned overlap_s;
    struct tx_key keys[MAX_KEYS]; /* oldest first; the current one last */
    size_t n;
};

static void key_clear(struct tx_key *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->kid);
    memset(k, 0, sizeof(*k));
}

static EVP_PKEY *generate(enum mqp_jws_alg alg, unsigned rsa_bits)
{
    if (alg == MQP_ALG_RS256)
        return EVP_RSA_gen(rsa_bits); /* e = 65537 */
    return EVP_EC_gen("P-256");
}

static EVP_PKEY *from_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    return key;
}

/* PKCS#8 PEM of key as a JSON string, or NULL. The PEM buffer is wiped. */
static json_object *to_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    json_object *s = NULL;
    char *pem;
    long len;

    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        len = BIO_get_mem_data(bio, &pem);
        s = json_object_new_string_len(pem, (int)len);
        OPENSSL_cleanse(pem, (size_t)len);
    }
    BIO_free(bio);
    return s;
}

static int save(struct ssf_tx_keys *k)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();
    const char *text;
    int rc = -1;

    if (doc == NULL || arr == NULL) {
        json_object_put(arr);
        goto out;
    }
    json_object_object_add(doc, "keys", arr);
    for (size_t i = 0; i < k->n; i++) {
        json_object *o = json_object_new_object(), *pem = to_pem(k->keys[i].pkey);

        if (o == NULL || pem == NULL) {
            json_object_put(o);
            json_object_put(pem);
            goto out;
        }
        json_object_object_add(o, "pem", pem);
        json_object_object_add(o, "created", json_object_new_int64(k->keys[i].created));
        json_object_object_add(o, "retired", json_object_new_int64(k->keys[i].retired));
        json_object_array_add(arr, o);
    }
    text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    rc = text ? k->st->ops->kv_put(k->st, KV_NS, KV_KEY, text, strlen(text)) : -1;
    if (text)
        OPENSSL_cleanse((void *)text, strlen(text));
out:
    json_object_put(doc);
    return rc;
}

/* Fill k->keys from the stored document; 0, or -1 when it cannot be read. */
static int load(struct ssf_tx_keys *k, const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *doc = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL, *arr;
    int rc = -1;

    json_tokener_free(tok);
    if (doc == NULL || !json_object_object_get_ex(doc, "keys", &arr) ||
        !json_object_is_type(arr, json_type_array))
        goto out;
    for (size_t i = 0; i < json_object_array_length(arr) && k->n < MAX_KEYS; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *pem, *created, *retired;
        struct tx_key *key = &k->keys[k->n];

        if (!json_object_object_get_ex(o, "pem", &pem) ||
            !json_object_object_get_ex(o, "created", &created) ||
            !json_object_object_get_ex(o, "retired", &retired))
            goto out;
        key->pkey = from_pem(json_object_get_string(pem));
        key->kid = key->pkey ? mqp_jwk_thumbprint(key->pkey) : NULL;
        key->created = json_object_get_int64(created);
        key->retired = json_object_get_int64(retired);
        k->n++;
        if (key->kid == NULL)
            goto out;
    }
    rc = 0;
out:
    json_object_put(doc);
    return rc;
}

/* Forget keys retired more than the overlap before now (and the oldest beyond room). */
static void prune(struct ssf_tx_keys *k, int64_t now, size_t room)
{
    size_t w = 0;

    for (size_t i = 0; i < k->n; i++) {
        struct tx_key *key = &k->keys[i];
        bool gone = key->retired != 0 &&
                    (now - key->retired > (int64_t)k->overlap_s || k->n - i > MAX_KEYS - room);

        if (gone)
            key_clear(key);
        else
            k->keys[w++] = *key;
    }
    for (size_t i = w; i < k->n; i++)
        memset(&k->keys[i], 0, sizeof(k->keys[i]));
    k->n = w;
}

static struct tx_key *current(const struct ssf_tx_keys *k)
{
    if (k->n == 0 || k->keys[k->n - 1].retired != 0)
        return NULL;
    return (struct tx_key *)&k->keys[k->n - 1];
}

/* Make key (a reference is taken) the current one, retiring the old one at now. */
static int install(struct ssf_tx_keys *k, EVP_PKEY *key, int64_t now, char *err, size_t errlen)
{
    struct tx_key fresh = {0}, *cur;

    fresh.kid = mqp_jwk_thumbprint(key);
    fresh.created = now;
    if (fresh.kid == NULL || EVP_PKEY_up_ref(key) != 1) {
        free(fresh.kid);
        snprintf(err, errlen, "cannot take the %s key", mqp_jws_alg_name(k->alg));
        return -1;
    }
    fresh.pkey = key;
    prune(k, now, 1);
    cur = current(k);
    if (cur)
        cur->retired = now;
    k->keys[k->n++] = fresh;
    if (save(k) != 0) {
        /* Back to how it was: the new key was never published. */
        key_clear(&k->keys[--k->n]);
        if (cur)
            cur->retired = 0;
        snprintf(err, errlen, "cannot write the SSF transmitter keys to the store");
        return -1;
    }
    return 0;
}

int ssf_tx_keys_rotate(struct ssf_tx_keys *k, int64_t now, char *err, size_t errlen)
{
    EVP_PKEY *key = generate(k->alg, k->rsa_bits);
    int rc;

    if (key == NULL) {
        snprintf(err, errlen, "cannot generate a %s key", mqp_jws_alg_name(k->alg));
        return -1;
    }
    rc = install(k, key, now, err, errlen);
    EVP_PKEY_free(key);
    return rc;
}

int ssf_tx_keys_open(struct store *st, enum mqp_jws_alg alg, unsigned rsa_bits, unsigned overlap_s,
                     EVP_PKEY *configured, int64_t now, struct ssf_tx_keys **out, char *err,
                     size_t errlen)
{
    struct ssf_tx_keys *k = calloc(1, sizeof(*k));
    struct tx_key *cur;
    void *val = NULL;
    size_t len = 0;
    int found, rc = -1;

    *out = NULL;
    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    k->st = st;
    k->alg = alg;
    k->rsa_bits = rsa_bits;
    k->overlap_s = overlap_s;
    found = st->ops->kv_get(st, KV_NS, KV_KEY, &val, &len);
    if (found < 0 || (found == 1 && load(k, val, len) != 0)) {
        snprintf(err, errlen, "cannot read the SSF transmitter keys from the store");
        goto out;
    }
    prune(k, now, 0);
    cur = current(k);
    /* A configured key, algorithm or RSA size that changed is a rotation: the old key keeps its
     * overlap, so SETs signed just before the restart still verify. */
    if (configured) {
        if (cur == NULL || EVP_PKEY_eq(cur->pkey, configured) != 1) {
            if (install(k, configured, now, err, errlen) != 0)
                goto out;
        }
    } else if (cur == NULL || mqp_jws_alg_for_key(cur->pkey) != alg ||
               (alg == MQP_ALG_RS256 && (unsigned)EVP_PKEY_get_bits(cur->pkey) != rsa_bits)) {
        if (ssf_tx_keys_rotate(k, now, err, errlen) != 0)
            goto out;
    }
    *out = k;
    k = NULL;
    rc = 0;
out:
    if (val) {
        OPENSSL_cleanse(val, len);
        free(val);
    }
    ssf_tx_keys_free(k);
    return rc;
}

void ssf_tx_keys_free(struct ssf_tx_keys *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++)
        key_clear(&k->keys[i]);
    free(k);
}

EVP_PKEY *ssf_tx_keys_current(const struct ssf_tx_keys *k, const char **kid)
{
    struct tx_key *cur = current(k);

    if (kid)
        *kid = cur ? cur->kid : NULL;
    return cur ? cur->pkey : NULL;
}

static bool published(const struct ssf_tx_keys *k, const struct tx_key *key, int64_t now)
{
    return key->retired == 0 || now - key->retired <= (int64_t)k->overlap_s;
}

size_t ssf_tx_keys_count(const struct ssf_tx_keys *k, int64_t now)
{
    size_t n = 0;

    for (size_t i = 0; i < k->n; i++)
        n += published(k, &k->keys[i], now);
    return n;
}

json_object *ssf_tx_keys_jwks(const struct ssf_tx_keys *k, int64_t now)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();

    if (doc == NULL || arr == NULL) {
        json_object_put(doc);
        json_object_put(arr);
        return NULL;
    }
    json_object_object_add(doc, "keys", arr);
    for (size_t i = k->n; i-- > 0;) {
        json_object *jwk;

        if (!published(k, &k->keys[i], now))
            continue;
        jwk = mqp_jwk_from_pkey(k->keys[i].pkey);
        if (jwk == NULL) {
            json_object_put(doc);
            return NULL;
        }
        json_object_array_add(arr, jwk);
    }
    return doc;
}
