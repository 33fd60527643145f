/*
 * VAPID JWTs (RFC 8292), signed by core/'s JWS code, cached per push service origin.
 */
#include "webpush/vapid.h"

#include <ctype.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "b64url.h"
#include "jwk.h"
#include "jwt.h"

/* Push services are few (one per browser vendor): a small table is enough. */
#define CACHE_SLOTS 32

struct cached {
    char *aud;
    char *header; /* "vapid t=..., k=..." */
    int64_t exp;
};

struct webpush_vapid {
    pthread_mutex_t lock; /* the cache, and refs: used from the thread pool */
    unsigned refs;
    EVP_PKEY *key;
    char *subject;
    char *public_b64;
    unsigned ttl_s;
    struct cached cache[CACHE_SLOTS];
    unsigned next; /* slot to replace when full */
};

int webpush_vapid_subject_ok(const char *s)
{
    if (s == NULL)
        return 0;
    if (strncmp(s, "mailto:", 7) == 0)
        return strchr(s + 7, '@') != NULL && strpbrk(s, " \t\r\n") == NULL;
    if (strncmp(s, "https://", 8) == 0)
        return s[8] != '\0' && s[8] != '/' && strpbrk(s, " \t\r\n") == NULL;
    return 0;
}

int webpush_vapid_new(EVP_PKEY *key, const char *subject, unsigned ttl_s,
                      struct webpush_vapid **out, char *err, size_t errlen)
{
    struct webpush_vapid *v;
    unsigned char pub[65];
    size_t len = 0, blen = 0;

    *out = NULL;
    if (!webpush_vapid_subject_ok(subject)) {
        snprintf(err, errlen, "the VAPID subject must be a mailto: or https: URL");
        return -1;
    }
    if (ttl_s < 60 || ttl_s > 24 * 3600) {
        snprintf(err, errlen, "the VAPID JWT lifetime must be 60 s to 24 h");
        return -1;
    }
    if (mqp_jws_alg_for_key(key) != MQP_ALG_ES256 ||
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub),
                                        &len) != 1 ||
        len != sizeof(pub)) {
        snprintf(err, errlen, "the VAPID key must be a P-256 key pair");
        return -1;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        goto oom;
    v->subject = strdup(subject);
    v->public_b64 = mqp_b64url_encode(pub, sizeof(pub), &blen);
    if (v->subject == NULL || v->public_b64 == NULL)
        goto oom;
    if (pthread_mutex_init(&v->lock, NULL) != 0)
        goto oom;
    EVP_PKEY_up_ref(key);
    v->key = key;
    v->ttl_s = ttl_s;
    v->refs = 1;
    *out = v;
    return 0;
oom:
    if (v) {
        free(v->subject);
        free(v->public_b64);
        free(v);
    }
    snprintf(err, errlen, "out of memory");
    return -1;
}

struct webpush_vapid *webpush_vapid_ref(struct webpush_vapid *v)
{
    pthread_mutex_lock(&v->lock);
    v->refs++;
    pthread_mutex_unlock(&v->lock);
    return v;
}

void webpush_vapid_free(struct webpush_vapid *v)
{
    size_t i;
    unsigned left;

    if (v == NULL)
        return;
    pthread_mutex_lock(&v->lock);
    left = --v->refs;
    pthread_mutex_unlock(&v->lock);
    if (left > 0)
        return;
    pthread_mutex_destroy(&v->lock);
    for (i = 0; i < CACHE_SLOTS; i++) {
        free(v->cache[i].aud);
        free(v->cache[i].header);
    }
    EVP_PKEY_free(v->key);
    free(v->subject);
    free(v->public_b64);
    free(v);
}

const char *webpush_vapid_public_key(const struct webpush_vapid *v)
{
    return v->public_b64;
}

char *webpush_origin(const char *url)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL, *p;
    size_t n;

    if (h == NULL || curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto cleanup;
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        goto cleanup;
    /* an explicit port that is the scheme's default is not part of the origin */
    if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
        ((strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0) ||
         (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0))) {
        curl_free(port);
        port = NULL;
    }
    n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 5;
    out = malloc(n);
    if (out == NULL)
        goto cleanup;
    snprintf(out, n, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
    for (p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return out;
}

static char *make_header(struct webpush_vapid *v, const char *aud, int64_t exp)
{
    json_object *claims = json_object_new_object(), *hdr = json_object_new_object();
    char *jwt = NULL, *out = NULL;
    size_t n;

    if (claims == NULL || hdr == NULL)
        goto cleanup;
    json_object_object_add(claims, "aud", json_object_new_string(aud));
    json_object_object_add(claims, "exp", json_object_new_int64(exp));
    json_object_object_add(claims, "sub", json_object_new_string(v->subject));
    json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
    jwt = mqp_jwt_sign(claims, hdr, v->key);
    if (jwt == NULL)
        goto cleanup;
    /* RFC 8292 3: the "vapid" authentication scheme with its t and k parameters */
    n = strlen(jwt) + strlen(v->public_b64) + 16;
    out = malloc(n);
    if (out)
        snprintf(out, n, "vapid t=%s, k=%s", jwt, v->public_b64);
cleanup:
    free(jwt);
    json_object_put(claims);
    json_object_put(hdr);
    return out;
}

char *webpush_vapid_authorization(struct webpush_vapid *v, const char *endpoint, int64_t now,
                                  char *err, size_t errlen)
{
    char *aud = webpush_origin(endpoint), *hdr = NULL, *out = NULL;
    struct cached *slot = NULL;
    size_t i;

    if (aud == NULL) {
        snprintf(err, errlen, "not an http(s) URL");
        return NULL;
    }
    /* One signature per origin and lifetime, even when several threads miss at once: the
     * lock is held while signing, which happens a few times a day. */
    pthread_mutex_lock(&v->lock);
    for (i = 0; i < CACHE_SLOTS; i++)
        if (v->cache[i].aud && strcmp(v->cache[i].aud, aud) == 0) {
            slot = &v->cache[i];
            break;
        }
    /* reuse while more than a tenth of the lifetime is left, so that clock skew and transit
     * never make a push service see an expired token */
    if (slot && slot->exp - now > (int64_t)v->ttl_s / 10) {
        out = strdup(slot->header);
        goto out;
    }
    hdr = make_header(v, aud, now + v->ttl_s);
    if (hdr == NULL) {
        snprintf(err, errlen, "signing failed");
        goto out;
    }
    if (slot == NULL) {
        slot = &v->cache[v->next];
        v->next = (v->next + 1) % CACHE_SLOTS;
        free(slot->aud);
        slot->aud = aud;
        aud = NULL;
    }
    free(slot->header);
    slot->header = hdr;
    slot->exp = now + v->ttl_s;
    out = strdup(hdr);
out:
    pthread_mutex_unlock(&v->lock);
    free(aud);
    if (out == NULL && hdr != NULL)
        snprintf(err, errlen, "out of memory");
    return out;
}
