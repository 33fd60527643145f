/*
 * Unit tests for the SSF receiver's checks (bridge/ssf/set.c, subject.c, lang.c, seen.c): a
 * good SET, every RFC 8935 error class, "alg": "none", HS256 keyed with the public key, an
 * unknown kid, tampering, "typ", missing claims, "iat" in the future, event names, subjects
 * read as sessions, Accept-Language, and the memory of published SETs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include "b64url.h"
#include "jwk.h"
#include "jwt.h"
#include "ssf/lang.h"
#include "ssf/receiver_int.h"
#include "ssf/set.h"
#include "ssf/subject.h"

#define ISS "https://tx.example/"
#define AUD "https://rx.example/ssf"
#define REVOKED "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

struct keys {
    EVP_PKEY *ec, *rsa, *other;
    char *ec_kid;
    struct mqp_jwks *jwks; /* the EC key only */
};

static struct mqp_jwks *jwks_of(EVP_PKEY *key, char **kid)
{
    json_object *doc = json_object_new_object(), *arr = json_object_new_array();
    json_object *jwk = mqp_jwk_from_pkey(key);
    struct mqp_jwks *set = NULL;

    *kid = strdup(json_object_get_string(json_object_object_get(jwk, "kid")));
    json_object_array_add(arr, jwk);
    json_object_object_add(doc, "keys", arr);
    if (mqp_jwks_parse(doc, &set, NULL, 0) != 0)
        set = NULL;
    json_object_put(doc);
    return set;
}

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return -1;
    *state = k;
    k->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    k->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k->other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (k->ec == NULL || k->rsa == NULL || k->other == NULL)
        return -1;
    k->jwks = jwks_of(k->ec, &k->ec_kid);
    return k->jwks && k->ec_kid ? 0 : -1;
}

static int teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->ec);
    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->other);
    mqp_jwks_free(k->jwks);
    free(k->ec_kid);
    free(k);
    return 0;
}

/* The claims of a good CAEP session-revoked SET issued now. */
static json_object *good_claims(void)
{
    json_object *c = json_object_new_object(), *events = json_object_new_object();
    json_object *sub = json_object_new_object(), *ev = json_object_new_object();

    json_object_object_add(c, "iss", json_object_new_string(ISS));
    json_object_object_add(c, "aud", json_object_new_string(AUD));
    json_object_object_add(c, "iat", json_object_new_int64((int64_t)time(NULL)));
    json_object_object_add(c, "jti", json_object_new_string("jti-1"));
    json_object_object_add(sub, "format", json_object_new_string("opaque"));
    json_object_object_add(sub, "id", json_object_new_string("session-1"));
    json_object_object_add(c, "sub_id", sub);
    json_object_object_add(ev, "event_timestamp", json_object_new_int64(1615304991));
    json_object_object_add(events, REVOKED, ev);
    json_object_object_add(c, "events", events);
    return c;
}

/* Sign claims (consumed) with key; typ and kid NULL: left out of the header. */
static char *sign(json_object *claims, EVP_PKEY *key, const char *typ, const char *kid)
{
    json_object *hdr = json_object_new_object();
    char *tok;

    if (typ)
        json_object_object_add(hdr, "typ", json_object_new_string(typ));
    if (kid)
        json_object_object_add(hdr, "kid", json_object_new_string(kid));
    tok = mqp_jwt_sign(claims, hdr, key);
    json_object_put(hdr);
    json_object_put(claims);
    assert_non_null(tok);
    return tok;
}

static char *good(struct keys *k)
{
    return sign(good_claims(), k->ec, "secevent+jwt", k->ec_kid);
}

static char *b64(const void *p, size_t len)
{
    size_t n;

    return mqp_b64url_encode(p, len, &n);
}

/* header.payload.sig with the given JSON header text, claims, and raw signature. */
static char *craft(const char *header, json_object *claims, const unsigned char *sig,
                   size_t sig_len)
{
    const char *payload = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN);
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    char *s = sig_len ? b64(sig, sig_len) : strdup("");
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *out = malloc(n);

    snprintf(out, n, "%s.%s.%s", h, p, s);
    free(h);
    free(p);
    free(s);
    json_object_put(claims);
    return out;
}

/* Parse then verify at now; *why set. */
static enum ssf_err check_at(struct keys *k, const char *tok, int64_t now, enum ssf_msg *why)
{
    struct ssf_set set;
    enum ssf_err e = ssf_set_parse(tok, strlen(tok), &set, why);

    if (e == SSF_OK)
        e = ssf_set_verify(&set, k->jwks, AUD, now, why);
    ssf_set_clear(&set);
    return e;
}

static enum ssf_err check(struct keys *k, const char *tok, enum ssf_msg *why)
{
    return check_at(k, tok, (int64_t)time(NULL), why);
}

/* check() of a token (freed) expecting e and m. */
static void expect(struct keys *k, char *tok, enum ssf_err e, enum ssf_msg m)
{
    enum ssf_msg why;

    assert_int_equal(check(k, tok, &why), e);
    assert_int_equal(why, m);
    free(tok);
}

static void test_good_set(void **state)
{
    struct keys *k = *state;
    char *tok = good(k), *padded;
    struct ssf_set set;
    enum ssf_msg why;
    size_t n;

    assert_int_equal(ssf_set_parse(tok, strlen(tok), &set, &why), SSF_OK);
    assert_string_equal(set.iss, ISS);
    assert_string_equal(set.jti, "jti-1");
    assert_string_equal(set.type, REVOKED);
    assert_true(json_object_is_type(set.event, json_type_object));
    assert_string_equal(json_object_get_string(json_object_object_get(set.sub_id, "id")),
                        "session-1");
    assert_int_equal(ssf_set_verify(&set, k->jwks, AUD, (int64_t)time(NULL), &why), SSF_OK);
    assert_int_equal(why, SSF_MSG_NONE);
    ssf_set_clear(&set);
    /* White space around the body (a trailing newline) is no fault. */
    n = strlen(tok) + 8;
    padded = malloc(n);
    snprintf(padded, n, " \r\n%s\n\t", tok);
    expect(k, padded, SSF_OK, SSF_MSG_NONE);
    /* "application/" may be spelt out, in any case; no kid: the one key that fits. */
    expect(k, sign(good_claims(), k->ec, "application/SecEvent+JWT", NULL), SSF_OK, SSF_MSG_NONE);
    free(tok);
}

static void test_typ(void **state)
{
    struct keys *k = *state;

    expect(k, sign(good_claims(), k->ec, NULL, k->ec_kid), SSF_INVALID_REQUEST, SSF_MSG_TYP);
    expect(k, sign(good_claims(), k->ec, "JWT", k->ec_kid), SSF_INVALID_REQUEST, SSF_MSG_TYP);
    expect(k, sign(good_claims(), k->ec, "at+jwt", k->ec_kid), SSF_INVALID_REQUEST, SSF_MSG_TYP);
    expect(k, sign(good_claims(), k->ec, "secevent", k->ec_kid), SSF_INVALID_REQUEST, SSF_MSG_TYP);
}

/* good_claims() with name removed (value NULL) or replaced. */
static char *with_claim(struct keys *k, const char *name, json_object *value)
{
    json_object *c = good_claims();

    if (value)
        json_object_object_add(c, name, value);
    else
        json_object_object_del(c, name);
    return sign(c, k->ec, "secevent+jwt", k->ec_kid);
}

static void test_missing_and_wrong_claims(void **state)
{
    struct keys *k = *state;
    json_object *two = json_object_new_object(), *notobj = json_object_new_object();
    json_object *sub = json_object_new_object(), *c;

    expect(k, with_claim(k, "iss", NULL), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "iss", json_object_new_int(1)), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "iss", json_object_new_string("")), SSF_INVALID_REQUEST,
           SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "jti", NULL), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "iat", NULL), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "iat", json_object_new_string("1700000000")), SSF_INVALID_REQUEST,
           SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "aud", json_object_new_int(7)), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "events", NULL), SSF_INVALID_REQUEST, SSF_MSG_CLAIMS);
    expect(k, with_claim(k, "exp", json_object_new_int64((int64_t)time(NULL) + 600)),
           SSF_INVALID_REQUEST, SSF_MSG_EXP);
    expect(k, with_claim(k, "sub_id", NULL), SSF_INVALID_REQUEST, SSF_MSG_SUBJECT);
    json_object_object_add(sub, "id", json_object_new_string("x"));
    expect(k, with_claim(k, "sub_id", sub), SSF_INVALID_REQUEST, SSF_MSG_SUBJECT);
    /* More than one event, none, or one that is not an object. */
    json_object_object_add(two, REVOKED, json_object_new_object());
    json_object_object_add(two, "https://example.com/other", json_object_new_object());
    expect(k, with_claim(k, "events", two), SSF_INVALID_REQUEST, SSF_MSG_EVENTS);
    expect(k, with_claim(k, "events", json_object_new_object()), SSF_INVALID_REQUEST,
           SSF_MSG_EVENTS);
    json_object_object_add(notobj, REVOKED, json_object_new_string("revoked"));
    expect(k, with_claim(k, "events", notobj), SSF_INVALID_REQUEST, SSF_MSG_EVENTS);
    /* The older CAEP form: the subject inside the event. */
    c = good_claims();
    sub = json_object_get(json_object_object_get(c, "sub_id"));
    json_object_object_del(c, "sub_id");
    json_object_object_add(json_object_object_get(json_object_object_get(c, "events"), REVOKED),
                           "subject", sub);
    expect(k, sign(c, k->ec, "secevent+jwt", k->ec_kid), SSF_OK, SSF_MSG_NONE);
}

static void test_not_a_jws(void **state)
{
    struct keys *k = *state;
    char *big = malloc(SSF_SET_MAX_BYTES + 2);
    struct ssf_set set;
    enum ssf_msg why;

    expect(k, strdup(""), SSF_INVALID_REQUEST, SSF_MSG_NO_BODY);
    expect(k, strdup(" \n"), SSF_INVALID_REQUEST, SSF_MSG_NO_BODY);
    expect(k, strdup("not a token"), SSF_INVALID_REQUEST, SSF_MSG_NOT_JWS);
    expect(k, strdup("eyJhbGciOiJFUzI1NiJ9.e30"), SSF_INVALID_REQUEST, SSF_MSG_NOT_JWS);
    expect(k, strdup("{\"iss\":\"x\"}"), SSF_INVALID_REQUEST, SSF_MSG_NOT_JWS);
    /* A payload that is JSON but not an object. */
    expect(k, strdup("eyJhbGciOiJFUzI1NiJ9.WzFd.AA"), SSF_INVALID_REQUEST, SSF_MSG_NOT_JWS);
    memset(big, 'a', SSF_SET_MAX_BYTES + 1);
    big[SSF_SET_MAX_BYTES + 1] = '\0';
    expect(k, big, SSF_INVALID_REQUEST, SSF_MSG_TOO_LARGE);
    assert_int_equal(ssf_set_parse(NULL, 5, &set, &why), SSF_INVALID_REQUEST);
    assert_int_equal(why, SSF_MSG_NO_BODY);
    ssf_set_clear(&set);
}

/* RFC 7519 6.1: an unsecured JWT parses, and never verifies. */
static void test_alg_none(void **state)
{
    struct keys *k = *state;

    expect(k, craft("{\"alg\":\"none\",\"typ\":\"secevent+jwt\"}", good_claims(), NULL, 0),
           SSF_INVALID_KEY, SSF_MSG_ALG);
    expect(k,
           craft("{\"alg\":\"none\",\"typ\":\"secevent+jwt\"}", good_claims(),
                 (const unsigned char *)"sig", 3),
           SSF_INVALID_KEY, SSF_MSG_ALG);
    expect(k, craft("{\"alg\":\"NONE\",\"typ\":\"secevent+jwt\"}", good_claims(), NULL, 0),
           SSF_INVALID_KEY, SSF_MSG_ALG);
}

/* The key-confusion attack: HS256 keyed with the transmitter's public key in PEM. */
static void test_hs256_with_public_key(void **state)
{
    struct keys *k = *state;
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"secevent+jwt\"}";
    json_object *claims = good_claims();
    const char *payload = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN);
    char *h = b64(hdr, strlen(hdr)), *p = b64(payload, strlen(payload)), *pem, input[4096];
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    long pem_len;

    assert_int_equal(PEM_write_bio_PUBKEY(bio, k->ec), 1);
    pem_len = BIO_get_mem_data(bio, &pem);
    snprintf(input, sizeof(input), "%s.%s", h, p);
    assert_non_null(HMAC(EVP_sha256(), pem, (int)pem_len, (unsigned char *)input, strlen(input),
                         mac, &mac_len));
    expect(k, craft(hdr, json_object_get(claims), mac, mac_len), SSF_INVALID_KEY, SSF_MSG_ALG);
    json_object_put(claims);
    BIO_free(bio);
    free(h);
    free(p);
}

static void test_keys(void **state)
{
    struct keys *k = *state;

    expect(k, sign(good_claims(), k->ec, "secevent+jwt", "no-such-kid"), SSF_INVALID_KEY,
           SSF_MSG_KEY_UNKNOWN);
    /* Another transmitter's key under our kid: the signature fails. */
    expect(k, sign(good_claims(), k->other, "secevent+jwt", k->ec_kid), SSF_INVALID_KEY,
           SSF_MSG_SIGNATURE);
    /* RS256: no RSA key in the set, whatever the kid says. */
    expect(k, sign(good_claims(), k->rsa, "secevent+jwt", k->ec_kid), SSF_INVALID_KEY,
           SSF_MSG_KEY_UNKNOWN);
}

static void test_tampered(void **state)
{
    struct keys *k = *state;
    char *tok = good(k), *last = strrchr(tok, '.'), *copy;
    json_object *claims;
    enum ssf_msg why;

    /* One signature byte changed. */
    copy = strdup(tok);
    copy[last - tok + 5] = copy[last - tok + 5] == 'A' ? 'B' : 'A';
    expect(k, copy, SSF_INVALID_KEY, SSF_MSG_SIGNATURE);
    /* The signature of one SET on the claims of another. */
    claims = good_claims();
    json_object_object_add(claims, "jti", json_object_new_string("jti-2"));
    copy = craft("{\"alg\":\"ES256\",\"typ\":\"secevent+jwt\"}", claims, NULL, 0);
    {
        char *dot = strrchr(copy, '.'), *joined = malloc(strlen(copy) + strlen(last) + 1);

        dot[0] = '\0';
        sprintf(joined, "%s%s", copy, last);
        assert_int_equal(check(k, joined, &why), SSF_INVALID_KEY);
        free(joined);
    }
    free(copy);
    free(tok);
}

static void test_audience(void **state)
{
    struct keys *k = *state;
    json_object *arr = json_object_new_array();

    expect(k, with_claim(k, "aud", json_object_new_string("https://other.example/")),
           SSF_INVALID_AUDIENCE, SSF_MSG_AUDIENCE);
    expect(k, with_claim(k, "aud", NULL), SSF_INVALID_AUDIENCE, SSF_MSG_AUDIENCE);
    json_object_array_add(arr, json_object_new_string("https://web.example/"));
    json_object_array_add(arr, json_object_new_string(AUD));
    expect(k, with_claim(k, "aud", arr), SSF_OK, SSF_MSG_NONE);
}

static void test_iat(void **state)
{
    struct keys *k = *state;
    int64_t now = (int64_t)time(NULL);
    enum ssf_msg why;
    char *tok = good(k);

    assert_int_equal(check_at(k, tok, now - SSF_SET_IAT_LEEWAY_S, &why), SSF_OK);
    assert_int_equal(check_at(k, tok, now - SSF_SET_IAT_LEEWAY_S - 2, &why), SSF_INVALID_REQUEST);
    assert_int_equal(why, SSF_MSG_IAT_FUTURE);
    /* Old SETs are not refused: a transmitter may retry for a long time. */
    assert_int_equal(check_at(k, tok, now + 30 * 86400, &why), SSF_OK);
    free(tok);
}

static void test_error_codes(void **state)
{
    (void)state;
    assert_null(ssf_err_code(SSF_OK));
    assert_string_equal(ssf_err_code(SSF_INVALID_REQUEST), "invalid_request");
    assert_string_equal(ssf_err_code(SSF_INVALID_KEY), "invalid_key");
    assert_string_equal(ssf_err_code(SSF_INVALID_ISSUER), "invalid_issuer");
    assert_string_equal(ssf_err_code(SSF_INVALID_AUDIENCE), "invalid_audience");
    assert_string_equal(ssf_err_code(SSF_AUTHENTICATION_FAILED), "authentication_failed");
    assert_string_equal(ssf_err_code(SSF_ACCESS_DENIED), "access_denied");
}

static void test_event_names(void **state)
{
    char name[MQP_ID_MAX + 1], small[4], longer[400];

    (void)state;
    assert_int_equal(ssf_set_event_name(REVOKED, name, sizeof(name)), 0);
    assert_string_equal(name, "session-revoked");
    assert_int_equal(ssf_set_event_name("urn:ietf:params:scim:event:create", name, sizeof(name)),
                     0);
    assert_string_equal(name, "create");
    assert_int_equal(ssf_set_event_name("https://example.com/events/", name, sizeof(name)), 0);
    assert_string_equal(name, "events");
    assert_int_equal(ssf_set_event_name("https://example.com/spec#frag", name, sizeof(name)), 0);
    assert_string_equal(name, "frag");
    assert_int_equal(ssf_set_event_name("https://example.com/a b?c=d", name, sizeof(name)), 0);
    assert_string_equal(name, "a-b-c-d");
    assert_int_equal(ssf_set_event_name("plain", name, sizeof(name)), 0);
    assert_string_equal(name, "plain");
    assert_int_equal(
        ssf_set_event_name("https://example.com/\xc3\xa9t\xc3\xa9", name, sizeof(name)), 0);
    assert_string_equal(name, "--t--");
    assert_int_equal(ssf_set_event_name("///", name, sizeof(name)), -1);
    assert_int_equal(ssf_set_event_name("x:/", name, sizeof(name)), 0);
    assert_string_equal(name, "x");
    assert_int_equal(ssf_set_event_name("abcdef", small, sizeof(small)), 0);
    assert_string_equal(small, "abc");
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ssf_set_event_name(longer, name, sizeof(name)), 0);
    assert_int_equal(strlen(name), MQP_ID_MAX);
}

static json_object *sid(const char *json)
{
    return json_tokener_parse(json);
}

/* ssf_subject_sessions() of json: expect user and session (NULL: none) or no match. */
static void sessions(const char *json, int match, const char *user, const char *session)
{
    json_object *o = sid(json);
    const char *u, *s;

    assert_non_null(o);
    assert_int_equal(ssf_subject_sessions(o, ISS, &u, &s), match);
    if (user)
        assert_string_equal(u, user);
    else
        assert_null(u);
    if (session)
        assert_string_equal(s, session);
    else
        assert_null(s);
    json_object_put(o);
}

static void test_subjects(void **state)
{
    (void)state;
    assert_true(ssf_subject_ends_sessions(REVOKED));
    assert_true(ssf_subject_ends_sessions("https://schemas.openid.net/secevent/risc/event-type/"
                                          "sessions-revoked"));
    assert_false(ssf_subject_ends_sessions(
        "https://schemas.openid.net/secevent/caep/event-type/credential-change"));
    sessions("{\"format\":\"opaque\",\"id\":\"s1\"}", 1, NULL, "s1");
    sessions("{\"format\":\"opaque\"}", 0, NULL, NULL);
    sessions("{\"format\":\"iss_sub\",\"iss\":\"" ISS "\",\"sub\":\"alice\"}", 1, "alice", NULL);
    sessions("{\"format\":\"iss_sub\",\"iss\":\"https://other/\",\"sub\":\"alice\"}", 0, NULL,
             NULL);
    sessions("{\"format\":\"jwt_id\",\"iss\":\"" ISS "\",\"jti\":\"j1\"}", 1, NULL, "j1");
    sessions("{\"format\":\"jwt_id\",\"iss\":\"https://other/\",\"jti\":\"j1\"}", 0, NULL, NULL);
    sessions("{\"format\":\"email\",\"email\":\"a@example.com\"}", 0, NULL, NULL);
    sessions("{\"format\":\"complex\",\"user\":{\"format\":\"iss_sub\",\"iss\":\"" ISS
             "\",\"sub\":\"alice\"},\"session\":{\"format\":\"opaque\",\"id\":\"s1\"},"
             "\"tenant\":{\"format\":\"opaque\",\"id\":\"t9\"}}",
             1, "alice", "s1");
    /* A device member cannot be compared: every session of the user. */
    sessions("{\"format\":\"complex\",\"user\":{\"format\":\"iss_sub\",\"iss\":\"" ISS
             "\",\"sub\":\"bob\"},\"device\":{\"format\":\"opaque\",\"id\":\"d1\"}}",
             1, "bob", NULL);
    sessions("{\"format\":\"complex\",\"user\":{\"format\":\"email\",\"email\":\"a@b.c\"},"
             "\"session\":{\"format\":\"opaque\",\"id\":\"s2\"}}",
             1, NULL, "s2");
    sessions("{\"format\":\"complex\",\"user\":{\"format\":\"iss_sub\",\"iss\":\"https://o/\","
             "\"sub\":\"bob\"},\"session\":{\"format\":\"opaque\",\"id\":\"s2\"}}",
             0, NULL, NULL);
    sessions("{\"format\":\"complex\",\"tenant\":{\"format\":\"opaque\",\"id\":\"t\"}}", 0, NULL,
             NULL);
    sessions("{\"format\":\"complex\",\"user\":\"alice\"}", 0, NULL, NULL);
    sessions("[1]", 0, NULL, NULL);
}

static void test_accept_language(void **state)
{
    (void)state;
    assert_int_equal(ssf_lang_pick(NULL, SSF_LANG_ALL), SSF_LANG_EN);
    assert_int_equal(ssf_lang_pick("", SSF_LANG_ALL), SSF_LANG_EN);
    assert_int_equal(ssf_lang_pick("de", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("de-CH", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("FR-ca, en;q=0.5", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("en-US, en;q=0.5", SSF_LANG_ALL), SSF_LANG_EN);
    /* q-values, not order, decide; of equal weight the first. */
    assert_int_equal(ssf_lang_pick("en;q=0.3, fr;q=0.9, de;q=0.7", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("de;q=0.5, fr;q=0.5", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("it, de;q=0.1", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("it, es", SSF_LANG_ALL), SSF_LANG_EN);
    assert_int_equal(ssf_lang_pick("de;q=0", SSF_LANG_ALL), SSF_LANG_EN);
    assert_int_equal(ssf_lang_pick("de;q=0.000, fr;q=0.001", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("de ; q=1.0", SSF_LANG_ALL), SSF_LANG_DE);
    /* "*" stands for what is not named: here German. */
    assert_int_equal(ssf_lang_pick("en;q=0.1, *;q=0.5", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("*", SSF_LANG_ALL), SSF_LANG_EN);
    /* Malformed elements are skipped, the rest counts. */
    assert_int_equal(ssf_lang_pick("de;q=2, fr", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("de;q=0.5x, fr;q=0.4", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("d\xc3\xa9, fr;q=0.4", SSF_LANG_ALL), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick(",,;,de", SSF_LANG_ALL), SSF_LANG_DE);
    assert_int_equal(ssf_lang_pick("deu", SSF_LANG_ALL), SSF_LANG_EN);
    /* Only what is offered; English always is. */
    assert_int_equal(ssf_lang_pick("de, fr;q=0.5", 1u << SSF_LANG_FR), SSF_LANG_FR);
    assert_int_equal(ssf_lang_pick("de", 0), SSF_LANG_EN);
    assert_string_equal(ssf_lang_tag(SSF_LANG_DE), "de");
    assert_int_equal(ssf_lang_from_tag("FR"), SSF_LANG_FR);
    assert_int_equal(ssf_lang_from_tag("it"), -1);
}

static void test_texts(void **state)
{
    (void)state;
    for (int m = 0; m < SSF_MSG_COUNT; m++)
        for (int l = 0; l < SSF_LANG_COUNT; l++) {
            const char *t = ssf_lang_text((enum ssf_msg)m, (enum ssf_lang)l);

            assert_non_null(t);
            assert_true(strlen(t) > 10);
            /* Each language its own words. */
            if (l > 0)
                assert_string_not_equal(t, ssf_lang_text((enum ssf_msg)m, SSF_LANG_EN));
        }
    assert_string_equal(ssf_lang_text(SSF_MSG_SIGNATURE, SSF_LANG_DE),
                        "Die Signatur des SET ist ungültig.");
}

static void test_seen(void **state)
{
    struct ssf_seen *s;
    char jti[32];

    (void)state;
    assert_int_equal(ssf__seen_new(&s), 0);
    assert_false(ssf__seen_has(s, "t", ISS, "j0"));
    ssf__seen_add(s, "t", ISS, "j0");
    ssf__seen_add(s, "t", ISS, "j0");
    assert_true(ssf__seen_has(s, "t", ISS, "j0"));
    assert_false(ssf__seen_has(s, "u", ISS, "j0"));
    assert_false(ssf__seen_has(s, "t", "https://other/", "j0"));
    for (int i = 1; i < SSF_SEEN_MAX; i++) {
        snprintf(jti, sizeof(jti), "j%d", i);
        ssf__seen_add(s, "t", ISS, jti);
    }
    assert_true(ssf__seen_has(s, "t", ISS, "j0"));
    /* One more: the oldest is forgotten, the newest kept. */
    ssf__seen_add(s, "t", ISS, "new");
    assert_false(ssf__seen_has(s, "t", ISS, "j0"));
    assert_true(ssf__seen_has(s, "t", ISS, "j1"));
    assert_true(ssf__seen_has(s, "t", ISS, "new"));
    ssf__seen_free(s);
    ssf__seen_free(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test(f)
    const struct CMUnitTest tests[] = {
        T(test_good_set),
        T(test_typ),
        T(test_missing_and_wrong_claims),
        T(test_not_a_jws),
        T(test_alg_none),
        T(test_hs256_with_public_key),
        T(test_keys),
        T(test_tampered),
        T(test_audience),
        T(test_iat),
        T(test_error_codes),
        T(test_event_names),
        T(test_subjects),
        T(test_accept_language),
        T(test_texts),
        T(test_seen),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
