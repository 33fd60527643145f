/*
 * Unit tests for core/claims.c: NumericDate, string claims, "aud" and the JOSE "typ".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "claims.h"

static json_object *doc(const char *json)
{
    json_object *o = json_tokener_parse(json);

    assert_non_null(o);
    return o;
}

static void test_numeric_date(void **state)
{
    json_object *c = doc("{\"a\":1700000000,\"b\":1.9,\"c\":\"1\",\"d\":1e30,\"e\":-1e30,"
                         "\"f\":null,\"g\":99999999999999999999}");
    int64_t v = 0;

    (void)state;
    assert_int_equal(mqp_claim_numeric_date(c, "a", &v), 0);
    assert_int_equal(v, 1700000000);
    assert_int_equal(mqp_claim_numeric_date(c, "b", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(mqp_claim_numeric_date(c, "c", &v), -1);
    assert_int_equal(mqp_claim_numeric_date(c, "d", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(mqp_claim_numeric_date(c, "e", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(mqp_claim_numeric_date(c, "f", &v), -1);
    assert_int_equal(mqp_claim_numeric_date(c, "g", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(mqp_claim_numeric_date(c, "missing", &v), 1);
    json_object_put(c);
}

static void test_string(void **state)
{
    json_object *c = doc("{\"s\":\"x\",\"n\":1,\"z\":\"a\\u0000b\"}");
    const char *s = "unchanged";

    (void)state;
    assert_int_equal(mqp_claim_string(c, "s", &s), 0);
    assert_string_equal(s, "x");
    assert_int_equal(mqp_claim_string(c, "missing", &s), 0);
    assert_null(s);
    assert_int_equal(mqp_claim_string(c, "n", &s), -1);
    assert_null(s);
    assert_int_equal(mqp_claim_string(c, "z", &s), -1);
    json_object_put(c);
}

static void test_audience(void **state)
{
    json_object *one = doc("{\"aud\":\"rx\"}"), *many = doc("{\"aud\":[\"a\",\"rx\"]}");
    json_object *bad = doc("{\"aud\":[\"rx\",1]}"), *num = doc("{\"aud\":5}"), *none = doc("{}");
    json_object *nul = doc("{\"aud\":\"rx\\u0000evil\"}");

    (void)state;
    assert_int_equal(mqp_claim_aud_contains(one, "rx"), 1);
    assert_int_equal(mqp_claim_aud_contains(one, "r"), 0);
    assert_int_equal(mqp_claim_aud_contains(one, NULL), 0);
    assert_int_equal(mqp_claim_aud_contains(many, "rx"), 1);
    assert_int_equal(mqp_claim_aud_contains(many, "b"), 0);
    assert_int_equal(mqp_claim_aud_contains(bad, "rx"), -1);
    assert_int_equal(mqp_claim_aud_contains(num, "rx"), -1);
    assert_int_equal(mqp_claim_aud_contains(none, "rx"), 0);
    /* Compared with its length: an embedded NUL does not make a prefix match. */
    assert_int_equal(mqp_claim_aud_contains(nul, "rx"), 0);
    json_object_put(one);
    json_object_put(many);
    json_object_put(bad);
    json_object_put(num);
    json_object_put(none);
    json_object_put(nul);
}

static void test_typ(void **state)
{
    (void)state;
    assert_true(mqp_jose_typ_is("secevent+jwt", "secevent+jwt"));
    assert_true(mqp_jose_typ_is("application/secevent+jwt", "secevent+jwt"));
    assert_true(mqp_jose_typ_is("APPLICATION/SecEvent+JWT", "application/secevent+jwt"));
    assert_false(mqp_jose_typ_is("JWT", "secevent+jwt"));
    assert_false(mqp_jose_typ_is("text/secevent+jwt", "secevent+jwt"));
    assert_false(mqp_jose_typ_is(NULL, "secevent+jwt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_date),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_typ),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
