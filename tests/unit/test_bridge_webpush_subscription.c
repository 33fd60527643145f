/*
 * The body of the Web Push subscription API (webpush_sub_parse()): the browser's
 * PushSubscription.toJSON() with the VAPID key and stream, for POST (keys required) and DELETE
 * (endpoint only). Every refusal is checked by its message, and a refusal leaves the output
 * empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"
#include "webpush/subscription.h"

/* RFC 8291 Appendix A: a user agent's public key and authentication secret. */
static const char UA_PUBLIC[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
static const char AUTH[] = "BTBZMqHH6r4Tts7J_aSIgg";
static const char VAPID[] = "BAAAvapidkey";
static const char ENDPOINT[] = "https://push.example.net/wpush/v2/abc";

/* v as a JSON value: a string, or raw JSON when it starts with '#' (the '#' left out). */
static const char *json_value(const char *v, char *buf, size_t cap)
{
    if (v[0] == '#')
        snprintf(buf, cap, "%s", v + 1);
    else
        snprintf(buf, cap, "\"%s\"", v);
    return buf;
}

/* A POST body with these members (NULL leaves one out); caller frees. */
static char *body(const char *endpoint, const char *p256dh, const char *auth, const char *vapid,
                  const char *stream)
{
    size_t cap = 8192, n = 0;
    char *out = malloc(cap), v[2100];

    assert_non_null(out);
    n += (size_t)snprintf(out + n, cap - n, "{\"subscription\":{");
    if (endpoint)
        n += (size_t)snprintf(out + n, cap - n, "\"endpoint\":%s,",
                              json_value(endpoint, v, sizeof(v)));
    n += (size_t)snprintf(out + n, cap - n, "\"expirationTime\":null,\"keys\":{");
    if (p256dh)
        n += (size_t)snprintf(out + n, cap - n, "\"p256dh\":%s%s", json_value(p256dh, v, sizeof(v)),
                              auth ? "," : "");
    if (auth)
        n += (size_t)snprintf(out + n, cap - n, "\"auth\":%s", json_value(auth, v, sizeof(v)));
    n += (size_t)snprintf(out + n, cap - n, "}}");
    if (vapid)
        n += (size_t)snprintf(out + n, cap - n, ",\"vapid\":%s", json_value(vapid, v, sizeof(v)));
    if (stream)
        n += (size_t)snprintf(out + n, cap - n, ",\"stream\":%s", json_value(stream, v, sizeof(v)));
    snprintf(out + n, cap - n, "}");
    return out;
}

static void assert_empty(const struct webpush_sub_req *r)
{
    struct webpush_sub_req zero;

    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(r, &zero, sizeof(zero));
}

/* Parse text; it must be refused with a message containing want. */
static void refused_len(const char *text, size_t len, bool need_keys, const char *want)
{
    struct webpush_sub_req r;
    char err[256];

    memset(&r, 0x5a, sizeof(r)); /* whatever was there before is overwritten */
    err[0] = '\0';
    if (webpush_sub_parse(text, len, need_keys, &r, err, sizeof(err)) != -1) {
        webpush_sub_req_clear(&r);
        fail_msg("accepted: %.200s", text ? text : "(null)");
    }
    assert_empty(&r);
    if (strstr(err, want) == NULL)
        fail_msg("for %.200s: message \"%s\", wanted \"%s\"", text ? text : "(null)", err, want);
}

static void refused(const char *text, bool need_keys, const char *want)
{
    refused_len(text, text ? strlen(text) : 0, need_keys, want);
}

/* refused() for a body built by body(), which is freed. */
static void refused_body(char *text, const char *want)
{
    refused(text, true, want);
    free(text);
}

static void accepted(const char *text, bool need_keys, struct webpush_sub_req *r)
{
    char err[256] = "";

    if (webpush_sub_parse(text, strlen(text), need_keys, r, err, sizeof(err)) != 0)
        fail_msg("refused (%s): %.200s", err, text);
}

static void test_post_accepted(void **state)
{
    struct webpush_sub_req r;
    unsigned char *key, *auth;
    size_t klen, alen;
    char *b = body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, "alerts");

    (void)state;
    accepted(b, true, &r);
    free(b);
    key = mqp_b64url_decode(UA_PUBLIC, strlen(UA_PUBLIC), &klen);
    auth = mqp_b64url_decode(AUTH, strlen(AUTH), &alen);
    assert_int_equal(klen, WEBPUSH_KEY_LEN);
    assert_int_equal(alen, WEBPUSH_AUTH_LEN);
    assert_string_equal(r.endpoint, ENDPOINT);
    assert_memory_equal(r.p256dh, key, WEBPUSH_KEY_LEN);
    assert_memory_equal(r.auth, auth, WEBPUSH_AUTH_LEN);
    assert_true(r.has_keys);
    assert_string_equal(r.vapid, VAPID);
    assert_string_equal(r.stream, "alerts");
    webpush_sub_req_clear(&r);
    assert_empty(&r);
    free(key);
    free(auth);

    /* no stream: the tenant's default; members in another order, unknown members ignored */
    accepted("{\"vapid\":\"k\",\"extra\":[1,{\"a\":null}],\"subscription\":{\"keys\":{\"auth\":"
             "\"BTBZMqHH6r4Tts7J_aSIgg\",\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx"
             "aOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4\"},\"endpoint\":\"http://127.0.0.1:9/p\","
             "\"expirationTime\":1700000000000}}",
             true, &r);
    assert_string_equal(r.endpoint, "http://127.0.0.1:9/p");
    assert_null(r.stream);
    assert_string_equal(r.vapid, "k");
    webpush_sub_req_clear(&r);
}

static void test_post_limits(void **state)
{
    char endpoint[WEBPUSH_ENDPOINT_MAX + 2], stream[131];
    struct webpush_sub_req r;
    char *b;

    (void)state;
    /* an endpoint of exactly WEBPUSH_ENDPOINT_MAX bytes is accepted, one more is not */
    memset(endpoint, 'a', sizeof(endpoint));
    memcpy(endpoint, "https://p.example/", 18);
    endpoint[WEBPUSH_ENDPOINT_MAX] = '\0';
    b = body(endpoint, UA_PUBLIC, AUTH, VAPID, NULL);
    accepted(b, true, &r);
    assert_int_equal(strlen(r.endpoint), WEBPUSH_ENDPOINT_MAX);
    webpush_sub_req_clear(&r);
    free(b);
    endpoint[WEBPUSH_ENDPOINT_MAX] = 'a';
    endpoint[WEBPUSH_ENDPOINT_MAX + 1] = '\0';
    refused_body(body(endpoint, UA_PUBLIC, AUTH, VAPID, NULL), "must be 1 to 1000 bytes");

    /* a stream id of 128 bytes is accepted, 129 is not */
    memset(stream, 's', sizeof(stream));
    stream[128] = '\0';
    b = body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, stream);
    accepted(b, true, &r);
    assert_int_equal(strlen(r.stream), 128);
    webpush_sub_req_clear(&r);
    free(b);
    stream[128] = 's';
    stream[129] = '\0';
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, stream), "stream must be a stream id");
}

static void test_document_refused(void **state)
{
    static const char with_nul[] = "{\"endpoint\":\"https://a.example/\"}\0{}";
    char deep[256];
    size_t i, n = 0;

    (void)state;
    refused(NULL, true, "a JSON body is required");
    refused_len("{}", 0, true, "a JSON body is required");
    refused(NULL, false, "a JSON body is required");
    refused("{\"subscription\":", true, "JSON");
    refused("{\"endpoint\":\"https://a.example/\"}{}", false, "JSON");
    refused("{\"endpoint\":\"https://a.example/\"}x", false, "JSON");
    refused("{\"endpoint\":\"https://a.example/\"", false, "JSON");
    /* the length given is what counts, not a NUL inside it */
    refused_len(with_nul, sizeof(with_nul) - 1, false, "JSON");
    /* nesting deeper than any JSON reader of the bridge takes (64) */
    n +=
        (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"endpoint\":\"https://a.example/\",\"x\":");
    for (i = 0; i < 100; i++)
        deep[n++] = '[';
    for (i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    refused(deep, false, "JSON");

    refused("[]", true, "must be a JSON object");
    refused("\"https://a.example/\"", false, "must be a JSON object");
    refused("[1, 2]", false, "must be a JSON object");
    refused("null", false, "JSON"); /* json-c reads null as no object: a message all the same */

    refused("{\"subscription\":[]}", true, "subscription must be an object");
    refused("{\"subscription\":\"https://a.example/\"}", false, "subscription must be an object");
    refused("{\"subscription\":{\"endpoint\":\"https://a.example/\",\"keys\":[]}}", true,
            "subscription.keys must be an object");
    refused("{\"subscription\":{\"endpoint\":\"https://a.example/\",\"keys\":null}}", false,
            "subscription.keys must be an object");
}

static void test_trailing_white_space_accepted(void **state)
{
    struct webpush_sub_req r;
    char *b = body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, NULL), *padded;

    (void)state;
    /* RFC 8259 2: JSON-text = ws value ws; "curl -d @file" sends the file's final newline */
    padded = malloc(strlen(b) + 8);
    assert_non_null(padded);
    sprintf(padded, " \n%s\r\n", b);
    accepted(padded, true, &r);
    assert_string_equal(r.endpoint, ENDPOINT);
    webpush_sub_req_clear(&r);
    free(padded);
    free(b);
}

/* Bodies that are not JSON (RFC 8259) but that a lenient parser reads: refused, as the other
 * JSON readers of the bridge refuse them. */
static void test_not_strict_json_refused(void **state)
{
    static const char *const lenient[] = {
        "{'endpoint':'https://a.example/'}",
        "{\"endpoint\":\"https://a.example/\",}",
        "{\"endpoint\":\"https://a.example/\" /* comment */}",
        "{\"endpoint\":\"https://a.example/\",\"stream\":\"\xff\xfe\"}",
    };
    struct webpush_sub_req r;
    char err[256];
    size_t i, n_accepted = 0;

    (void)state;
    for (i = 0; i < sizeof(lenient) / sizeof(lenient[0]); i++) {
        if (webpush_sub_parse(lenient[i], strlen(lenient[i]), false, &r, err, sizeof(err)) == 0) {
            print_message("accepted: %s\n", lenient[i]);
            webpush_sub_req_clear(&r);
            n_accepted++;
        }
    }
    assert_int_equal(n_accepted, 0);
}

static void test_types_refused(void **state)
{
    (void)state;
    refused_body(body("#42", UA_PUBLIC, AUTH, VAPID, NULL), "must be strings");
    refused_body(body("#null", UA_PUBLIC, AUTH, VAPID, NULL), "must be strings");
    refused_body(body(ENDPOINT, "#[]", AUTH, VAPID, NULL), "must be strings");
    refused_body(body(ENDPOINT, UA_PUBLIC, "#true", VAPID, NULL), "must be strings");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, "#12", NULL), "must be strings");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, "#{}"), "must be strings");
    /* a NUL inside a string would cut it short where C reads it */
    refused_body(body("https://a.example/x\\u0000y", UA_PUBLIC, AUTH, VAPID, NULL),
                 "must be strings");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, "k\\u0000", NULL), "must be strings");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, "alerts\\u0000x"), "must be strings");
}

static void test_endpoint_refused(void **state)
{
    (void)state;
    refused_body(body(NULL, UA_PUBLIC, AUTH, VAPID, NULL), "subscription.endpoint is required");
    /* POST takes the endpoint only from the subscription */
    refused("{\"endpoint\":\"https://a.example/\",\"subscription\":{\"keys\":{}},\"vapid\":\"k\"}",
            true, "subscription.endpoint is required");
    refused_body(body("", UA_PUBLIC, AUTH, VAPID, NULL), "must be 1 to 1000 bytes");
    refused_body(body("https://a.example/a b", UA_PUBLIC, AUTH, VAPID, NULL),
                 "without spaces or control characters");
    refused_body(body("https://a.example/\\t", UA_PUBLIC, AUTH, VAPID, NULL),
                 "without spaces or control characters");
    refused_body(body("https://a.example/\\u007f", UA_PUBLIC, AUTH, VAPID, NULL),
                 "without spaces or control characters");
    refused_body(body("https://\xc3\xa9.example/", UA_PUBLIC, AUTH, VAPID, NULL),
                 "without spaces or control characters");
    refused_body(body("ftp://a.example/", UA_PUBLIC, AUTH, VAPID, NULL), "must be an https URL");
    refused_body(body("//a.example/", UA_PUBLIC, AUTH, VAPID, NULL), "must be an https URL");
    refused_body(body("https:/a.example/", UA_PUBLIC, AUTH, VAPID, NULL), "must be an https URL");
    refused_body(body("javascript:alert(1)", UA_PUBLIC, AUTH, VAPID, NULL), "must be an https URL");
}

static void test_keys_refused(void **state)
{
    char *k64 = NULL, *a17 = NULL, *off_curve = NULL, *compressed = NULL;
    unsigned char raw[WEBPUSH_KEY_LEN];

    (void)state;
    refused_body(body(ENDPOINT, NULL, AUTH, VAPID, NULL), "subscription.keys.p256dh is required");
    refused_body(body(ENDPOINT, UA_PUBLIC, NULL, VAPID, NULL),
                 "subscription.keys.auth is required");
    refused("{\"subscription\":{\"endpoint\":\"https://a.example/\"},\"vapid\":\"k\"}", true,
            "subscription.keys.p256dh is required");
    refused_body(body(ENDPOINT, "BCVx+r7N/eNg", AUTH, VAPID, NULL),
                 "subscription.keys.p256dh is not base64url");
    refused_body(body(ENDPOINT, UA_PUBLIC, "BTBZMqHH6r4Tts7J_aSIg!", VAPID, NULL),
                 "subscription.keys.auth is not base64url");
    refused_body(body(ENDPOINT, "", AUTH, VAPID, NULL), "must be 65 bytes, not 0");

    memset(raw, 0x11, sizeof(raw));
    raw[0] = 4;
    k64 = mqp_b64url_encode(raw, 64, NULL);
    refused_body(body(ENDPOINT, k64, AUTH, VAPID, NULL), "p256dh must be 65 bytes, not 64");
    a17 = mqp_b64url_encode(raw, 17, NULL);
    refused_body(body(ENDPOINT, UA_PUBLIC, a17, VAPID, NULL), "auth must be 16 bytes, not 17");
    refused_body(body(ENDPOINT, UA_PUBLIC, "AAAAAAAAAAAAAAAAAAAA", VAPID, NULL),
                 "auth must be 16 bytes, not 15");
    /* 65 bytes of the right form, but not a point on the curve */
    off_curve = mqp_b64url_encode(raw, sizeof(raw), NULL);
    refused_body(body(ENDPOINT, off_curve, AUTH, VAPID, NULL), "is not a P-256 point");
    /* the compressed form of a point (RFC 8291 3 wants the uncompressed one) */
    raw[0] = 2;
    compressed = mqp_b64url_encode(raw, 33, NULL);
    refused_body(body(ENDPOINT, compressed, AUTH, VAPID, NULL), "must be 65 bytes, not 33");
    free(k64);
    free(a17);
    free(off_curve);
    free(compressed);
}

static void test_vapid_and_stream_refused(void **state)
{
    (void)state;
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, NULL, NULL), "vapid");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, "", NULL), "is required");
    refused_body(body(ENDPOINT, UA_PUBLIC, AUTH, VAPID, ""), "stream must be a stream id");
}

static void test_delete(void **state)
{
    struct webpush_sub_req r;

    (void)state;
    /* a top-level endpoint, or the subscription's; no keys or vapid needed */
    accepted("{\"endpoint\":\"https://a.example/1\"}", false, &r);
    assert_string_equal(r.endpoint, "https://a.example/1");
    assert_false(r.has_keys);
    assert_null(r.vapid);
    assert_null(r.stream);
    webpush_sub_req_clear(&r);
    accepted("{\"subscription\":{\"endpoint\":\"https://a.example/2\"},\"endpoint\":\"https://"
             "a.example/3\"}",
             false, &r);
    assert_string_equal(r.endpoint, "https://a.example/2");
    webpush_sub_req_clear(&r);
    /* keys are not looked at for DELETE, as long as they are strings */
    accepted("{\"subscription\":{\"endpoint\":\"https://a.example/4\",\"keys\":{\"p256dh\":\"x\","
             "\"auth\":\"\"}},\"vapid\":\"v\",\"stream\":\"s\"}",
             false, &r);
    assert_false(r.has_keys);
    assert_string_equal(r.vapid, "v");
    assert_string_equal(r.stream, "s");
    webpush_sub_req_clear(&r);

    refused("{}", false, "subscription.endpoint is required");
    refused("{\"subscription\":{}}", false, "subscription.endpoint is required");
    /* a subscription.endpoint of the wrong type is not replaced by the top-level one */
    refused("{\"subscription\":{\"endpoint\":1},\"endpoint\":\"https://a.example/\"}", false,
            "must be strings");
    refused("{\"endpoint\":[\"https://a.example/\"]}", false, "must be strings");
    refused("{\"endpoint\":\"https://a.example/\",\"subscription\":{\"keys\":{\"auth\":1}}}", false,
            "must be strings");
    refused("{\"endpoint\":\"mailto:a@example.com\"}", false, "must be an https URL");
    refused("{\"endpoint\":\"https://a.example/\",\"stream\":\"\"}", false,
            "stream must be a stream id");
    /* the same body is fine for DELETE and not for POST */
    refused("{\"endpoint\":\"https://a.example/1\"}", true, "subscription.endpoint is required");
}

static void test_short_error_buffer(void **state)
{
    struct webpush_sub_req r;
    char err[8];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(webpush_sub_parse("[]", 2, true, &r, err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_memory_equal(err, "the bod", 8);
    webpush_sub_req_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_accepted),
        cmocka_unit_test(test_post_limits),
        cmocka_unit_test(test_document_refused),
        cmocka_unit_test(test_trailing_white_space_accepted),
        cmocka_unit_test(test_not_strict_json_refused),
        cmocka_unit_test(test_types_refused),
        cmocka_unit_test(test_endpoint_refused),
        cmocka_unit_test(test_keys_refused),
        cmocka_unit_test(test_vapid_and_stream_refused),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_short_error_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
