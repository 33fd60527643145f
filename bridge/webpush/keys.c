/*
 * The key is kept as PKCS#8 PEM in the store's key-value table ("webpush", "vapid"), with the
 * time it was made in front ("<seconds>\n<PEM>"), so that a periodic rotation resumes its
 * schedule after a restart.
 */
#include "webpush/keys.h"

#include <inttypes.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_NS "webpush"
#define KV_KEY "vapid"

static int parse(const char *text, size_t len, EVP_PKEY **out, int64_t *created)
{
    const char *nl = memchr(text, '\n', len);
    char *end = NULL;
    long long t;
    BIO *bio;

    if (nl == NULL)
        return -1;
    t = strtoll(text, &end, 10);
    if (end != nl || t < 0)
        return -1;
    bio = BIO_new_mem_buf(nl + 1, (int)(len - (size_t)(nl + 1 - text)));
    if (bio == NULL)
        return -1;
    *out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (*out == NULL || !EVP_PKEY_is_a(*out, "EC")) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return -1;
    }
    *created = (int64_t)t;
    return 0;
}

static int save(struct store *st, EVP_PKEY *key, int64_t now)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char head[24], *pem, *buf = NULL;
    long pem_len;
    int hl, rc = -1;

    if (bio == NULL || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        goto out;
    pem_len = BIO_get_mem_data(bio, &pem);
    hl = snprintf(head, sizeof(head), "%" PRId64 "\n", now);
    buf = malloc((size_t)hl + (size_t)pem_len);
    if (buf == NULL)
        goto out;
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, pem, (size_t)pem_len);
    rc = st->ops->kv_put(st, KV_NS, KV_KEY, buf, (size_t)hl + (size_t)pem_len);
out:
    if (buf)
        OPENSSL_cleanse(buf, (size_t)hl + (size_t)pem_len);
    free(buf);
    BIO_free(bio);
    return rc;
}

int webpush_keys_load(struct store *st, int create, int64_t now, EVP_PKEY **out, int64_t *created,
                      char *err, size_t errlen)
{
    void *val = NULL;
    size_t len = 0;
    int found;

    *out = NULL;
    if (!create) {
        found = st->ops->kv_get(st, KV_NS, KV_KEY, &val, &len);
        if (found < 0) {
            snprintf(err, errlen, "cannot read the VAPID key from the store");
            return -1;
        }
        if (found == 1) {
            int rc = parse(val, len, out, created);

            OPENSSL_cleanse(val, len);
            free(val);
            if (rc != 0)
                snprintf(err, errlen, "the stored VAPID key is unreadable");
            return rc;
        }
    }
    *out = EVP_EC_gen("P-256");
    if (*out == NULL) {
        snprintf(err, errlen, "cannot generate a P-256 key");
        return -1;
    }
    if (save(st, *out, now) != 0) {
        EVP_PKEY_free(*out);
        *out = NULL;
        snprintf(err, errlen, "cannot write the VAPID key to the store");
        return -1;
    }
    *created = now;
    return 0;
}
