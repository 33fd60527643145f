/* SETs of the SSF transmitter (bridge/ssf/set_make.c): claims, subjects, jti, signing; and
 * the SET outbox in the store (bridge/store/sqlite_ssf_out.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "jwt.h"
#include "ssf/set_make.h"
#include "store/store.h"

#define TYPE "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(o, k, &v));
    return v;
}

static void test_claims(void **state)
{
    json_object *sub = json_tokener_parse("{\"format\":\"opaque\",\"id\":\"u1\"}");
    json_object *ev = json_tokener_parse("{\"reason\":\"x\"}");
    struct ssf_set_in in = {.iss = "https://p.example/ssf/t",
                            .aud = "rx",
                            .jti = "e1.s1",
                            .txn = "c1",
                            .iat = 1700000000,
                            .type = TYPE,
                            .sub_id = sub,
                            .event = ev};
    json_object *c = ssf_set_make(&in), *events;

    (void)state;
    assert_non_null(c);
    assert_string_equal(json_object_get_string(member(c, "iss")), "https://p.example/ssf/t");
    assert_string_equal(json_object_get_string(member(c, "aud")), "rx");
    assert_int_equal(json_object_get_int64(member(c, "iat")), 1700000000);
    assert_string_equal(json_object_get_string(member(c, "jti")), "e1.s1");
    assert_string_equal(json_object_get_string(member(c, "txn")), "c1");
    assert_string_equal(json_object_get_string(member(member(c, "sub_id"), "id")), "u1");
    assert_false(json_object_object_get_ex(c, "sub", NULL));
    assert_false(json_object_object_get_ex(c, "exp", NULL));
    events = member(c, "events");
    assert_int_equal(json_object_object_length(events), 1);
    assert_string_equal(json_object_get_string(member(member(events, TYPE), "reason")), "x");
    json_object_put(c);
    /* no txn, no event claims: {} */
    in.txn = NULL;
    in.event = NULL;
    c = ssf_set_make(&in);
    assert_false(json_object_object_get_ex(c, "txn", NULL));
    assert_int_equal(json_object_object_length(member(member(c, "events"), TYPE)), 0);
    json_object_put(c);
    /* a sub_id without a format, or a missing member, is refused */
    in.sub_id = ev;
    assert_null(ssf_set_make(&in));
    in.sub_id = sub;
    in.aud = NULL;
    assert_null(ssf_set_make(&in));
    json_object_put(sub);
    json_object_put(ev);
}

static void test_subject_and_jti(void **state)
{
    json_object *obj = json_tokener_parse("{\"format\":\"email\",\"email\":\"a@b.c\"}");
    json_object *str = json_object_new_string("alice"), *num = json_object_new_int(7), *s;
    char buf[16];

    (void)state;
    s = ssf_set_subject(obj, "t/s");
    assert_ptr_equal(s, obj); /* taken as it is */
    json_object_put(s);
    s = ssf_set_subject(str, "t/s");
    assert_string_equal(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN),
                        "{\"format\":\"opaque\",\"id\":\"alice\"}");
    json_object_put(s);
    s = ssf_set_subject(num, "t/s");
    assert_string_equal(json_object_get_string(member(s, "id")), "7");
    json_object_put(s);
    s = ssf_set_subject(NULL, "t/s");
    assert_string_equal(json_object_get_string(member(s, "id")), "t/s");
    json_object_put(s);
    assert_int_equal(ssf_set_jti("e1", "s1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "e1.s1");
    assert_int_equal(ssf_set_jti("0123456789", "0123456789", buf, sizeof(buf)), -1);
    json_object_put(obj);
    json_object_put(str);
    json_object_put(num);
}

static void test_event_claims(void **state)
{
    json_object *ev = json_tokener_parse("{\"id\":\"1\",\"namespace\":\"a\",\"name\":\"b\","
                                         "\"timestamp\":\"t\",\"payload\":{\"user\":\"u\"}}");
    json_object *flat = json_tokener_parse("{\"id\":\"1\",\"namespace\":\"a\",\"name\":\"b\","
                                           "\"timestamp\":\"t\",\"x\":1}");
    json_object *c;

    (void)state;
    c = ssf_set_event_claims(ev, 42);
    assert_string_equal(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
                        "{\"user\":\"u\",\"event_timestamp\":42}");
    json_object_put(c);
    c = ssf_set_event_claims(flat, 42);
    assert_string_equal(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
                        "{\"x\":1,\"event_timestamp\":42}");
    json_object_put(c);
    json_object_put(ev);
    json_object_put(flat);
}

static void test_sign(void **state)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *jws = ssf_set_sign("{\"iss\":\"i\",\"events\":{}}", key, "kid-1");
    struct mqp_jwt jwt;
    char err[128];

    (void)state;
    assert_non_null(jws);
    assert_int_equal(mqp_jwt_decode(jws, strlen(jws), 65536, &jwt, err, sizeof(err)), 0);
    assert_string_equal(jwt.typ, SSF_SET_TYP);
    assert_string_equal(jwt.kid, "kid-1");
    assert_int_equal(jwt.alg, MQP_ALG_ES256);
    assert_int_equal(mqp_jwt_verify(&jwt, key), 0);
    assert_string_equal(json_object_get_string(member(jwt.claims, "iss")), "i");
    mqp_jwt_clear(&jwt);
    free(jws);
    assert_null(ssf_set_sign("not json", key, "k"));
    EVP_PKEY_free(key);
}

struct seen {
    int n;
    char jti[4][32];
    int attempts[4];
};

static int visit(void *ctx, const struct store_ssf_out *o)
{
    struct seen *s = ctx;

    snprintf(s->jti[s->n], sizeof(s->jti[0]), "%s", o->jti);
    s->attempts[s->n++] = o->attempts;
    return 0;
}

static void test_outbox(void **state)
{
    struct store *st = NULL;
    struct store_ssf_stream s = {.id = "s1",
                                 .tenant = "t",
                                 .aud = "a",
                                 .config = "{}",
                                 .status = "enabled",
                                 .created_at = 1,
                                 .updated_at = 1};
    struct store_ssf_out rows[3] = {
        {.stream_id = "s1", .jti = "j1", .claims = "{}", .created_ms = 1, .due_ms = 1},
        {.stream_id = "s1", .jti = "j2", .claims = "{}", .created_ms = 2, .due_ms = 2},
        {.stream_id = "s1", .jti = "j1", .claims = "{}", .created_ms = 3, .due_ms = 3},
    };
    struct seen seen = {0};
    char err[200];

    (void)state;
    assert_int_equal(store_open("sqlite::memory:", &st, err, sizeof(err)), 0);
    assert_int_equal(st->ops->ssf_stream_put(st, &s), 0);
    assert_int_equal(st->ops->ssf_out_add(st, rows, 3), 0);
    assert_true(rows[0].id > 0 && rows[1].id > rows[0].id);
    assert_int_equal(rows[2].id, 0); /* the same jti again: kept once */
    assert_int_equal(st->ops->ssf_out_retry(st, rows[1].id, 2, 99), 0);
    assert_int_equal(st->ops->ssf_out_each(st, visit, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.jti[0], "j1");
    assert_int_equal(seen.attempts[1], 2);
    assert_int_equal(st->ops->ssf_out_delete_jti(st, "s1", "j1"), 1);
    assert_int_equal(st->ops->ssf_out_delete_jti(st, "s1", "j1"), 0);
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", "{\"format\":\"x\"}", -1), 0);
    assert_int_equal(st->ops->ssf_subject_has(st, "s1", "{\"format\":\"x\"}"), 1);
    assert_int_equal(st->ops->ssf_subject_has(st, "s1", "{\"format\":\"y\"}"), 0);
    /* a deleted stream takes its SETs with it */
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 1);
    seen.n = 0;
    assert_int_equal(st->ops->ssf_out_each(st, visit, &seen), 0);
    assert_int_equal(seen.n, 0);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),       cmocka_unit_test(test_subject_and_jti),
        cmocka_unit_test(test_event_claims), cmocka_unit_test(test_sign),
        cmocka_unit_test(test_outbox),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
