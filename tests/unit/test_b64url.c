/* Unit tests for core/b64url.c: RFC 4648 vectors, the URL alphabet, round trips, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "b64url.h"

static void check_encode(const char *plain, const char *expected)
{
    size_t len = 0;
    char *enc = mqp_b64url_encode(plain, strlen(plain), &len);

    assert_non_null(enc);
    assert_string_equal(enc, expected);
    assert_int_equal(len, strlen(expected));
    free(enc);
}

static void check_decode(const char *text, const char *expected)
{
    size_t len = 0;
    unsigned char *dec = mqp_b64url_decode(text, strlen(text), &len);

    assert_non_null(dec);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(dec, expected, len);
    assert_int_equal(dec[len], '\0');
    free(dec);
}

static void check_invalid(const char *text, size_t len)
{
    size_t out_len = 12345;

    assert_null(mqp_b64url_decode(text, len, &out_len));
}

/* RFC 4648 section 10 test vectors, without padding. */
static void test_rfc4648_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    static const char *const padded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    (void)state;

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        check_encode(plain[i], enc[i]);
        check_decode(enc[i], plain[i]);
        check_decode(padded[i], plain[i]);
    }
}

/* RFC 4648 section 5: 62 is '-' and 63 is '_', where standard base64 has '+' and '/'. */
static void test_url_alphabet(void **state)
{
    static const unsigned char bytes[] = {0xfb, 0xff, 0xbf, 0xfb, 0xef};
    size_t len;
    char *enc = mqp_b64url_encode(bytes, sizeof(bytes), &len);
    unsigned char *dec;
    (void)state;

    assert_non_null(enc);
    assert_string_equal(enc, "-_-_--8");
    dec = mqp_b64url_decode(enc, len, &len);
    assert_non_null(dec);
    assert_int_equal(len, sizeof(bytes));
    assert_memory_equal(dec, bytes, sizeof(bytes));
    free(dec);
    free(enc);
    /* The standard alphabet's '+' and '/' are not base64url. */
    check_invalid("+/+/", 4);
    check_invalid("ab+c", 4);
    check_invalid("ab/c", 4);
}

static void test_round_trips(void **state)
{
    unsigned char buf[300];
    (void)state;

    assert_int_equal(RAND_bytes(buf, sizeof(buf)), 1);
    for (size_t n = 0; n <= sizeof(buf); n++) {
        size_t enc_len = 99, dec_len = 99;
        char *enc = mqp_b64url_encode(buf, n, &enc_len);
        unsigned char *dec;

        assert_non_null(enc);
        /* Unpadded length: 4 characters per 3 bytes, then 2 or 3 for a final 1 or 2 bytes. */
        assert_int_equal(enc_len, n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0));
        assert_int_equal(strlen(enc), enc_len);
        assert_null(strpbrk(enc, "+/="));
        dec = mqp_b64url_decode(enc, enc_len, &dec_len);
        assert_non_null(dec);
        assert_int_equal(dec_len, n);
        if (n > 0)
            assert_memory_equal(dec, buf, n);
        free(dec);
        free(enc);
    }
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    check_invalid("Z", 1);        /* one character carries no whole byte */
    check_invalid("Zm9vY", 5);    /* same, after whole quanta */
    check_invalid("Zg=", 3);      /* padding that does not complete the quantum */
    check_invalid("Zg===", 5);    /* too much padding */
    check_invalid("Zm9=v", 5);    /* padding in the middle */
    check_invalid("====", 4);     /* padding only */
    check_invalid("Zm9vZg=x", 8); /* garbage after padding */
    check_invalid("Zm 9v", 5);    /* white space */
    check_invalid("Zm9v\n", 5);   /* trailing newline */
    check_invalid("Zm9v!", 5);    /* outside the alphabet */
    check_invalid("Zm\0v", 4);    /* NUL inside the length */
    check_invalid("Zm9v\xc3\xa9", 6);
    /* Non-zero unused bits (RFC 4648 section 3.5): "Zh" and "Zm9" are not canonical. */
    check_invalid("Zh", 2);
    check_invalid("Zm9", 3);
    check_invalid("Zh==", 4);
    assert_null(mqp_b64url_decode(NULL, 0, NULL));
}

static void test_empty_and_lengths(void **state)
{
    size_t len = 7;
    char *enc = mqp_b64url_encode(NULL, 0, &len);
    unsigned char *dec;
    (void)state;

    assert_non_null(enc);
    assert_string_equal(enc, "");
    assert_int_equal(len, 0);
    free(enc);
    assert_null(mqp_b64url_encode(NULL, 3, NULL));
    dec = mqp_b64url_decode("", 0, &len);
    assert_non_null(dec);
    assert_int_equal(len, 0);
    free(dec);
    /* Only len characters are read: a longer buffer is not a problem. */
    dec = mqp_b64url_decode("Zm9vYmFy", 4, &len);
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, "foo", 3);
    free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),   cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trips),       cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_empty_and_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
