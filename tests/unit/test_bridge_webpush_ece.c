/*
 * Web Push message encryption (RFC 8291): the Appendix A example reproduced byte for byte,
 * fresh keys and salts per message, and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"
#include "webpush/ece.h"

/* RFC 8291, Appendix A. */
static const char PLAIN[] = "When I grow up, I want to be a watermelon";
static const char UA_PUBLIC[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
static const char AUTH[] = "BTBZMqHH6r4Tts7J_aSIgg";
static const char AS_PRIVATE[] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
static const char SALT[] = "DGv6ra1nlYgDCS1FRnbzlw";
static const char BODY[] =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS"
    "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_"
    "Qulcy4a-fN";

static unsigned char *dec(const char *s, size_t want)
{
    size_t n = 0;
    unsigned char *b = mqp_b64url_decode(s, strlen(s), &n);

    assert_non_null(b);
    assert_int_equal(n, want);
    return b;
}

static void test_rfc8291_example(void **state)
{
    unsigned char *ua = dec(UA_PUBLIC, 65), *auth = dec(AUTH, 16), *d = dec(AS_PRIVATE, 32),
                  *salt = dec(SALT, 16), *body = NULL;
    struct webpush_ece_fixed fixed = {d, salt};
    size_t len = 0, elen = 0;
    char err[128], *enc;

    (void)state;
    assert_int_equal(webpush_ece_encrypt(ua, auth, PLAIN, strlen(PLAIN), 0, &fixed, &body, &len,
                                         err, sizeof(err)),
                     0);
    enc = mqp_b64url_encode(body, len, &elen);
    assert_string_equal(enc, BODY);
    free(enc);
    free(body);
    free(ua);
    free(auth);
    free(d);
    free(salt);
}

static void test_fresh_key_and_salt(void **state)
{
    unsigned char *ua = dec(UA_PUBLIC, 65), *auth = dec(AUTH, 16), *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    char err[128];

    (void)state;
    assert_int_equal(webpush_ece_encrypt(ua, auth, "x", 1, 10, NULL, &a, &la, err, sizeof(err)), 0);
    assert_int_equal(webpush_ece_encrypt(ua, auth, "x", 1, 10, NULL, &b, &lb, err, sizeof(err)), 0);
    assert_int_equal(la, WEBPUSH_HEADER_LEN + 1 + 1 + 10 + WEBPUSH_TAG_LEN);
    assert_int_equal(la, lb);
    /* header: rs 4096, idlen 65, an uncompressed point */
    assert_memory_equal(a + 16, "\x00\x00\x10\x00\x41\x04", 6);
    assert_memory_not_equal(a, b, 16);                        /* salt */
    assert_memory_not_equal(a + 21, b + 21, WEBPUSH_KEY_LEN); /* ephemeral key */
    assert_true(webpush_ece_valid_key(a + 21, WEBPUSH_KEY_LEN));
    free(a);
    free(b);
    free(ua);
    free(auth);
}

static void test_refusals(void **state)
{
    unsigned char *ua = dec(UA_PUBLIC, 65), *auth = dec(AUTH, 16), *out = NULL, bad[65];
    static char big[WEBPUSH_MAX_PLAINTEXT + 1];
    size_t len = 0;
    char err[128];

    (void)state;
    memcpy(bad, ua, 65);
    bad[64] ^= 1; /* off the curve */
    assert_false(webpush_ece_valid_key(bad, 65));
    assert_int_equal(webpush_ece_encrypt(bad, auth, "x", 1, 0, NULL, &out, &len, err, sizeof(err)),
                     -1);
    assert_null(out);
    assert_false(webpush_ece_valid_key(ua, 64));
    bad[0] = 0x02; /* compressed form: not what PushSubscription hands out */
    assert_false(webpush_ece_valid_key(bad, 65));
    assert_true(webpush_ece_valid_key(ua, 65));
    memset(big, 'a', sizeof(big));
    assert_int_equal(
        webpush_ece_encrypt(ua, auth, big, sizeof(big), 0, NULL, &out, &len, err, sizeof(err)), -1);
    assert_int_equal(webpush_ece_encrypt(ua, auth, big, sizeof(big) - 10, 10, NULL, &out, &len, err,
                                         sizeof(err)),
                     -1);
    /* sizes whose sum wraps around are refused, not taken for a small message */
    assert_int_equal(webpush_ece_encrypt(ua, auth, big, 10, SIZE_MAX - 5, NULL, &out, &len, err,
                                         sizeof(err)),
                     -1);
    assert_int_equal(webpush_ece_encrypt(ua, auth, big, sizeof(big), SIZE_MAX - sizeof(big) + 3993,
                                         NULL, &out, &len, err, sizeof(err)),
                     -1);
    assert_null(out);
    assert_int_equal(
        webpush_ece_encrypt(ua, auth, big, sizeof(big) - 1, 0, NULL, &out, &len, err, sizeof(err)),
        0);
    assert_int_equal(len, 4096);
    free(out);
    free(ua);
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8291_example),
        cmocka_unit_test(test_fresh_key_and_salt),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
