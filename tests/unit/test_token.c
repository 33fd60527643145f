/*
 * Unit tests for core/token.c: every status of mqp_token_verify against a configuration built
 * with mqp_config_build() from inline JWKS of keys generated here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "b64url.h"
#include "config.h"
#include "jwk.h"
#include "jwt.h"
#include "token.h"

#define NOW INT64_C(1800000000)
#define LEEWAY 30
#define MAX_TOKEN 2048
#define T1_ISS "https://idp.test/realms/t1"
#define T2_ISS "https://idp.test/realms/t2"
#define SVC_ISS "https://idp.test/realms/service"

struct fixture {
    EVP_PKEY *t1_rsa, *t1_ec, *t2_ed, *svc_ec, *stranger;
    char *t1_rsa_kid, *t1_ec_kid;
    struct mqp_config *cfg;
};

static json_object *jwks_of(EVP_PKEY *a, EVP_PKEY *b)
{
    json_object *doc = json_object_new_object(), *keys = json_object_new_array();

    json_object_array_add(keys, mqp_jwk_from_pkey(a));
    if (b != NULL)
        json_object_array_add(keys, mqp_jwk_from_pkey(b));
    json_object_object_add(doc, "keys", keys);
    return doc;
}

static json_object *issuer_obj(const char *iss, const char *aud, const char *roles_client,
                               json_object *jwks)
{
    json_object *obj = json_object_new_object();

    json_object_object_add(obj, "issuer", json_object_new_string(iss));
    json_object_object_add(obj, "audience", json_object_new_string(aud));
    if (roles_client != NULL)
        json_object_object_add(obj, "roles_client", json_object_new_string(roles_client));
    json_object_object_add(obj, "jwks", jwks);
    return obj;
}

static struct mqp_config *build_config(struct fixture *f, bool require_exp)
{
    json_object *doc = json_object_new_object(), *tenants = json_object_new_object();
    json_object *limits = json_object_new_object();
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};

    json_object_object_add(limits, "max_token_bytes", json_object_new_int(MAX_TOKEN));
    json_object_object_add(limits, "token_leeway_seconds", json_object_new_int(LEEWAY));
    json_object_object_add(limits, "require_exp", json_object_new_boolean(require_exp));
    json_object_object_add(doc, "limits", limits);
    json_object_object_add(doc, "service",
                           issuer_obj(SVC_ISS, "mqpush", NULL, jwks_of(f->svc_ec, NULL)));
    json_object_object_add(tenants, "t1",
                           issuer_obj(T1_ISS, "api-t1", "portal", jwks_of(f->t1_rsa, f->t1_ec)));
    json_object_object_add(tenants, "t2",
                           issuer_obj(T2_ISS, "api-t2", NULL, jwks_of(f->t2_ed, NULL)));
    json_object_object_add(doc, "tenants", tenants);
    if (mqp_config_build(doc, NULL, &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++)
            print_error("config: %s\n", errs.msgs[i]);
        cfg = NULL;
    }
    mqp_errors_clear(&errs);
    json_object_put(doc);
    return cfg;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    *state = f;
    f->t1_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    f->t1_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->t2_ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    f->svc_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->stranger = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!f->t1_rsa || !f->t1_ec || !f->t2_ed || !f->svc_ec || !f->stranger)
        return -1;
    f->t1_rsa_kid = mqp_jwk_thumbprint(f->t1_rsa);
    f->t1_ec_kid = mqp_jwk_thumbprint(f->t1_ec);
    f->cfg = build_config(f, true);
    return f->cfg != NULL && f->t1_rsa_kid && f->t1_ec_kid ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    mqp_config_free(f->cfg);
    EVP_PKEY_free(f->t1_rsa);
    EVP_PKEY_free(f->t1_ec);
    EVP_PKEY_free(f->t2_ed);
    EVP_PKEY_free(f->svc_ec);
    EVP_PKEY_free(f->stranger);
    free(f->t1_rsa_kid);
    free(f->t1_ec_kid);
    free(f);
    return 0;
}

/* Valid claims for issuer iss and audience aud at NOW; tests edit them before signing. */
static json_object *base_claims(const char *iss, const char *aud)
{
    json_object *c = json_object_new_object();

    json_object_object_add(c, "iss", json_object_new_string(iss));
    json_object_object_add(c, "aud", json_object_new_string(aud));
    json_object_object_add(c, "sub", json_object_new_string("user-1"));
    json_object_object_add(c, "iat", json_object_new_int64(NOW - 10));
    json_object_object_add(c, "exp", json_object_new_int64(NOW + 600));
    return c;
}

static void set_json(json_object *obj, const char *name, const char *json)
{
    json_object *v = json_tokener_parse(json);

    assert_true(v != NULL || strcmp(json, "null") == 0);
    json_object_object_add(obj, name, v);
}

/* Sign claims (released) with key; kid NULL means the key's thumbprint, "" means no kid. */
static char *mint(json_object *claims, EVP_PKEY *key, const char *kid, const char *typ)
{
    json_object *header = json_object_new_object();
    char *thumb = mqp_jwk_thumbprint(key), *token;

    if (kid == NULL)
        kid = thumb;
    if (*kid != '\0')
        json_object_object_add(header, "kid", json_object_new_string(kid));
    if (typ != NULL)
        json_object_object_add(header, "typ", json_object_new_string(typ));
    token = mqp_jwt_sign(claims, header, key);
    assert_non_null(token);
    free(thumb);
    json_object_put(header);
    json_object_put(claims);
    return token;
}

/* Verify token (freed) and expect status; returns the identity on MQP_TOKEN_OK. */
static struct mqp_identity *expect_status(const struct mqp_config *cfg, char *token,
                                          enum mqp_token_status want)
{
    struct mqp_identity *id = (struct mqp_identity *)&id;
    char detail[256] = "";
    enum mqp_token_status st =
        mqp_token_verify(cfg, token, strlen(token), NOW, &id, detail, sizeof(detail));

    if (st != want)
        fail_msg("status %s (%s), expected %s", mqp_token_status_str(st), detail,
                 mqp_token_status_str(want));
    if (st == MQP_TOKEN_OK) {
        assert_non_null(id);
    } else {
        assert_null(id);
        assert_true(detail[0] != '\0');
    }
    free(token);
    return id;
}

static void test_ok_with_roles(void **state)
{
    struct fixture *f = *state;
    json_object *c = base_claims(T1_ISS, "api-t1");
    struct mqp_identity *id;

    set_json(c, "roles", "[\"a\",\"b\",7,\"a\"]");
    set_json(c, "realm_access", "{\"roles\":[\"b\",\"c\",null]}");
    set_json(c, "resource_access",
             "{\"portal\":{\"roles\":[\"d\",\"a\"]},\"api-t1\":{\"roles\":[\"not-mine\"]}}");
    set_json(c, "sid", "\"session-9\"");
    set_json(c, "jti", "\"token-7\"");
    id = expect_status(f->cfg, mint(c, f->t1_rsa, NULL, "JWT"), MQP_TOKEN_OK);
    assert_int_equal(id->kind, MQP_IDENTITY_TENANT);
    assert_string_equal(id->tenant, "t1");
    assert_int_equal(id->n_roles, 4);
    assert_string_equal(id->roles[0], "a");
    assert_string_equal(id->roles[1], "b");
    assert_string_equal(id->roles[2], "c");
    assert_string_equal(id->roles[3], "d");
    assert_true(mqp_identity_has_role(id, "d"));
    assert_false(mqp_identity_has_role(id, "not-mine"));
    assert_false(mqp_identity_has_role(id, "7"));
    assert_false(mqp_identity_has_role(NULL, "a"));
    assert_string_equal(id->sub, "user-1");
    assert_string_equal(id->sid, "session-9");
    assert_string_equal(id->jti, "token-7");
    assert_int_equal(id->exp, NOW + 600);
    assert_string_equal(json_object_get_string(json_object_object_get(id->claims, "iss")), T1_ISS);
    mqp_identity_free(id);

    /* The same tenant's EC key; no sid/jti. */
    c = base_claims(T1_ISS, "api-t1");
    id = expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK);
    assert_null(id->sid);
    assert_null(id->jti);
    assert_int_equal(id->n_roles, 0);
    mqp_identity_free(id);

    /* t2 has no roles_client: resource_access.<audience>.roles counts; t2 holds one key, so
     * a token without kid finds it. */
    c = base_claims(T2_ISS, "api-t2");
    set_json(c, "resource_access",
             "{\"api-t2\":{\"roles\":[\"x\"]},\"portal\":{\"roles\":[\"y\"]}}");
    id = expect_status(f->cfg, mint(c, f->t2_ed, "", "at+jwt"), MQP_TOKEN_OK);
    assert_string_equal(id->tenant, "t2");
    assert_int_equal(id->n_roles, 1);
    assert_string_equal(id->roles[0], "x");
    mqp_identity_free(id);
    mqp_identity_free(NULL);
}

static void test_role_limits(void **state)
{
    struct fixture *f = *state;
    json_object *c = base_claims(T2_ISS, "api-t2"), *roles = json_object_new_array();
    struct mqp_identity *id;
    char name[300];

    /* 257 bytes is over the 256-byte limit: ignored. */
    memset(name, 'r', 257);
    name[257] = '\0';
    json_object_array_add(roles, json_object_new_string(name));
    name[256] = '\0';
    json_object_array_add(roles, json_object_new_string(name));
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "%d", i);
        json_object_array_add(roles, json_object_new_string(name));
    }
    json_object_object_add(c, "roles", roles);
    /* This token is large; verify it against a configuration with the default limit. */
    {
        char *token = mint(c, f->t2_ed, NULL, NULL);
        struct mqp_config big = *f->cfg;

        assert_true(strlen(token) > MAX_TOKEN);
        big.limits.max_token_bytes = 8192;
        id = expect_status(&big, token, MQP_TOKEN_OK);
    }
    assert_int_equal(id->n_roles, 256);
    assert_int_equal(strlen(id->roles[0]), 256);
    assert_string_equal(id->roles[255], "254");
    assert_false(mqp_identity_has_role(id, "255"));
    mqp_identity_free(id);
}

static void test_expiry(void **state)
{
    struct fixture *f = *state;
    json_object *c;
    struct mqp_identity *id;
    struct mqp_config *lax;

    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "exp", json_object_new_int64(NOW - LEEWAY - 1));
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_EXPIRED);
    /* Leeway edge: expired exactly LEEWAY seconds ago still passes. */
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "exp", json_object_new_int64(NOW - LEEWAY));
    mqp_identity_free(expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK));
    /* Fractional NumericDate. */
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "exp", json_object_new_double((double)(NOW - LEEWAY) - 0.5));
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_EXPIRED);
    /* Missing exp is refused while require_exp holds. */
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_del(c, "exp");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_EXPIRED);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "exp", "\"1900000000\"");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
    /* Huge values saturate instead of overflowing. */
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "exp", "1e300");
    mqp_identity_free(expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK));
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "exp", "-9223372036854775808");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_EXPIRED);

    lax = build_config(f, false);
    assert_non_null(lax);
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_del(c, "exp");
    id = expect_status(lax, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK);
    assert_int_equal(id->exp, INT64_MAX);
    mqp_identity_free(id);
    mqp_config_free(lax);
}

static void test_not_yet_valid(void **state)
{
    struct fixture *f = *state;
    json_object *c;

    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "nbf", json_object_new_int64(NOW + LEEWAY + 1));
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_NOT_YET_VALID);
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "nbf", json_object_new_int64(NOW + LEEWAY));
    mqp_identity_free(expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK));
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_add(c, "iat", json_object_new_int64(NOW + LEEWAY + 1));
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_NOT_YET_VALID);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "nbf", "true");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
}

static void test_audience(void **state)
{
    struct fixture *f = *state;
    json_object *c;

    c = base_claims(T1_ISS, "api-t2");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_WRONG_AUDIENCE);
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_del(c, "aud");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_WRONG_AUDIENCE);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "aud", "[\"account\",\"api-t1\"]");
    mqp_identity_free(expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_OK));
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "aud", "[\"account\",[\"api-t1\"],\"API-T1\"]");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_WRONG_AUDIENCE);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "aud", "{\"api-t1\":true}");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
}

static void test_issuer_and_key(void **state)
{
    struct fixture *f = *state;
    json_object *c;

    c = base_claims("https://idp.test/realms/nobody", "api-t1");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_UNKNOWN_ISSUER);
    c = base_claims(T1_ISS, "api-t1");
    json_object_object_del(c, "iss");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "iss", "[\"" T1_ISS "\"]");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
    /* Unknown kid; a key of another tenant; a stranger's key. */
    c = base_claims(T1_ISS, "api-t1");
    expect_status(f->cfg, mint(c, f->t1_ec, "no-such-kid", NULL), MQP_TOKEN_UNKNOWN_KEY);
    c = base_claims(T1_ISS, "api-t1");
    expect_status(f->cfg, mint(c, f->t2_ed, NULL, NULL), MQP_TOKEN_UNKNOWN_KEY);
    c = base_claims(T1_ISS, "api-t1");
    expect_status(f->cfg, mint(c, f->stranger, NULL, NULL), MQP_TOKEN_UNKNOWN_KEY);
    /* The stranger claims t1's kid: the key is found, the signature does not match. */
    c = base_claims(T1_ISS, "api-t1");
    expect_status(f->cfg, mint(c, f->stranger, f->t1_ec_kid, NULL), MQP_TOKEN_BAD_SIGNATURE);
    /* t1 holds an RSA and an EC key: without a kid, the one key that fits ES256 is used. */
    c = base_claims(T1_ISS, "api-t1");
    mqp_identity_free(expect_status(f->cfg, mint(c, f->t1_ec, "", NULL), MQP_TOKEN_OK));
}

/* Hand-made token: header and payload JSON text, signature bytes. */
static char *forge(const char *header, json_object *claims, const unsigned char *sig,
                   size_t sig_len)
{
    const char *payload = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN);
    char *h = mqp_b64url_encode(header, strlen(header), NULL);
    char *p = mqp_b64url_encode(payload, strlen(payload), NULL);
    char *s = mqp_b64url_encode(sig, sig_len, NULL);
    char *out = malloc(strlen(h) + strlen(p) + strlen(s) + 3);

    sprintf(out, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    return out;
}

static void test_hs_rs_confusion(void **state)
{
    struct fixture *f = *state;
    json_object *c = base_claims(T1_ISS, "api-t1");
    BIO *mem = BIO_new(BIO_s_mem());
    char header[256], *pem = NULL, *input, *dot;
    unsigned char mac[32];
    size_t mac_len = 0;
    long pem_len;

    /* The classic attack: HMAC keyed with the bytes of the issuer's RSA public key. */
    assert_int_equal(PEM_write_bio_PUBKEY(mem, f->t1_rsa), 1);
    pem_len = BIO_get_mem_data(mem, &pem);
    snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             f->t1_rsa_kid);
    input = forge(header, c, (const unsigned char *)"", 0);
    dot = strrchr(input, '.');
    *dot = '\0';
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, (size_t)pem_len,
                              (unsigned char *)input, strlen(input), mac, sizeof(mac), &mac_len));
    free(input);
    expect_status(f->cfg, forge(header, c, mac, mac_len), MQP_TOKEN_BAD_ALG);
    BIO_free(mem);

    expect_status(f->cfg, forge("{\"alg\":\"none\"}", c, (const unsigned char *)"", 0),
                  MQP_TOKEN_BAD_ALG);
    expect_status(f->cfg, forge("{\"alg\":\"RS512\"}", c, mac, mac_len), MQP_TOKEN_BAD_ALG);
    expect_status(f->cfg, forge("{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1}", c, mac, 32),
                  MQP_TOKEN_MALFORMED);
    json_object_put(c);
}

static void test_typ(void **state)
{
    struct fixture *f = *state;
    static const char *const ok[] = {
        "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "application/jwt"};
    static const char *const bad[] = {
        "secevent+jwt", "application/secevent+jwt", "JOSE", "", "application/", "logout+jwt"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        mqp_identity_free(expect_status(
            f->cfg, mint(base_claims(T1_ISS, "api-t1"), f->t1_ec, NULL, ok[i]), MQP_TOKEN_OK));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_status(f->cfg, mint(base_claims(T1_ISS, "api-t1"), f->t1_ec, NULL, bad[i]),
                      MQP_TOKEN_MALFORMED);
}

static void test_too_large_and_malformed(void **state)
{
    struct fixture *f = *state;
    json_object *c = base_claims(T1_ISS, "api-t1");
    char pad[MAX_TOKEN], *token;
    struct mqp_identity *id = NULL;
    size_t len;

    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    json_object_object_add(c, "pad", json_object_new_string(pad));
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_TOO_LARGE);

    /* The limit is on the bytes given: a valid token just over the limit is refused, and at
     * the limit accepted. */
    token = mint(base_claims(T1_ISS, "api-t1"), f->t1_ec, NULL, NULL);
    len = strlen(token);
    {
        struct mqp_config tight = *f->cfg;

        tight.limits.max_token_bytes = len - 1;
        assert_int_equal(mqp_token_verify(&tight, token, len, NOW, &id, NULL, 0),
                         MQP_TOKEN_TOO_LARGE);
        tight.limits.max_token_bytes = len;
        assert_int_equal(mqp_token_verify(&tight, token, len, NOW, &id, NULL, 0), MQP_TOKEN_OK);
        mqp_identity_free(id);
    }
    /* A truncated token no longer verifies. */
    assert_int_equal(mqp_token_verify(f->cfg, token, len - 2, NOW, &id, NULL, 0),
                     MQP_TOKEN_BAD_SIGNATURE);
    assert_null(id);
    free(token);

    expect_status(f->cfg, strdup("not a token"), MQP_TOKEN_MALFORMED);
    expect_status(f->cfg, strdup("a.b.c"), MQP_TOKEN_MALFORMED);
    expect_status(f->cfg, strdup(""), MQP_TOKEN_MALFORMED);
    c = base_claims(T1_ISS, "api-t1");
    set_json(c, "sub", "42");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_MALFORMED);
}

static void test_service_identity(void **state)
{
    struct fixture *f = *state;
    json_object *c = base_claims(SVC_ISS, "mqpush");
    struct mqp_identity *id;

    set_json(c, "roles", "[\"mqpush-bridge\"]");
    id = expect_status(f->cfg, mint(c, f->svc_ec, NULL, NULL), MQP_TOKEN_OK);
    assert_int_equal(id->kind, MQP_IDENTITY_SERVICE);
    assert_null(id->tenant);
    assert_true(mqp_identity_has_role(id, "mqpush-bridge"));
    mqp_identity_free(id);
    /* The service issuer's audience, not a tenant's. */
    c = base_claims(SVC_ISS, "api-t1");
    expect_status(f->cfg, mint(c, f->svc_ec, NULL, NULL), MQP_TOKEN_WRONG_AUDIENCE);
    /* A tenant key cannot sign for the service issuer. */
    c = base_claims(SVC_ISS, "mqpush");
    expect_status(f->cfg, mint(c, f->t1_ec, NULL, NULL), MQP_TOKEN_UNKNOWN_KEY);
}

static void test_looks_like_jwt(void **state)
{
    struct fixture *f = *state;
    char *token = mint(base_claims(T1_ISS, "api-t1"), f->t1_ec, NULL, NULL);
    static const char *const no[] = {"",        "a.b",    "a..c",   ".b.c",      "a.b.",
                                     "a.b.c.d", "a.b.c=", "a.b.c ", "user:pass", "a.b+.c"};

    assert_true(mqp_token_looks_like_jwt(token, strlen(token)));
    assert_true(mqp_token_looks_like_jwt("a.b.c", 5));
    assert_true(mqp_token_looks_like_jwt("a-_.b.0", 7));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (mqp_token_looks_like_jwt(no[i], strlen(no[i])))
            fail_msg("\"%s\" taken for a JWT", no[i]);
    }
    assert_false(mqp_token_looks_like_jwt("a.b.c", 4));
    assert_false(mqp_token_looks_like_jwt(NULL, 0));
    free(token);
}

static void test_status_strings(void **state)
{
    (void)state;
    for (int a = MQP_TOKEN_OK; a <= MQP_TOKEN_WRONG_AUDIENCE; a++) {
        assert_non_null(mqp_token_status_str((enum mqp_token_status)a));
        for (int b = MQP_TOKEN_OK; b < a; b++)
            assert_string_not_equal(mqp_token_status_str((enum mqp_token_status)a),
                                    mqp_token_status_str((enum mqp_token_status)b));
    }
    assert_string_equal(mqp_token_status_str(MQP_TOKEN_EXPIRED), "token expired");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_with_roles),
        cmocka_unit_test(test_role_limits),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_issuer_and_key),
        cmocka_unit_test(test_hs_rs_confusion),
        cmocka_unit_test(test_typ),
        cmocka_unit_test(test_too_large_and_malformed),
        cmocka_unit_test(test_service_identity),
        cmocka_unit_test(test_looks_like_jwt),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
