/*
 * What wpbench sends: subscriptions as browsers hand them out, stream events of about 300
 * bytes, and one push request's worth of work per message. peer/wpbench.mjs builds the same
 * endpoints and events for npm web-push; keep the two in step.
 */
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "jwt.h"
#include "wpbench.h"

/* The push services browsers use, and one self-hosted service on a port of its own. */
static const char *const endpoint_fmt[5] = {
    "https://fcm.googleapis.com/fcm/send/%s",
    "https://updates.push.services.mozilla.com/wpush/v2/%s",
    "https://web.push.apple.com/%s",
    "https://wns2-par02p.notify.windows.com/w/?token=%s",
    "https://push.example.net:8443/push/%s",
};

#define SUBJECT "mailto:ops@example.com"

struct wpb_sub *wpb_subs_new(int n, int origins)
{
    struct wpb_sub *subs = calloc((size_t)n, sizeof(*subs)), *result = NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *d = NULL;
    unsigned char tok[72];
    char *tok64 = NULL;
    size_t len;
    int i;

    if (subs == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        struct wpb_sub *s = &subs[i];

        key = EVP_EC_gen("P-256");
        if (key == NULL ||
            EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, s->p256dh,
                                            sizeof(s->p256dh), &len) != 1 ||
            len != sizeof(s->p256dh) ||
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
            BN_bn2binpad(d, s->priv, sizeof(s->priv)) != sizeof(s->priv) ||
            RAND_bytes(s->auth, sizeof(s->auth)) != 1 || RAND_bytes(tok, sizeof(tok)) != 1)
            goto out;
        /* endpoints carry a long opaque token, 96 characters here */
        tok64 = mqp_b64url_encode(tok, sizeof(tok), &len);
        if (tok64 == NULL)
            goto out;
        snprintf(s->endpoint, sizeof(s->endpoint), endpoint_fmt[i % origins], tok64);
        free(tok64);
        tok64 = NULL;
        BN_clear_free(d);
        d = NULL;
        EVP_PKEY_free(key);
        key = NULL;
    }
    result = subs;
    subs = NULL;
out:
    free(tok64);
    BN_clear_free(d);
    EVP_PKEY_free(key);
    free(subs);
    return result;
}

void wpb_events_init(struct wpb_events *e, unsigned seed)
{
    e->rng = 0x9e3779b97f4a7c15ULL * (seed + 1);
    e->seq = 0;
}

uint64_t wpb_rand(struct wpb_events *e)
{
    /* xorshift64*: cheap, and the events need variety, not secrecy */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return e->rng * 0x2545f4914f6cdd1dULL;
}

size_t wpb_event_next(struct wpb_events *e, char *buf)
{
    static const char *const kinds[] = {"created", "updated", "shipped", "cancelled"};
    static const char *const status[] = {"pending", "paid", "packed", "shipped", "delivered"};
    static const char *const tier[] = {"basic", "silver", "gold"};
    static const char note[] = "Leave the parcel with the neighbour at number 12 if nobody "
                               "answers; the side gate is open from 8 to 18 on weekdays.";
    uint64_t r = wpb_rand(e), t = wpb_rand(e);
    int n;

    e->seq++;
    /* a UUIDv7-shaped id, a millisecond timestamp, a payload with a note of 5-75 bytes */
    n = snprintf(
        buf, WPB_EVENT_MAX,
        "{\"id\":\"%08x-%04x-7%03x-%04x-%012llx\","
        "\"type\":\"app/order.%s\",\"seq\":%llu,"
        "\"time\":\"2026-%02u-%02uT%02u:%02u:%02u.%03uZ\","
        "\"data\":{\"orderId\":\"ord_%010llu\",\"status\":\"%s\",\"items\":%u,"
        "\"total\":\"%u.%02u\","
        "\"customer\":{\"id\":\"cus_%08x\",\"tier\":\"%s\"},\"note\":\"%.*s\"}}",
        (unsigned)(t >> 32), (unsigned)(t >> 16) & 0xffff, (unsigned)t & 0xfff,
        0x8000 | ((unsigned)(r >> 48) & 0x3fff), (unsigned long long)(r & 0xffffffffffffULL),
        kinds[r % 4], (unsigned long long)e->seq, (unsigned)(1 + t % 12), (unsigned)(1 + t % 28),
        (unsigned)(t >> 8) % 24, (unsigned)(t >> 16) % 60, (unsigned)(t >> 24) % 60,
        (unsigned)(r >> 20) % 1000, (unsigned long long)(r % 10000000000ULL), status[(r >> 8) % 5],
        (unsigned)(1 + (r >> 12) % 9), (unsigned)(5 + (r >> 16) % 2000), (unsigned)(r >> 24) % 100,
        (unsigned)(r >> 32), tier[(r >> 36) % 3], (int)(5 + (r >> 40) % 71), note);
    return (size_t)n;
}

size_t wpb_message(struct webpush_vapid *v, const struct wpb_sub *s, const char *plain, size_t len,
                   int64_t now, size_t *auth_len, char *err, size_t errlen)
{
    unsigned char *body = NULL;
    size_t body_len = 0;
    char *auth;

    if (webpush_ece_encrypt(s->p256dh, s->auth, plain, len, 0, NULL, &body, &body_len, err,
                            errlen) != 0)
        return 0;
    free(body);
    auth = webpush_vapid_authorization(v, s->endpoint, now, err, errlen);
    if (auth == NULL)
        return 0;
    *auth_len = strlen(auth);
    free(auth);
    return body_len;
}

static int check_body(const struct wpb_sub *s, const char *plain, size_t len)
{
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    char err[256];
    int rc = -1;

    if (webpush_ece_encrypt(s->p256dh, s->auth, plain, len, 0, NULL, &a, &alen, err, sizeof(err)) !=
            0 ||
        webpush_ece_encrypt(s->p256dh, s->auth, plain, len, 0, NULL, &b, &blen, err, sizeof(err)) !=
            0) {
        fprintf(stderr, "wpbench: check: encryption failed: %s\n", err);
        goto out;
    }
    /* RFC 8188 2.1: salt, rs, idlen, keyid (the sender's point, RFC 8291 4); one record with
     * its delimiter and tag */
    if (alen != WEBPUSH_HEADER_LEN + len + 1 + WEBPUSH_TAG_LEN || blen != alen || a[16] != 0 ||
        a[17] != 0 || a[18] != 0x10 || a[19] != 0 || a[20] != WEBPUSH_KEY_LEN ||
        !webpush_ece_valid_key(a + 21, WEBPUSH_KEY_LEN) ||
        memcmp(a + 21, s->p256dh, WEBPUSH_KEY_LEN) == 0) {
        fprintf(stderr, "wpbench: check: the body's header is not RFC 8291's\n");
        goto out;
    }
    if (memcmp(a, b, WEBPUSH_SALT_LEN) == 0 || memcmp(a + 21, b + 21, WEBPUSH_KEY_LEN) == 0) {
        fprintf(stderr, "wpbench: check: two messages share a salt or an ephemeral key\n");
        goto out;
    }
    rc = 0;
out:
    free(a);
    free(b);
    return rc;
}

static int check_jwt(const char *hdr, EVP_PKEY *key, const char *pub, const char *origin,
                     int64_t exp)
{
    const char *t = hdr + strlen("vapid t="), *k = strstr(hdr, ", k=");
    struct mqp_jwt jwt;
    json_object *aud, *sub, *jexp;
    char err[256];
    int rc = -1;

    if (strncmp(hdr, "vapid t=", 8) != 0 || k == NULL || strcmp(k + 4, pub) != 0) {
        fprintf(stderr, "wpbench: check: not a VAPID header: %s\n", hdr);
        return -1;
    }
    if (mqp_jwt_decode(t, (size_t)(k - t), 4096, &jwt, err, sizeof(err)) != 0) {
        fprintf(stderr, "wpbench: check: the JWT does not decode: %s\n", err);
        return -1;
    }
    if (mqp_jwt_verify(&jwt, key) != 0)
        fprintf(stderr, "wpbench: check: the JWT signature does not verify\n");
    else if (!json_object_object_get_ex(jwt.claims, "aud", &aud) ||
             strcmp(json_object_get_string(aud), origin) != 0 ||
             !json_object_object_get_ex(jwt.claims, "sub", &sub) ||
             strcmp(json_object_get_string(sub), SUBJECT) != 0 ||
             !json_object_object_get_ex(jwt.claims, "exp", &jexp) ||
             json_object_get_int64(jexp) != exp)
        fprintf(stderr, "wpbench: check: the JWT claims are not aud, exp, sub as sent\n");
    else
        rc = 0;
    mqp_jwt_clear(&jwt);
    return rc;
}

int wpb_check(EVP_PKEY *vapid_key, const struct wpb_sub *s, enum wpb_vapid_mode mode)
{
    struct webpush_vapid *v = NULL;
    struct wpb_events ev;
    char plain[WPB_EVENT_MAX], err[256], *h1 = NULL, *h2 = NULL, *origin = NULL;
    /* the second call comes a second later (cached: same JWT) or a lifetime later (fresh) */
    int64_t now = 1800000000, later = now + (mode == WPB_VAPID_FRESH ? WPB_VAPID_TTL : 1);
    size_t len;
    int rc = -1;

    wpb_events_init(&ev, 12345);
    len = wpb_event_next(&ev, plain);
    if (check_body(s, plain, len) != 0)
        goto out;
    if (webpush_vapid_new(vapid_key, SUBJECT, WPB_VAPID_TTL, &v, err, sizeof(err)) != 0) {
        fprintf(stderr, "wpbench: check: %s\n", err);
        goto out;
    }
    origin = webpush_origin(s->endpoint);
    h1 = webpush_vapid_authorization(v, s->endpoint, now, err, sizeof(err));
    h2 = webpush_vapid_authorization(v, s->endpoint, later, err, sizeof(err));
    if (origin == NULL || h1 == NULL || h2 == NULL) {
        fprintf(stderr, "wpbench: check: no VAPID header for %s: %s\n", s->endpoint, err);
        goto out;
    }
    if (check_jwt(h1, vapid_key, webpush_vapid_public_key(v), origin, now + WPB_VAPID_TTL) != 0 ||
        check_jwt(h2, vapid_key, webpush_vapid_public_key(v), origin,
                  (mode == WPB_VAPID_FRESH ? later : now) + WPB_VAPID_TTL) != 0)
        goto out;
    if ((strcmp(h1, h2) == 0) != (mode == WPB_VAPID_CACHED)) {
        fprintf(stderr, "wpbench: check: the signer %s its JWT\n",
                mode == WPB_VAPID_CACHED ? "did not reuse" : "reused");
        goto out;
    }
    rc = 0;
out:
    free(h1);
    free(h2);
    free(origin);
    webpush_vapid_free(v);
    return rc;
}

static int put_b64(FILE *f, const char *name, const void *data, size_t len, const char *sep)
{
    size_t n;
    char *s = mqp_b64url_encode(data, len, &n);

    if (s == NULL)
        return -1;
    fprintf(f, "\"%s\":\"%s\"%s", name, s, sep);
    free(s);
    return 0;
}

int wpb_write_sample(const char *path, const struct wpb_sub *s)
{
    struct wpb_events ev;
    char plain[WPB_EVENT_MAX], err[256];
    unsigned char *body = NULL;
    size_t len, body_len = 0;
    FILE *f = NULL;
    int rc = -1;

    wpb_events_init(&ev, 777);
    len = wpb_event_next(&ev, plain);
    if (webpush_ece_encrypt(s->p256dh, s->auth, plain, len, 0, NULL, &body, &body_len, err,
                            sizeof(err)) != 0) {
        fprintf(stderr, "wpbench: sample: %s\n", err);
        goto out;
    }
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        goto out;
    }
    fputc('{', f);
    if (put_b64(f, "ua_private", s->priv, sizeof(s->priv), ",") != 0 ||
        put_b64(f, "p256dh", s->p256dh, sizeof(s->p256dh), ",") != 0 ||
        put_b64(f, "auth", s->auth, sizeof(s->auth), ",") != 0 ||
        put_b64(f, "plain", plain, len, ",") != 0 || put_b64(f, "body", body, body_len, "") != 0)
        goto out;
    fputs("}\n", f);
    rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = -1;
    free(body);
    return rc;
}
