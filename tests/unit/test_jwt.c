/*
 * Unit tests for core/jwt.c: sign/verify round trips per algorithm, tampering, refused
 * algorithms and headers, decoding limits and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include "b64url.h"
#include "jwk.h"
#include "jwt.h"

#define MAX_LEN 8192

struct keys {
    EVP_PKEY *rsa, *ec, *ed;
    EVP_PKEY *rsa_pub, *ec_pub, *ed_pub; /* public halves, parsed back from JWKs */
    struct mqp_jwks *sets[3];
};

static EVP_PKEY *public_half(EVP_PKEY *key, struct mqp_jwks **set)
{
    json_object *doc = json_object_new_object(), *keys = json_object_new_array();
    char err[128];

    json_object_array_add(keys, mqp_jwk_from_pkey(key));
    json_object_object_add(doc, "keys", keys);
    if (mqp_jwks_parse(doc, set, err, sizeof(err)) != 0)
        *set = NULL;
    json_object_put(doc);
    return *set ? mqp_jwks_find(*set, NULL, mqp_jws_alg_for_key(key)) : NULL;
}

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return -1;
    *state = k;
    k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    k->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (k->rsa == NULL || k->ec == NULL || k->ed == NULL)
        return -1;
    k->rsa_pub = public_half(k->rsa, &k->sets[0]);
    k->ec_pub = public_half(k->ec, &k->sets[1]);
    k->ed_pub = public_half(k->ed, &k->sets[2]);
    return k->rsa_pub && k->ec_pub && k->ed_pub ? 0 : -1;
}

static int teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->ec);
    EVP_PKEY_free(k->ed);
    for (int i = 0; i < 3; i++)
        mqp_jwks_free(k->sets[i]);
    free(k);
    return 0;
}

/* "<b64 header>.<b64 payload>" from raw JSON text (any bytes, used as given). */
static char *signing_input(const char *header, const char *payload)
{
    char *h = mqp_b64url_encode(header, strlen(header), NULL);
    char *p = mqp_b64url_encode(payload, strlen(payload), NULL);
    char *out = malloc(strlen(h) + strlen(p) + 2);

    assert_non_null(out);
    sprintf(out, "%s.%s", h, p);
    free(h);
    free(p);
    return out;
}

static char *append_sig(char *input, const unsigned char *sig, size_t sig_len)
{
    char *s = mqp_b64url_encode(sig, sig_len, NULL);
    char *out = malloc(strlen(input) + strlen(s) + 2);

    assert_non_null(out);
    sprintf(out, "%s.%s", input, s);
    free(s);
    free(input);
    return out;
}

/* A token with exactly this header and payload text, signed by key (NULL: empty signature). */
static char *raw_token(const char *header, const char *payload, EVP_PKEY *key)
{
    char *input = signing_input(header, payload);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    char *token;

    if (key != NULL)
        assert_int_equal(mqp_jws_sign_raw(key, input, strlen(input), &sig, &sig_len), 0);
    token = append_sig(input, sig, sig_len);
    free(sig);
    return token;
}

static int decode(const char *token, struct mqp_jwt *jwt, char *err, size_t errlen)
{
    return mqp_jwt_decode(token, strlen(token), MAX_LEN, jwt, err, errlen);
}

static void decode_fails(const char *token, size_t len, const char *needle)
{
    struct mqp_jwt jwt;
    char err[200] = "";

    assert_int_equal(mqp_jwt_decode(token, len, MAX_LEN, &jwt, err, sizeof(err)), -1);
    assert_null(jwt.header);
    assert_null(jwt.claims);
    assert_null(jwt.sig);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void check_round_trip(EVP_PKEY *key, EVP_PKEY *pub, enum mqp_jws_alg alg, size_t sig_len)
{
    json_object *claims = json_tokener_parse("{\"sub\":\"alice\",\"n\":[1,{\"x\":\"/\"}]}");
    json_object *extra = json_tokener_parse("{\"kid\":\"k1\",\"typ\":\"JWT\",\"alg\":\"none\"}");
    char *token = mqp_jwt_sign(claims, extra, key), err[200] = "";
    struct mqp_jwt jwt;

    assert_non_null(token);
    assert_true(decode(token, &jwt, err, sizeof(err)) == 0);
    /* The key sets "alg"; header_extra cannot override it. */
    assert_int_equal(jwt.alg, alg);
    assert_string_equal(json_object_get_string(json_object_object_get(jwt.header, "alg")),
                        mqp_jws_alg_name(alg));
    assert_string_equal(jwt.kid, "k1");
    assert_string_equal(jwt.typ, "JWT");
    assert_string_equal(json_object_get_string(json_object_object_get(jwt.claims, "sub")), "alice");
    assert_int_equal(jwt.sig_len, sig_len);
    assert_int_equal(jwt.signing_input_len, (size_t)(strrchr(token, '.') - token));
    assert_memory_equal(jwt.signing_input, token, jwt.signing_input_len);
    assert_int_equal(mqp_jwt_verify(&jwt, pub), 0);
    assert_int_equal(mqp_jwt_verify(&jwt, key), 0);
    /* One flipped bit in the signature. */
    jwt.sig[jwt.sig_len / 2] ^= 0x01;
    assert_int_equal(mqp_jwt_verify(&jwt, pub), -1);
    jwt.sig[jwt.sig_len / 2] ^= 0x01;
    /* One changed byte of the signed input (as if the payload were edited). */
    jwt.signing_input[jwt.signing_input_len - 1] ^= 0x01;
    assert_int_equal(mqp_jwt_verify(&jwt, pub), -1);
    mqp_jwt_clear(&jwt);
    mqp_jwt_clear(&jwt);
    free(token);
    json_object_put(claims);
    json_object_put(extra);
}

static void test_round_trip(void **state)
{
    struct keys *k = *state;

    check_round_trip(k->rsa, k->rsa_pub, MQP_ALG_RS256, 256);
    check_round_trip(k->ec, k->ec_pub, MQP_ALG_ES256, 64);
    check_round_trip(k->ed, k->ed_pub, MQP_ALG_EDDSA, 64);
}

/* A different payload under the original signature. */
static void test_tampered_payload(void **state)
{
    struct keys *k = *state;
    EVP_PKEY *keys[] = {k->rsa, k->ec, k->ed}, *pubs[] = {k->rsa_pub, k->ec_pub, k->ed_pub};

    for (int i = 0; i < 3; i++) {
        json_object *claims = json_tokener_parse("{\"role\":\"user\"}");
        char *token = mqp_jwt_sign(claims, NULL, keys[i]);
        char *evil_payload = mqp_b64url_encode("{\"role\":\"admin\"}", 16, NULL);
        char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
        char *forged = malloc(strlen(token) + strlen(evil_payload) + 1);
        struct mqp_jwt jwt;

        sprintf(forged, "%.*s.%s%s", (int)(dot1 - token), token, evil_payload, dot2);
        assert_int_equal(decode(forged, &jwt, NULL, 0), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(jwt.claims, "role")),
                            "admin");
        assert_int_equal(mqp_jwt_verify(&jwt, pubs[i]), -1);
        mqp_jwt_clear(&jwt);
        free(forged);
        free(evil_payload);
        free(token);
        json_object_put(claims);
    }
}

static void test_alg_none_and_hs256(void **state)
{
    struct keys *k = *state;
    struct mqp_jwt jwt;
    char *token;
    char *input;
    unsigned char mac[32];
    size_t mac_len = 0;

    /* RFC 7519 section 6.1 unsecured JWT: decodes, but never verifies. */
    token = raw_token("{\"alg\":\"none\"}", "{\"sub\":\"x\"}", NULL);
    assert_non_null(strstr(token, "."));
    assert_int_equal(token[strlen(token) - 1], '.');
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(jwt.alg, MQP_ALG_UNKNOWN);
    assert_int_equal(jwt.sig_len, 0);
    assert_int_equal(mqp_jwt_verify(&jwt, k->rsa_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ed_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);

    /* HS256 with a secret: not an accepted algorithm, whichever key is offered. */
    input = signing_input("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"x\"}");
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, "secret", 6,
                              (unsigned char *)input, strlen(input), mac, sizeof(mac), &mac_len));
    token = append_sig(input, mac, mac_len);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(jwt.alg, MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jwt_verify(&jwt, k->rsa_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);

    /* Case matters (RFC 7515 section 4.1.1). */
    token = raw_token("{\"alg\":\"es256\"}", "{}", k->ec);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(jwt.alg, MQP_ALG_UNKNOWN);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);
}

static void test_wrong_key_type(void **state)
{
    struct keys *k = *state;
    json_object *claims = json_tokener_parse("{\"a\":1}");
    struct mqp_jwt jwt;
    char *token;

    /* ES256 token: only the EC key may verify it. */
    token = mqp_jwt_sign(claims, NULL, k->ec);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(mqp_jwt_verify(&jwt, k->rsa_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ed_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, NULL), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), 0);
    mqp_jwt_clear(&jwt);
    free(token);

    /* A header that claims RS256 over an EC signature. */
    token = raw_token("{\"alg\":\"RS256\"}", "{\"a\":1}", k->ec);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(jwt.alg, MQP_ALG_RS256);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), -1);
    assert_int_equal(mqp_jwt_verify(&jwt, k->rsa_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);

    /* EdDSA header, ES256 signature (also 64 bytes). */
    token = raw_token("{\"alg\":\"EdDSA\"}", "{\"a\":1}", k->ec);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ed_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);
    json_object_put(claims);
}

/* ES256 signatures are exactly r||s; a DER signature of the same values is refused. */
static void test_es256_encoding(void **state)
{
    struct keys *k = *state;
    struct mqp_jwt jwt;
    char *token = raw_token("{\"alg\":\"ES256\"}", "{\"a\":1}", k->ec), *input;
    unsigned char *der = NULL;
    int der_len;
    ECDSA_SIG *es = ECDSA_SIG_new();

    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(jwt.sig_len, 64);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), 0);
    assert_int_equal(
        ECDSA_SIG_set0(es, BN_bin2bn(jwt.sig, 32, NULL), BN_bin2bn(jwt.sig + 32, 32, NULL)), 1);
    der_len = i2d_ECDSA_SIG(es, &der);
    assert_true(der_len > 64);
    input = strndup(token, jwt.signing_input_len);
    mqp_jwt_clear(&jwt);
    free(token);
    token = append_sig(input, der, (size_t)der_len);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), -1);
    mqp_jwt_clear(&jwt);
    free(token);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
}

/* Many signatures: each is 64 bytes (short r or s zero-padded) and verifies. */
static void test_es256_padding_verifies(void **state)
{
    struct keys *k = *state;

    for (int i = 0; i < 300; i++) {
        char payload[32];
        char *token;
        struct mqp_jwt jwt;

        snprintf(payload, sizeof(payload), "{\"i\":%d}", i);
        token = raw_token("{\"alg\":\"ES256\"}", payload, k->ec);
        assert_int_equal(decode(token, &jwt, NULL, 0), 0);
        assert_int_equal(jwt.sig_len, 64);
        assert_int_equal(mqp_jwt_verify(&jwt, k->ec_pub), 0);
        mqp_jwt_clear(&jwt);
        free(token);
    }
}

static void test_signature_lengths(void **state)
{
    struct keys *k = *state;
    EVP_PKEY *keys[] = {k->rsa, k->ec, k->ed}, *pubs[] = {k->rsa_pub, k->ec_pub, k->ed_pub};
    const char *headers[] = {"{\"alg\":\"RS256\"}", "{\"alg\":\"ES256\"}", "{\"alg\":\"EdDSA\"}"};

    for (int i = 0; i < 3; i++) {
        char *input = signing_input(headers[i], "{}"), *token;
        unsigned char *sig, *longer;
        size_t sig_len;
        struct mqp_jwt jwt;

        assert_int_equal(mqp_jws_sign_raw(keys[i], input, strlen(input), &sig, &sig_len), 0);
        longer = calloc(1, sig_len + 1);
        memcpy(longer, sig, sig_len);
        /* One byte short, and one (zero) byte too many. */
        token = append_sig(strdup(input), sig, sig_len - 1);
        assert_int_equal(decode(token, &jwt, NULL, 0), 0);
        assert_int_equal(mqp_jwt_verify(&jwt, pubs[i]), -1);
        mqp_jwt_clear(&jwt);
        free(token);
        token = append_sig(strdup(input), longer, sig_len + 1);
        assert_int_equal(decode(token, &jwt, NULL, 0), 0);
        assert_int_equal(mqp_jwt_verify(&jwt, pubs[i]), -1);
        mqp_jwt_clear(&jwt);
        free(token);
        token = append_sig(input, sig, sig_len);
        assert_int_equal(decode(token, &jwt, NULL, 0), 0);
        assert_int_equal(mqp_jwt_verify(&jwt, pubs[i]), 0);
        mqp_jwt_clear(&jwt);
        free(token);
        free(longer);
        free(sig);
    }
}

static void test_crit_refused(void **state)
{
    struct keys *k = *state;
    char *token = raw_token("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}", k->ec);

    decode_fails(token, strlen(token), "crit");
    free(token);
    token = raw_token("{\"alg\":\"ES256\",\"crit\":[]}", "{}", k->ec);
    decode_fails(token, strlen(token), "crit");
    free(token);
}

static void test_size_limit(void **state)
{
    struct keys *k = *state;
    json_object *claims = json_tokener_parse("{\"sub\":\"alice\"}");
    char *token = mqp_jwt_sign(claims, NULL, k->ed), err[200] = "";
    size_t len = strlen(token);
    struct mqp_jwt jwt;

    assert_int_equal(mqp_jwt_decode(token, len, len, &jwt, err, sizeof(err)), 0);
    mqp_jwt_clear(&jwt);
    assert_int_equal(mqp_jwt_decode(token, len, len - 1, &jwt, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "exceeds"));
    free(token);
    json_object_put(claims);
}

static void test_malformed(void **state)
{
    struct keys *k = *state;
    char deep[200], *token;
    const char *good = "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"; /* {"alg":"ES256"} . {} . 3 bytes */
    struct mqp_jwt jwt;

    assert_int_equal(decode(good, &jwt, NULL, 0), 0);
    mqp_jwt_clear(&jwt);
    decode_fails("eyJhbGciOiJFUzI1NiJ9.e30", 24, "three parts");
    decode_fails("eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA", 34, "three parts");
    decode_fails("", 0, "three parts");
    decode_fails("..", 2, "header is not");
    decode_fails("eyJhbGciOiJFUzI1NiJ9.e30.AA$A", 29, "signature is not base64url");
    decode_fails("eyJhbGciOiJFUzI1NiJ9.e3+.AAAA", 29, "payload is not base64url");
    /* A NUL inside the given length is not a way to end the token early. */
    decode_fails("eyJhbGciOiJFUzI1NiJ9.e30.AA\0A", 29, "signature is not base64url");
    assert_int_equal(mqp_jwt_decode(NULL, 0, MAX_LEN, &jwt, NULL, 0), -1);

    token = raw_token("[\"alg\",\"ES256\"]", "{}", NULL);
    decode_fails(token, strlen(token), "header is not a JSON object");
    free(token);
    token = raw_token("{\"alg\":\"ES256\"}", "\"just a string\"", NULL);
    decode_fails(token, strlen(token), "payload is not a JSON object");
    free(token);
    token = raw_token("{\"alg\":\"ES256\"}", "{\"a\":1", NULL);
    decode_fails(token, strlen(token), "payload is not valid JSON");
    free(token);
    token = raw_token("{\"alg\":\"ES256\"}", "{\"a\":1}{\"b\":2}", NULL);
    decode_fails(token, strlen(token), "payload is not valid JSON");
    free(token);
    token = raw_token("{\"alg\":\"ES256\"}", "{\"a\":'x'}", NULL);
    decode_fails(token, strlen(token), "payload is not valid JSON");
    free(token);
    token = raw_token("{\"alg\":\"ES256\"}", "{\"a\":\"\xc3\x28\"}", NULL);
    decode_fails(token, strlen(token), "payload is not valid JSON");
    free(token);
    token = raw_token("{\"typ\":\"JWT\"}", "{}", NULL);
    decode_fails(token, strlen(token), "no \"alg\"");
    free(token);
    token = raw_token("{\"alg\":256}", "{}", NULL);
    decode_fails(token, strlen(token), "\"alg\" must be a string");
    free(token);
    token = raw_token("{\"alg\":\"ES256\",\"kid\":7}", "{}", NULL);
    decode_fails(token, strlen(token), "\"kid\" must be a string");
    free(token);
    token = raw_token("{\"alg\":\"ES256\",\"typ\":null}", "{}", NULL);
    decode_fails(token, strlen(token), "\"typ\" must be a string");
    free(token);

    /* White space around JSON values is JSON; a trailing NUL byte is not. */
    token = raw_token(" {\"alg\":\"ES256\"}\n", "{}\r\n", k->ec);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    mqp_jwt_clear(&jwt);
    free(token);
    {
        char *h = mqp_b64url_encode("{\"alg\":\"ES256\"}\0x", 17, NULL);
        char buf[128];

        snprintf(buf, sizeof(buf), "%s.e30.AAAA", h);
        decode_fails(buf, strlen(buf), "header has trailing data");
        free(h);
    }

    /* Nesting: 31 arrays inside the claims object pass, 32 do not (limit 32 levels). */
    memset(deep, 0, sizeof(deep));
    strcpy(deep, "{\"a\":");
    for (int i = 0; i < 31; i++)
        strcat(deep, "[");
    for (int i = 0; i < 31; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    token = raw_token("{\"alg\":\"ES256\"}", deep, NULL);
    assert_int_equal(decode(token, &jwt, NULL, 0), 0);
    mqp_jwt_clear(&jwt);
    free(token);
    strcpy(deep, "{\"a\":");
    for (int i = 0; i < 32; i++)
        strcat(deep, "[");
    for (int i = 0; i < 32; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    token = raw_token("{\"alg\":\"ES256\"}", deep, NULL);
    decode_fails(token, strlen(token), "nesting too deep");
    free(token);
}

static void test_sign_refusals(void **state)
{
    struct keys *k = *state;
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    json_object *array = json_tokener_parse("[1]"), *claims = json_tokener_parse("{}");
    unsigned char *sig = (unsigned char *)"x";
    size_t sig_len = 9;

    assert_non_null(p384);
    assert_null(mqp_jwt_sign(claims, NULL, p384));
    assert_int_equal(mqp_jws_sign_raw(p384, "x", 1, &sig, &sig_len), -1);
    assert_null(sig);
    assert_int_equal(sig_len, 0);
    assert_null(mqp_jwt_sign(array, NULL, k->ec));
    assert_null(mqp_jwt_sign(NULL, NULL, k->ec));
    /* Signing needs the private key. */
    assert_null(mqp_jwt_sign(claims, NULL, k->ec_pub));
    mqp_jwt_clear(NULL);
    EVP_PKEY_free(p384);
    json_object_put(array);
    json_object_put(claims);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_alg_none_and_hs256), cmocka_unit_test(test_wrong_key_type),
        cmocka_unit_test(test_es256_encoding),     cmocka_unit_test(test_es256_padding_verifies),
        cmocka_unit_test(test_signature_lengths),  cmocka_unit_test(test_crit_refused),
        cmocka_unit_test(test_size_limit),         cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_sign_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
