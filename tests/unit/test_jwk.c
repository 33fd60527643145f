/*
 * Unit tests for core/jwk.c: JWKS parsing for each key type, refusals, skipped keys, key
 * selection, export and RFC 7638 thumbprints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "b64url.h"
#include "jwk.h"

/* RFC 7638 section 3.1: the example RSA key and its SHA-256 thumbprint. */
#define RFC7638_N                                                                                  \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP" \
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY" \
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f" \
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

struct keys {
    EVP_PKEY *rsa, *ec, *ed, *p384;
};

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return -1;
    k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    k->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    k->p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    *state = k;
    return k->rsa && k->ec && k->ed && k->p384 ? 0 : -1;
}

static int teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->ec);
    EVP_PKEY_free(k->ed);
    EVP_PKEY_free(k->p384);
    free(k);
    return 0;
}

static json_object *parse_json(const char *text)
{
    json_object *obj = json_tokener_parse(text);

    assert_non_null(obj);
    return obj;
}

/* {"keys":[jwk...]} from a NULL-terminated list of JWK objects (taken). */
static json_object *jwks_of(json_object *first, ...)
{
    json_object *doc = json_object_new_object(), *keys = json_object_new_array();
    va_list ap;

    va_start(ap, first);
    for (json_object *k = first; k != NULL; k = va_arg(ap, json_object *))
        json_object_array_add(keys, k);
    va_end(ap);
    json_object_object_add(doc, "keys", keys);
    return doc;
}

/* Parse doc (released), expecting success, and return the set. */
static struct mqp_jwks *parse_ok(json_object *doc)
{
    struct mqp_jwks *set = NULL;
    char err[256] = "";

    if (mqp_jwks_parse(doc, &set, err, sizeof(err)) != 0)
        fail_msg("parse failed: %s", err);
    json_object_put(doc);
    return set;
}

/* Parse doc (released), expecting failure with needle in the message. */
static void parse_fails(json_object *doc, const char *needle)
{
    struct mqp_jwks *set = (struct mqp_jwks *)&set;
    char err[256] = "";

    assert_int_equal(mqp_jwks_parse(doc, &set, err, sizeof(err)), -1);
    assert_null(set);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    json_object_put(doc);
}

static const char *kid_of(json_object *jwk)
{
    return json_object_get_string(json_object_object_get(jwk, "kid"));
}

static void check_type_round_trip(EVP_PKEY *key, enum mqp_jws_alg alg, const char *kty)
{
    json_object *jwk = mqp_jwk_from_pkey(key);
    struct mqp_jwks *set;
    EVP_PKEY *found;
    char *thumb, *thumb2;

    assert_non_null(jwk);
    assert_string_equal(json_object_get_string(json_object_object_get(jwk, "kty")), kty);
    assert_string_equal(json_object_get_string(json_object_object_get(jwk, "alg")),
                        mqp_jws_alg_name(alg));
    assert_string_equal(json_object_get_string(json_object_object_get(jwk, "use")), "sig");
    /* A public JWK carries no private member. */
    assert_false(json_object_object_get_ex(jwk, "d", NULL));
    thumb = mqp_jwk_thumbprint(key);
    assert_non_null(thumb);
    assert_string_equal(kid_of(jwk), thumb);
    set = parse_ok(jwks_of(json_object_get(jwk), NULL));
    assert_int_equal(mqp_jwks_count(set), 1);
    found = mqp_jwks_find(set, thumb, alg);
    assert_non_null(found);
    assert_int_equal(EVP_PKEY_eq(found, key), 1);
    assert_int_equal(mqp_jws_alg_for_key(found), alg);
    /* The parsed public key has the same thumbprint as the key pair it came from. */
    thumb2 = mqp_jwk_thumbprint(found);
    assert_non_null(thumb2);
    assert_string_equal(thumb2, thumb);
    free(thumb2);
    free(thumb);
    mqp_jwks_free(set);
    json_object_put(jwk);
}

static void test_each_key_type(void **state)
{
    struct keys *k = *state;

    check_type_round_trip(k->rsa, MQP_ALG_RS256, "RSA");
    check_type_round_trip(k->ec, MQP_ALG_ES256, "EC");
    check_type_round_trip(k->ed, MQP_ALG_EDDSA, "OKP");
}

static void test_rfc7638_thumbprint(void **state)
{
    struct mqp_jwks *set;
    EVP_PKEY *key;
    char *thumb;
    (void)state;

    set = parse_ok(parse_json("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\","
                              "\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}]}"));
    key = mqp_jwks_find(set, "2011-04-29", MQP_ALG_RS256);
    assert_non_null(key);
    thumb = mqp_jwk_thumbprint(key);
    assert_non_null(thumb);
    assert_string_equal(thumb, RFC7638_THUMBPRINT);
    free(thumb);
    mqp_jwks_free(set);
}

static void test_bad_curve(void **state)
{
    struct keys *k = *state;
    json_object *jwk;
    struct mqp_jwks *set;
    unsigned char *raw;
    char *y;
    size_t len;

    /* P-384 keys are neither exported nor used, and a P-384 JWK in a set is skipped. */
    assert_null(mqp_jwk_from_pkey(k->p384));
    assert_int_equal(mqp_jws_alg_for_key(k->p384), MQP_ALG_UNKNOWN);
    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_add(jwk, "crv", json_object_new_string("P-384"));
    set = parse_ok(jwks_of(jwk, NULL));
    assert_int_equal(mqp_jwks_count(set), 0);
    assert_null(mqp_jwks_find(set, NULL, MQP_ALG_ES256));
    mqp_jwks_free(set);

    /* A P-256 point that is not on the curve: flip the last bit of y. */
    jwk = mqp_jwk_from_pkey(k->ec);
    y = (char *)json_object_get_string(json_object_object_get(jwk, "y"));
    raw = mqp_b64url_decode(y, strlen(y), &len);
    assert_non_null(raw);
    assert_int_equal(len, 32);
    raw[31] ^= 1;
    y = mqp_b64url_encode(raw, len, NULL);
    json_object_object_add(jwk, "y", json_object_new_string(y));
    parse_fails(jwks_of(jwk, NULL), "not on P-256");
    free(raw);
    free(y);

    /* Coordinates of the wrong length. */
    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_add(jwk, "x", json_object_new_string("AAAA"));
    parse_fails(jwks_of(jwk, NULL), "32 bytes");

    /* EC and OKP keys must name their curve. */
    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_del(jwk, "crv");
    parse_fails(jwks_of(jwk, NULL), "crv");
    jwk = mqp_jwk_from_pkey(k->ed);
    json_object_object_add(jwk, "crv", json_object_new_int(25519));
    parse_fails(jwks_of(jwk, NULL), "crv");

    /* X25519 is a key agreement curve: skipped. */
    jwk = mqp_jwk_from_pkey(k->ed);
    json_object_object_add(jwk, "crv", json_object_new_string("X25519"));
    set = parse_ok(jwks_of(jwk, NULL));
    assert_int_equal(mqp_jwks_count(set), 0);
    mqp_jwks_free(set);

    /* Ed25519 public keys are exactly 32 bytes. */
    jwk = mqp_jwk_from_pkey(k->ed);
    json_object_object_add(jwk, "x",
                           json_object_new_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    parse_fails(jwks_of(jwk, NULL), "32 bytes");
}

static void test_short_rsa(void **state)
{
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    json_object *jwk;
    (void)state;

    assert_non_null(small);
    jwk = mqp_jwk_from_pkey(small);
    assert_non_null(jwk);
    parse_fails(jwks_of(jwk, NULL), "1024 bits");
    EVP_PKEY_free(small);
}

static void test_malformed_members(void **state)
{
    struct keys *k = *state;
    json_object *jwk;

    jwk = mqp_jwk_from_pkey(k->rsa);
    json_object_object_add(jwk, "n", json_object_new_string("abc$def"));
    parse_fails(jwks_of(jwk, NULL), "\"n\" is not valid base64url");

    jwk = mqp_jwk_from_pkey(k->rsa);
    json_object_object_add(jwk, "e", json_object_new_string("AQ+B"));
    parse_fails(jwks_of(jwk, NULL), "\"e\" is not valid base64url");

    jwk = mqp_jwk_from_pkey(k->rsa);
    json_object_object_del(jwk, "e");
    parse_fails(jwks_of(jwk, NULL), "missing \"e\"");

    jwk = mqp_jwk_from_pkey(k->rsa);
    json_object_object_add(jwk, "e", json_object_new_string("AAI")); /* 2: even */
    parse_fails(jwks_of(jwk, NULL), "exponent");

    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_add(jwk, "x", json_object_new_int(5));
    parse_fails(jwks_of(jwk, NULL), "\"x\" must be a string");

    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_add(jwk, "kid", json_object_new_int(5));
    parse_fails(jwks_of(jwk, NULL), "\"kid\" must be a string");

    jwk = mqp_jwk_from_pkey(k->ec);
    json_object_object_del(jwk, "kty");
    parse_fails(jwks_of(jwk, NULL), "missing \"kty\"");

    parse_fails(parse_json("{\"keys\":[42]}"), "keys[0]: must be an object");
    parse_fails(parse_json("{\"keys\":{}}"), "\"keys\" array");
    parse_fails(parse_json("[]"), "\"keys\" array");
    parse_fails(json_object_new_object(), "\"keys\" array");
}

static void test_skipped_keys(void **state)
{
    struct keys *k = *state;
    json_object *enc = mqp_jwk_from_pkey(k->rsa), *ops = mqp_jwk_from_pkey(k->ed);
    json_object *ops_ok = mqp_jwk_from_pkey(k->ec);
    struct mqp_jwks *set;

    json_object_object_add(enc, "use", json_object_new_string("enc"));
    json_object_object_add(ops, "key_ops", parse_json("[\"encrypt\"]"));
    json_object_object_add(ops_ok, "key_ops", parse_json("[\"sign\",\"verify\"]"));
    set = parse_ok(jwks_of(parse_json("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hmac\"}"),
                           parse_json("{\"kty\":\"unknown-type\"}"), enc, ops, ops_ok, NULL));
    /* Only the EC key with "verify" in key_ops remains. */
    assert_int_equal(mqp_jwks_count(set), 1);
    assert_null(mqp_jwks_find(set, "hmac", MQP_ALG_RS256));
    assert_null(mqp_jwks_find(set, NULL, MQP_ALG_RS256));
    assert_null(mqp_jwks_find(set, NULL, MQP_ALG_EDDSA));
    assert_non_null(mqp_jwks_find(set, NULL, MQP_ALG_ES256));
    mqp_jwks_free(set);
}

static void test_find(void **state)
{
    struct keys *k = *state;
    json_object *rsa = mqp_jwk_from_pkey(k->rsa), *ec = mqp_jwk_from_pkey(k->ec);
    json_object *rsa_other_alg = mqp_jwk_from_pkey(k->rsa), *ed = mqp_jwk_from_pkey(k->ed);
    char *rsa_kid = strdup(kid_of(rsa)), *ec_kid = strdup(kid_of(ec));
    struct mqp_jwks *set;

    json_object_object_add(rsa_other_alg, "alg", json_object_new_string("RS512"));
    json_object_object_add(rsa_other_alg, "kid", json_object_new_string("rs512"));
    json_object_object_del(ed, "kid");
    set = parse_ok(jwks_of(rsa, ec, rsa_other_alg, ed, NULL));
    assert_int_equal(mqp_jwks_count(set), 4);
    assert_int_equal(EVP_PKEY_eq(mqp_jwks_find(set, rsa_kid, MQP_ALG_RS256), k->rsa), 1);
    assert_int_equal(EVP_PKEY_eq(mqp_jwks_find(set, ec_kid, MQP_ALG_ES256), k->ec), 1);
    /* The key type must fit the algorithm, whatever the kid says. */
    assert_null(mqp_jwks_find(set, rsa_kid, MQP_ALG_ES256));
    assert_null(mqp_jwks_find(set, ec_kid, MQP_ALG_RS256));
    assert_null(mqp_jwks_find(set, ec_kid, MQP_ALG_UNKNOWN));
    /* A JWK that names another "alg" never matches. */
    assert_null(mqp_jwks_find(set, "rs512", MQP_ALG_RS256));
    assert_null(mqp_jwks_find(set, "no-such-kid", MQP_ALG_RS256));
    /* Without a kid: exactly one usable key, or nothing. */
    assert_int_equal(EVP_PKEY_eq(mqp_jwks_find(set, NULL, MQP_ALG_ES256), k->ec), 1);
    assert_int_equal(EVP_PKEY_eq(mqp_jwks_find(set, NULL, MQP_ALG_EDDSA), k->ed), 1);
    assert_int_equal(EVP_PKEY_eq(mqp_jwks_find(set, NULL, MQP_ALG_RS256), k->rsa), 1);
    /* The Ed25519 key has no kid, so a kid never selects it. */
    assert_null(mqp_jwks_find(set, "", MQP_ALG_EDDSA));
    assert_null(mqp_jwks_find(NULL, NULL, MQP_ALG_ES256));
    mqp_jwks_free(set);

    /* Two candidates without a kid are ambiguous. */
    set = parse_ok(jwks_of(mqp_jwk_from_pkey(k->ec), mqp_jwk_from_pkey(k->ec), NULL));
    assert_int_equal(mqp_jwks_count(set), 2);
    assert_null(mqp_jwks_find(set, NULL, MQP_ALG_ES256));
    assert_non_null(mqp_jwks_find(set, ec_kid, MQP_ALG_ES256));
    mqp_jwks_free(set);
    free(rsa_kid);
    free(ec_kid);
}

static void test_alg_names(void **state)
{
    struct keys *k = *state;

    assert_int_equal(mqp_jws_alg_parse("RS256"), MQP_ALG_RS256);
    assert_int_equal(mqp_jws_alg_parse("ES256"), MQP_ALG_ES256);
    assert_int_equal(mqp_jws_alg_parse("EdDSA"), MQP_ALG_EDDSA);
    assert_int_equal(mqp_jws_alg_parse("rs256"), MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jws_alg_parse("none"), MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jws_alg_parse("HS256"), MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jws_alg_parse("PS256"), MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jws_alg_parse(NULL), MQP_ALG_UNKNOWN);
    assert_string_equal(mqp_jws_alg_name(MQP_ALG_EDDSA), "EdDSA");
    assert_null(mqp_jws_alg_name(MQP_ALG_UNKNOWN));
    assert_int_equal(mqp_jws_alg_for_key(k->rsa), MQP_ALG_RS256);
    assert_int_equal(mqp_jws_alg_for_key(NULL), MQP_ALG_UNKNOWN);
}

static char *write_temp(const char *content, size_t len)
{
    char *path = strdup("/tmp/test_jwk_XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void load_fails(const char *path, const char *needle)
{
    struct mqp_jwks *set = NULL;
    char err[256] = "";

    assert_int_equal(mqp_jwks_load_file(path, &set, err, sizeof(err)), -1);
    assert_null(set);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_load_file(void **state)
{
    struct keys *k = *state;
    json_object *doc = jwks_of(mqp_jwk_from_pkey(k->ec), NULL);
    const char *text = json_object_to_json_string(doc);
    struct mqp_jwks *set = NULL;
    char err[256] = "", *path, *big;
    size_t big_len = 1024 * 1024 + 1;

    path = write_temp(text, strlen(text));
    assert_int_equal(mqp_jwks_load_file(path, &set, err, sizeof(err)), 0);
    assert_int_equal(mqp_jwks_count(set), 1);
    mqp_jwks_free(set);
    unlink(path);
    free(path);

    path = write_temp("{\"keys\":[}", 10);
    load_fails(path, "not valid JSON");
    unlink(path);
    free(path);

    path = write_temp("{\"keys\":[]} {}", 14);
    load_fails(path, "not valid JSON");
    unlink(path);
    free(path);

    /* One byte over 1 MiB of otherwise valid JSON (white space padding). */
    big = malloc(big_len);
    assert_non_null(big);
    memset(big, ' ', big_len);
    memcpy(big, "{\"keys\":[]}", 11);
    path = write_temp(big, big_len);
    load_fails(path, "larger than");
    unlink(path);
    free(path);
    /* Exactly 1 MiB is accepted. */
    path = write_temp(big, big_len - 1);
    assert_int_equal(mqp_jwks_load_file(path, &set, err, sizeof(err)), 0);
    mqp_jwks_free(set);
    unlink(path);
    free(path);
    free(big);

    load_fails("/nonexistent/jwks.json", "/nonexistent/jwks.json");
    json_object_put(doc);
}

static void test_key_limit(void **state)
{
    struct keys *k = *state;
    json_object *doc = json_object_new_object(), *keys = json_object_new_array();
    json_object *jwk = mqp_jwk_from_pkey(k->ed);
    struct mqp_jwks *set = NULL;
    char err[256];

    json_object_object_add(doc, "keys", keys);
    for (int i = 0; i < 64; i++)
        json_object_array_add(keys, json_object_get(jwk));
    assert_int_equal(mqp_jwks_parse(doc, &set, err, sizeof(err)), 0);
    assert_int_equal(mqp_jwks_count(set), 64);
    mqp_jwks_free(set);
    json_object_array_add(keys, json_object_get(jwk));
    parse_fails(doc, "65 keys");
    json_object_put(jwk);
    mqp_jwks_free(NULL);
    assert_int_equal(mqp_jwks_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_key_type),
        cmocka_unit_test(test_rfc7638_thumbprint),
        cmocka_unit_test(test_bad_curve),
        cmocka_unit_test(test_short_rsa),
        cmocka_unit_test(test_malformed_members),
        cmocka_unit_test(test_skipped_keys),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_key_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
