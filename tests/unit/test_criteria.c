/* Criteria: the push-service form, deep equality, numbers by value, missing paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "criteria.h"

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);

    if (!o && strcmp(text, "null") != 0)
        fail_msg("test JSON does not parse: %s", text);
    return o;
}

/* Compile spec, match it against event, free both; returns the match. */
static bool matches(const char *spec_text, const char *event_text)
{
    json_object *spec = parse(spec_text), *event = parse(event_text);
    struct mqp_criteria *c = NULL;
    char err[200] = "";
    bool m;

    if (mqp_criteria_compile(spec, &c, err, sizeof(err)) != 0)
        fail_msg("criteria %s: %s", spec_text, err);
    /* The compiled form holds its own references: the spec may go first. */
    json_object_put(spec);
    m = mqp_criteria_match(c, event);
    mqp_criteria_free(c);
    json_object_put(event);
    return m;
}

static bool equal_text(const char *a, const char *b)
{
    json_object *ja = parse(a), *jb = parse(b);
    bool eq = mqp_json_equal(ja, jb);

    /* Equality is symmetric. */
    assert_int_equal(eq, mqp_json_equal(jb, ja));
    json_object_put(ja);
    json_object_put(jb);
    return eq;
}

static const char *const order_event =
    "{\"correlationId\": \"c-1\", \"context\": {\"tenant\": \"acme\", \"user\": {\"id\": 7, "
    "\"roles\": [\"a\", \"b\"]}}, \"payload\": {\"total\": 100, \"items\": [{\"sku\": \"A\", "
    "\"qty\": 2}, {\"sku\": \"B\", \"qty\": 1.5}], \"note\": null, \"vip\": true}}";

static void test_push_service_form(void **state)
{
    (void)state;
    assert_true(matches("{\"correlationId\": \"c-1\"}", order_event));
    assert_false(matches("{\"correlationId\": \"c-2\"}", order_event));
    /* context must deep-equal the given object; key order does not matter. */
    assert_true(matches("{\"correlationId\": \"c-1\", \"context\": {\"user\": {\"roles\": [\"a\", "
                        "\"b\"], \"id\": 7}, \"tenant\": \"acme\"}}",
                        order_event));
    /* A subset is not enough: it is equality, not containment. */
    assert_false(matches("{\"context\": {\"tenant\": \"acme\"}}", order_event));
    assert_false(matches("{\"context\": {\"tenant\": \"acme\", \"user\": {\"id\": 7, \"roles\": "
                         "[\"a\", \"b\"]}, \"extra\": 1}}",
                         order_event));
    assert_false(matches("{\"context\": {\"tenant\": \"acme\", \"user\": {\"id\": 8, \"roles\": "
                         "[\"a\", \"b\"]}}}",
                         order_event));
}

static void test_correlation_id_unconstrained(void **state)
{
    const char *no_corr = "{\"context\": {\"a\": 1}}";

    (void)state;
    assert_true(matches("{\"correlationId\": \"\"}", order_event));
    assert_true(matches("{\"correlationId\": null}", order_event));
    assert_true(matches("{\"correlationId\": \"\"}", no_corr));
    assert_true(matches("{\"correlationId\": null, \"context\": {\"a\": 1}}", no_corr));
    assert_false(matches("{\"correlationId\": \"\", \"context\": {\"a\": 2}}", no_corr));
    /* The rule is for correlationId only: other keys asking for "" or null are constraints. */
    assert_false(matches("{\"payload.sub\": \"\"}", order_event));
    assert_false(matches("{\"payload.sub\": null}", order_event));
    /* A set correlationId still constrains an event that has none. */
    assert_false(matches("{\"correlationId\": \"c-1\"}", no_corr));
}

static void test_nested_paths(void **state)
{
    (void)state;
    assert_true(matches("{\"payload.items[0].sku\": \"A\"}", order_event));
    assert_true(matches("{\"payload.items.1.sku\": \"B\", \"payload.vip\": true}", order_event));
    assert_false(matches("{\"payload.items.1.sku\": \"B\", \"payload.vip\": false}", order_event));
    assert_true(matches("{\"context.user.id\": 7}", order_event));
    assert_true(matches("{\"payload.items[1]\": {\"qty\": 1.5, \"sku\": \"B\"}}", order_event));
    assert_false(matches("{\"payload.items[1]\": {\"qty\": 1.5}}", order_event));
}

static void test_arrays(void **state)
{
    (void)state;
    assert_true(matches("{\"context.user.roles\": [\"a\", \"b\"]}", order_event));
    assert_false(matches("{\"context.user.roles\": [\"b\", \"a\"]}", order_event));
    assert_false(matches("{\"context.user.roles\": [\"a\"]}", order_event));
    assert_false(matches("{\"context.user.roles\": [\"a\", \"b\", \"c\"]}", order_event));
    assert_false(matches("{\"context.user.roles\": \"a\"}", order_event));
    assert_true(equal_text("[[1, {\"a\": [null]}], []]", "[[1.0, {\"a\": [null]}], []]"));
    assert_false(equal_text("[[1, {\"a\": [null]}], []]", "[[1, {\"a\": [false]}], []]"));
    assert_false(equal_text("[]", "{}"));
}

static void test_numbers_by_value(void **state)
{
    (void)state;
    assert_true(matches("{\"payload.total\": 100.0}", order_event));
    assert_true(matches("{\"payload.total\": 1e2}", order_event));
    assert_false(matches("{\"payload.total\": 100.5}", order_event));
    assert_true(matches("{\"payload.items[1].qty\": 1.5}", order_event));
    assert_false(matches("{\"payload.total\": \"100\"}", order_event));
    assert_true(equal_text("1", "1.0"));
    assert_true(equal_text("-3", "-3.0"));
    assert_true(equal_text("0", "-0.0"));
    assert_true(equal_text("0.5", "5e-1"));
    assert_false(equal_text("1", "1.0000001"));
    assert_false(equal_text("1", "true"));
    /* 2^53 + 1 has no double: the nearest one (2^53) must not compare equal. */
    assert_false(equal_text("9007199254740993", "9007199254740992.0"));
    assert_true(equal_text("9007199254740992", "9007199254740992.0"));
    /* Beyond int64: json-c keeps uint64; INT64_MAX is a different number. */
    assert_true(equal_text("18446744073709551615", "18446744073709551615"));
    assert_false(equal_text("18446744073709551615", "9223372036854775807"));
    assert_true(equal_text("9223372036854775808", "9223372036854775808.0"));
    assert_false(equal_text("9223372036854775807", "9223372036854775808"));
    assert_true(equal_text("-9223372036854775808", "-9223372036854775808.0"));
    assert_false(equal_text("-9223372036854775808", "9223372036854775808.0"));
    assert_false(equal_text("-1", "18446744073709551615"));
    assert_false(equal_text("1", "1e400"));
    assert_false(equal_text("18446744073709551615", "1.8446744073709552e19"));
}

static void test_strings_bytewise(void **state)
{
    (void)state;
    assert_true(equal_text("\"\\u00e9\"", "\"\xc3\xa9\""));
    /* Composed and decomposed forms are different bytes. */
    assert_false(equal_text("\"\xc3\xa9\"", "\"e\xcc\x81\""));
    assert_false(equal_text("\"a\\u0000b\"", "\"a\\u0000c\""));
    assert_true(equal_text("\"a\\u0000b\"", "\"a\\u0000b\""));
    assert_false(equal_text("\"a\"", "\"A\""));
    assert_false(equal_text("\"ab\"", "\"a\""));
}

static void test_missing_paths(void **state)
{
    (void)state;
    assert_false(matches("{\"payload.nope\": 1}", order_event));
    assert_false(matches("{\"payload.items[5].sku\": \"A\"}", order_event));
    /* Missing is not null ... */
    assert_false(matches("{\"payload.nope\": null}", order_event));
    /* ... but an explicit null is. */
    assert_true(matches("{\"payload.note\": null}", order_event));
    assert_false(matches("{\"payload.note\": 0}", order_event));
    assert_false(matches("{\"payload.vip\": null}", order_event));
}

static void test_empty_criteria(void **state)
{
    struct mqp_criteria *c = NULL;
    json_object *event = parse(order_event);

    (void)state;
    assert_true(matches("{}", order_event));
    assert_true(matches("{}", "{}"));
    assert_int_equal(mqp_criteria_compile(NULL, &c, NULL, 0), 0);
    assert_non_null(c);
    assert_true(mqp_criteria_match(c, event));
    mqp_criteria_free(c);
    assert_true(mqp_criteria_match(NULL, event));
    mqp_criteria_free(NULL);
    json_object_put(event);
}

static void want_compile_error(const char *spec_text, const char *fragment)
{
    json_object *spec = parse(spec_text);
    struct mqp_criteria *c = (struct mqp_criteria *)&spec;
    char err[200] = "";

    assert_int_equal(mqp_criteria_compile(spec, &c, err, sizeof(err)), -1);
    assert_null(c);
    if (!strstr(err, fragment))
        fail_msg("criteria %s: error \"%s\" lacks \"%s\"", spec_text, err, fragment);
    json_object_put(spec);
}

static void test_compile_errors(void **state)
{
    char big[64 * (MQP_CRITERIA_MAX_ENTRIES + 2)];
    size_t o = 0;

    (void)state;
    want_compile_error("[]", "must be an object");
    want_compile_error("\"x\"", "must be an object");
    want_compile_error("{\"payload..x\": 1}", "payload..x: ");
    want_compile_error("{\"ok\": 1, \"a[\": 1}", "unbalanced");
    want_compile_error("{\"\": 1}", "empty path");

    o += (size_t)snprintf(big + o, sizeof(big) - o, "{");
    for (int i = 0; i <= MQP_CRITERIA_MAX_ENTRIES; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%s\"k%d\": 1", i ? ", " : "", i);
    snprintf(big + o, sizeof(big) - o, "}");
    want_compile_error(big, "more than");
}

static void test_deep_values(void **state)
{
    json_object *a = NULL, *b = NULL;

    (void)state;
    /* Two identical chains: equal while shallow, refused once deeper than the limit. */
    for (int depth = 1; depth <= 200; depth++) {
        json_object *na = json_object_new_array(), *nb = json_object_new_array();

        if (a)
            json_object_array_add(na, a);
        if (b)
            json_object_array_add(nb, b);
        a = na;
        b = nb;
        if (depth == 100)
            assert_true(mqp_json_equal(a, b));
    }
    assert_false(mqp_json_equal(a, b));
    json_object_put(a);
    json_object_put(b);
    assert_true(mqp_json_equal(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_service_form),
        cmocka_unit_test(test_correlation_id_unconstrained),
        cmocka_unit_test(test_nested_paths),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_numbers_by_value),
        cmocka_unit_test(test_strings_bytewise),
        cmocka_unit_test(test_missing_paths),
        cmocka_unit_test(test_empty_criteria),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_deep_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
