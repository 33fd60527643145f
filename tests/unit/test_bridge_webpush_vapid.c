/*
 * VAPID (RFC 8292): the JWT's header, claims and signature checked with core/'s verifier, the
 * audience as the endpoint's origin, reuse per origin until near expiry, refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>

#include "jwt.h"
#include "webpush/vapid.h"

static void test_origin(void **state)
{
    static const char *const cases[][2] = {
        {"https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com"},
        {"https://Push.Example:443/x?y=1", "https://push.example"},
        {"https://push.example:8443/x", "https://push.example:8443"},
        {"http://127.0.0.1:8080/p", "http://127.0.0.1:8080"},
        {"http://127.0.0.1:80/p", "http://127.0.0.1"},
        {"https://[::1]:9/x", "https://[::1]:9"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *o = webpush_origin(cases[i][0]);

        assert_non_null(o);
        assert_string_equal(o, cases[i][1]);
        free(o);
    }
    assert_null(webpush_origin("ftp://push.example/x"));
    assert_null(webpush_origin("not a url"));
    assert_null(webpush_origin(""));
}

static void test_subject(void **state)
{
    (void)state;
    assert_true(webpush_vapid_subject_ok("mailto:ops@example.com"));
    assert_true(webpush_vapid_subject_ok("https://example.com/contact"));
    assert_false(webpush_vapid_subject_ok("mailto:nobody"));
    assert_false(webpush_vapid_subject_ok("http://example.com"));
    assert_false(webpush_vapid_subject_ok("https://"));
    assert_false(webpush_vapid_subject_ok("mailto:a@b c"));
    assert_false(webpush_vapid_subject_ok(NULL));
}

/* "vapid t=<jwt>, k=<key>" -> the decoded JWT (verified) and k. */
static void parse(const char *h, EVP_PKEY *key, struct mqp_jwt *jwt, char *k, size_t kcap)
{
    const char *t = strstr(h, "t="), *comma = strstr(h, ", k=");
    char err[128];

    assert_true(strncmp(h, "vapid t=", 8) == 0);
    assert_non_null(t);
    assert_non_null(comma);
    assert_int_equal(mqp_jwt_decode(t + 2, (size_t)(comma - t - 2), 8192, jwt, err, sizeof(err)),
                     0);
    assert_int_equal(jwt->alg, MQP_ALG_ES256);
    assert_int_equal(jwt->sig_len, 64);
    assert_int_equal(mqp_jwt_verify(jwt, key), 0);
    snprintf(k, kcap, "%s", comma + 4);
}

static void test_jwt(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct webpush_vapid *v = NULL;
    struct mqp_jwt jwt;
    char err[128], k[128], *h;
    json_object *x;

    (void)state;
    assert_int_equal(
        webpush_vapid_new(key, "mailto:ops@example.com", 12 * 3600, &v, err, sizeof(err)), 0);
    assert_int_equal(strlen(webpush_vapid_public_key(v)), 87); /* 65 bytes in base64url */
    h = webpush_vapid_authorization(v, "https://push.example/send/1", 1000000, err, sizeof(err));
    assert_non_null(h);
    parse(h, key, &jwt, k, sizeof(k));
    assert_string_equal(k, webpush_vapid_public_key(v));
    assert_string_equal(jwt.typ, "JWT");
    assert_true(json_object_object_get_ex(jwt.claims, "aud", &x));
    assert_string_equal(json_object_get_string(x), "https://push.example");
    assert_true(json_object_object_get_ex(jwt.claims, "exp", &x));
    assert_int_equal(json_object_get_int64(x), 1000000 + 12 * 3600);
    assert_true(json_object_object_get_ex(jwt.claims, "sub", &x));
    assert_string_equal(json_object_get_string(x), "mailto:ops@example.com");
    assert_int_equal(json_object_object_length(jwt.claims), 3);
    mqp_jwt_clear(&jwt);
    free(h);
    webpush_vapid_free(v);
    EVP_PKEY_free(key);
}

static void test_reuse_per_origin(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct webpush_vapid *v = NULL;
    char err[128], *a, *b, *c, *d, *e;
    const unsigned ttl = 3600;

    (void)state;
    assert_int_equal(webpush_vapid_new(key, "https://example.com", ttl, &v, err, sizeof(err)), 0);
    a = webpush_vapid_authorization(v, "https://push.example/a", 5000, err, sizeof(err));
    b = webpush_vapid_authorization(v, "https://push.example/b", 5000 + ttl / 2, err, sizeof(err));
    c = webpush_vapid_authorization(v, "https://other.example/a", 5000, err, sizeof(err));
    d = webpush_vapid_authorization(v, "https://push.example/a", 5000 + ttl - ttl / 20, err,
                                    sizeof(err));
    e = webpush_vapid_authorization(v, "ftp://push.example/a", 5000, err, sizeof(err));
    assert_non_null(a);
    assert_string_equal(a, b);     /* same origin, early: reused */
    assert_string_not_equal(a, c); /* another origin */
    assert_string_not_equal(a, d); /* close to expiry: a new one */
    assert_null(e);
    free(a);
    free(b);
    free(c);
    free(d);
    webpush_vapid_free(v);
    EVP_PKEY_free(key);
}

struct racer {
    struct webpush_vapid *v;
    char *got[50];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    char err[128];

    for (int i = 0; i < 50; i++)
        r->got[i] = webpush_vapid_authorization(r->v, "https://push.example.net/x", 1000000, err,
                                                sizeof(err));
    return NULL;
}

/* From the thread pool: threads that miss the cache together still share one JWT, and a
 * reference keeps the signer alive after its owner let go (a rotation during a send). */
static void test_threads_and_references(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct webpush_vapid *v = NULL;
    struct racer r[4];
    pthread_t t[4];
    char err[128];

    (void)state;
    assert_int_equal(webpush_vapid_new(key, "mailto:ops@example.com", 3600, &v, err, sizeof(err)),
                     0);
    for (int i = 0; i < 4; i++) {
        r[i].v = v;
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 50; k++) {
            assert_non_null(r[i].got[k]);
            assert_string_equal(r[i].got[k], r[0].got[0]);
        }
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 50; k++)
            free(r[i].got[k]);
    webpush_vapid_ref(v);
    webpush_vapid_free(v);
    assert_non_null(webpush_vapid_public_key(v)); /* still referenced once */
    webpush_vapid_free(v);
    EVP_PKEY_free(key);
}

static void test_refusals(void **state)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    struct webpush_vapid *v = NULL;
    char err[128];

    (void)state;
    assert_int_equal(webpush_vapid_new(ed, "mailto:a@b.c", 3600, &v, err, sizeof(err)), -1);
    assert_int_equal(webpush_vapid_new(ec, "mailto:a@b.c", 25 * 3600, &v, err, sizeof(err)), -1);
    assert_int_equal(webpush_vapid_new(ec, "mailto:a@b.c", 59, &v, err, sizeof(err)), -1);
    assert_int_equal(webpush_vapid_new(ec, "a@b.c", 3600, &v, err, sizeof(err)), -1);
    assert_null(v);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin),   cmocka_unit_test(test_subject),
        cmocka_unit_test(test_jwt),      cmocka_unit_test(test_reuse_per_origin),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_threads_and_references),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
