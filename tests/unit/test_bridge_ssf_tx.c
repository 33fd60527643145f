/* The SSF transmitter's signing keys (bridge/ssf/tx_keys.c) and its streams in the store
 * (bridge/store/sqlite_ssf.c), on an in-memory SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "jwk.h"
#include "ssf/tx_keys.h"
#include "store/store.h"

#define T0 1700000000

static int setup(void **state)
{
    struct store *st = NULL;
    char err[200];

    assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof(err)), 0);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    store_close(*state);
    return 0;
}

static const char *kid_at(json_object *jwks, size_t i)
{
    json_object *keys, *kid;

    assert_true(json_object_object_get_ex(jwks, "keys", &keys));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(keys, i), "kid", &kid));
    return json_object_get_string(kid);
}

static size_t n_keys(json_object *jwks)
{
    json_object *keys;

    assert_true(json_object_object_get_ex(jwks, "keys", &keys));
    return json_object_array_length(keys);
}

static void test_first_start_makes_es256_key_kept_in_store(void **state)
{
    struct store *st = *state;
    struct ssf_tx_keys *k = NULL, *again = NULL;
    const char *kid = NULL, *kid2 = NULL;
    char err[200], *tp;
    EVP_PKEY *key;
    json_object *jwks, *d;

    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 3600, NULL, T0, &k, err, sizeof(err)), 0);
    key = ssf_tx_keys_current(k, &kid);
    assert_non_null(key);
    assert_int_equal(mqp_jws_alg_for_key(key), MQP_ALG_ES256);
    tp = mqp_jwk_thumbprint(key);
    assert_string_equal(kid, tp);
    free(tp);
    jwks = ssf_tx_keys_jwks(k, T0);
    assert_int_equal(n_keys(jwks), 1);
    assert_string_equal(kid_at(jwks, 0), kid);
    /* public only */
    assert_false(json_object_object_get_ex(
        json_object_array_get_idx(json_object_object_get(jwks, "keys"), 0), "d", &d));
    json_object_put(jwks);
    /* a second start finds the same key */
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 3600, NULL, T0 + 10, &again, err, sizeof(err)),
        0);
    ssf_tx_keys_current(again, &kid2);
    assert_string_equal(kid, kid2);
    ssf_tx_keys_free(again);
    ssf_tx_keys_free(k);
}

static void test_rotation_keeps_old_key_for_the_overlap(void **state)
{
    struct store *st = *state;
    struct ssf_tx_keys *k = NULL, *later = NULL;
    const char *kid = NULL, *kid2 = NULL;
    char err[200], old[64];
    json_object *jwks;

    assert_int_equal(ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, NULL, T0, &k, err, sizeof(err)),
                     0);
    ssf_tx_keys_current(k, &kid);
    snprintf(old, sizeof(old), "%s", kid);
    assert_int_equal(ssf_tx_keys_rotate(k, T0 + 50, err, sizeof(err)), 0);
    ssf_tx_keys_current(k, &kid2);
    assert_string_not_equal(old, kid2);
    jwks = ssf_tx_keys_jwks(k, T0 + 50);
    assert_int_equal(n_keys(jwks), 2);
    assert_string_equal(kid_at(jwks, 0), kid2); /* current first */
    assert_string_equal(kid_at(jwks, 1), old);
    json_object_put(jwks);
    assert_int_equal(ssf_tx_keys_count(k, T0 + 150), 2); /* the overlap's last second */
    assert_int_equal(ssf_tx_keys_count(k, T0 + 151), 1);
    /* a restart after the overlap drops the old key for good */
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, NULL, T0 + 151, &later, err, sizeof(err)),
        0);
    assert_int_equal(ssf_tx_keys_count(later, T0), 1);
    ssf_tx_keys_free(later);
    ssf_tx_keys_free(k);
}

static void test_rs256_and_algorithm_change(void **state)
{
    struct store *st = *state;
    struct ssf_tx_keys *k = NULL, *rsa = NULL;
    const char *kid = NULL;
    char err[200];
    EVP_PKEY *key;

    assert_int_equal(ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, NULL, T0, &k, err, sizeof(err)),
                     0);
    ssf_tx_keys_free(k);
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_RS256, 2048, 100, NULL, T0 + 1, &rsa, err, sizeof(err)), 0);
    key = ssf_tx_keys_current(rsa, &kid);
    assert_int_equal(mqp_jws_alg_for_key(key), MQP_ALG_RS256);
    assert_true(EVP_PKEY_get_bits(key) >= 2048);
    assert_int_equal(ssf_tx_keys_count(rsa, T0 + 1), 2); /* the EC key in its overlap */
    ssf_tx_keys_free(rsa);
}

static int count_visit(void *ctx, const struct store_ssf_stream *s)
{
    (void)s;
    (*(int *)ctx)++;
    return 0;
}

static void test_store_streams(void **state)
{
    struct store *st = *state;
    struct store_ssf_stream s = {.id = "s1",
                                 .tenant = "t",
                                 .aud = "rx",
                                 .config = "{}",
                                 .status = "enabled",
                                 .created_at = T0,
                                 .updated_at = T0},
                            got;
    int n = 0;

    assert_int_equal(st->ops->ssf_stream_put(st, &s), 0);
    assert_int_equal(st->ops->ssf_stream_get(st, "t", "s1", &got), 1);
    assert_string_equal(got.aud, "rx");
    assert_null(got.reason);
    store_ssf_stream_clear(&got);
    assert_int_equal(st->ops->ssf_stream_get(st, "u", "s1", &got), 0); /* another tenant's */
    s.status = "paused";
    s.reason = "why";
    assert_int_equal(st->ops->ssf_stream_put(st, &s), 0);
    assert_int_equal(st->ops->ssf_stream_get(st, "t", "s1", &got), 1);
    assert_string_equal(got.status, "paused");
    assert_string_equal(got.reason, "why");
    store_ssf_stream_clear(&got);
    assert_int_equal(st->ops->ssf_stream_each(st, "t", count_visit, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", "{\"format\":\"opaque\",\"id\":\"a\"}", 1),
                     0);
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", "{\"format\":\"opaque\",\"id\":\"a\"}", 0),
                     0);
    assert_int_equal(st->ops->ssf_subject_count(st, "s1"), 1);
    assert_int_equal(st->ops->ssf_verify_add(st, "s1", "st", T0 * 1000LL), 0);
    assert_int_equal(st->ops->ssf_verify_count(st, "s1"), 1);
    assert_int_equal(st->ops->ssf_subject_remove(st, "s1", "{\"id\":\"a\"}"), 0);
    assert_int_equal(st->ops->ssf_stream_delete(st, "u", "s1"), 0);
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 1);
    /* its subjects and verification requests went with it */
    assert_int_equal(st->ops->ssf_subject_count(st, "s1"), 0);
    assert_int_equal(st->ops->ssf_verify_count(st, "s1"), 0);
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 0);
}

/* An operator's key (ssf.transmitter.key_file) becomes the current one, once; the key the
 * bridge had made stays published for the overlap; another file later is a rotation again. */
static void test_configured_key(void **state)
{
    struct store *st = *state;
    struct ssf_tx_keys *k = NULL;
    EVP_PKEY *mine = EVP_EC_gen("P-256"), *next = EVP_EC_gen("P-256");
    const char *kid = NULL;
    char err[200];
    json_object *jwks;

    assert_int_equal(ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, NULL, T0, &k, err, sizeof(err)),
                     0);
    ssf_tx_keys_free(k);
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, mine, T0 + 1, &k, err, sizeof(err)), 0);
    assert_int_equal(EVP_PKEY_eq(ssf_tx_keys_current(k, &kid), mine), 1);
    jwks = ssf_tx_keys_jwks(k, T0 + 1);
    assert_int_equal(n_keys(jwks), 2); /* the made key is still in its overlap */
    json_object_put(jwks);
    ssf_tx_keys_free(k);
    /* the same file again: no rotation */
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, mine, T0 + 2, &k, err, sizeof(err)), 0);
    jwks = ssf_tx_keys_jwks(k, T0 + 2);
    assert_int_equal(n_keys(jwks), 2);
    json_object_put(jwks);
    ssf_tx_keys_free(k);
    /* a new file after the overlap: the new key and the previous file's */
    assert_int_equal(
        ssf_tx_keys_open(st, MQP_ALG_ES256, 2048, 100, next, T0 + 200, &k, err, sizeof(err)), 0);
    assert_int_equal(EVP_PKEY_eq(ssf_tx_keys_current(k, &kid), next), 1);
    jwks = ssf_tx_keys_jwks(k, T0 + 200);
    assert_int_equal(n_keys(jwks), 2);
    json_object_put(jwks);
    ssf_tx_keys_free(k);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_start_makes_es256_key_kept_in_store, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rotation_keeps_old_key_for_the_overlap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rs256_and_algorithm_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configured_key, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
