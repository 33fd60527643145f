/* Map projections: nested maps, missing keys, carried correlationId/context, shared values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "projection.h"

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char *const event_text =
    "{\"timestamp\": \"2024-05-01T10:00:00Z\", \"correlationId\": \"c-9\","
    " \"context\": {\"tenant\": \"acme\"},"
    " \"payload\": {\"id\": 42, \"items\": [{\"sku\": \"A\"}, {\"sku\": \"B\"}],"
    "  \"name\": \"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\", \"gone\": null,"
    "  \"meta\": {\"k\": [1, 2]}}}";

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);

    if (!o)
        fail_msg("test JSON does not parse: %s", text);
    return o;
}

static struct mqp_projection *compile(const char *map_text)
{
    json_object *map = parse(map_text);
    struct mqp_projection *p = NULL;
    char err[200] = "";

    if (mqp_projection_compile(map, &p, err, sizeof(err)) != 0)
        fail_msg("map %s: %s", map_text, err);
    json_object_put(map);
    return p;
}

/* Project event_text through map_text; the serialized result must be want, byte for byte
 * (so member order is checked too). */
static void want_projection(const char *map_text, const char *ev_text, const char *want)
{
    struct mqp_projection *p = compile(map_text);
    json_object *event = parse(ev_text);
    json_object *out = mqp_projection_apply(p, event);

    assert_non_null(out);
    /* Values are shared by reference: the event may go first. */
    json_object_put(event);
    mqp_projection_free(p);
    assert_string_equal(json_object_to_json_string_ext(out, FLAGS), want);
    json_object_put(out);
}

static void test_flat_map(void **state)
{
    (void)state;
    want_projection("{\"orderId\": \"payload.id\", \"firstSku\": \"payload.items[0].sku\"}",
                    event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},"
                    "\"orderId\":42,\"firstSku\":\"A\"}");
}

static void test_nested_maps(void **state)
{
    (void)state;
    want_projection(
        "{\"order\": {\"id\": \"payload.id\", \"skus\": {\"a\": \"payload.items.0.sku\","
        " \"b\": \"payload.items[1].sku\"}}, \"tenant\": \"context.tenant\"}",
        event_text,
        "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},"
        "\"order\":{\"id\":42,\"skus\":{\"a\":\"A\",\"b\":\"B\"}},\"tenant\":\"acme\"}");
}

static void test_missing_keys_dropped(void **state)
{
    (void)state;
    want_projection("{\"a\": \"payload.nope\", \"b\": \"payload.id\", \"c\": \"payload.items[9]\","
                    " \"n\": {\"x\": \"payload.nope\", \"y\": \"nope.deeper\"}, \"e\": {}}",
                    event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},\"b\":42,"
                    "\"n\":{},\"e\":{}}");
}

static void test_null_values_kept(void **state)
{
    (void)state;
    want_projection("{\"gone\": \"payload.gone\"}", event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},\"gone\":null}");
}

static void test_arrays_and_objects(void **state)
{
    (void)state;
    want_projection("{\"items\": \"payload.items\", \"meta\": \"payload.meta\", \"k1\": "
                    "\"payload.meta.k[1]\"}",
                    event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},"
                    "\"items\":[{\"sku\":\"A\"},{\"sku\":\"B\"}],\"meta\":{\"k\":[1,2]},\"k1\":2}");
}

static void test_unicode(void **state)
{
    (void)state;
    want_projection("{\"\xe5\x90\x8d\xe5\x89\x8d\": \"payload.name\"}", event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},"
                    "\"\xe5\x90\x8d\xe5\x89\x8d\":\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}");
}

static void test_carried_members_omitted_when_absent(void **state)
{
    (void)state;
    want_projection("{\"id\": \"payload.id\"}", "{\"payload\": {\"id\": 1}}", "{\"id\":1}");
    want_projection("{\"id\": \"payload.id\"}", "{\"context\": {}, \"payload\": {\"id\": 1}}",
                    "{\"context\":{},\"id\":1}");
    want_projection("{\"id\": \"payload.id\"}", "{\"correlationId\": \"x\"}",
                    "{\"correlationId\":\"x\"}");
    /* Not an object at all: nothing resolves, nothing is carried. */
    want_projection("{\"id\": \"payload.id\", \"n\": {\"a\": \"b\"}}", "[1, 2]", "{\"n\":{}}");
}

static void test_map_overrides_carried(void **state)
{
    (void)state;
    want_projection("{\"x\": \"payload.id\", \"correlationId\": \"payload.items[1].sku\"}",
                    event_text,
                    "{\"context\":{\"tenant\":\"acme\"},\"x\":42,\"correlationId\":\"B\"}");
    /* A map key that does not resolve still replaces the carried member: it is left out. */
    want_projection("{\"context\": \"payload.nope\"}", event_text, "{\"correlationId\":\"c-9\"}");
    /* Nested keys of those names are ordinary. */
    want_projection("{\"n\": {\"context\": \"payload.id\"}}", event_text,
                    "{\"correlationId\":\"c-9\",\"context\":{\"tenant\":\"acme\"},"
                    "\"n\":{\"context\":42}}");
}

static void test_values_shared_not_copied(void **state)
{
    struct mqp_projection *p = compile("{\"items\": \"payload.items\", \"ctx\": \"context\"}");
    json_object *event = parse(event_text), *out, *payload, *items, *ctx, *got;

    (void)state;
    out = mqp_projection_apply(p, event);
    assert_non_null(out);
    json_object_object_get_ex(event, "payload", &payload);
    json_object_object_get_ex(payload, "items", &items);
    json_object_object_get_ex(event, "context", &ctx);
    assert_true(json_object_object_get_ex(out, "items", &got));
    assert_ptr_equal(got, items);
    assert_true(json_object_object_get_ex(out, "ctx", &got));
    assert_ptr_equal(got, ctx);
    assert_true(json_object_object_get_ex(out, "context", &got));
    assert_ptr_equal(got, ctx);
    json_object_put(out);
    mqp_projection_free(p);
    json_object_put(event);
}

static void test_apply_into_keeps_existing(void **state)
{
    struct mqp_projection *p =
        compile("{\"id\": \"payload.id\", \"correlationId\": \"payload.id\", \"sku\": "
                "\"payload.items[0].sku\", \"n\": {\"id\": \"payload.id\"}}");
    json_object *event = parse(event_text);
    json_object *dst = parse("{\"id\": \"stamp\", \"name\": \"created\"}");

    (void)state;
    assert_int_equal(mqp_projection_apply_into(p, event, dst, true), 0);
    assert_string_equal(json_object_to_json_string_ext(dst, FLAGS),
                        "{\"id\":\"stamp\",\"name\":\"created\",\"context\":{\"tenant\":\"acme\"},"
                        "\"correlationId\":42,\"sku\":\"A\",\"n\":{\"id\":42}}");
    json_object_put(dst);
    /* Existing carried members stay too. */
    dst = parse("{\"context\": \"mine\"}");
    mqp_projection_free(p);
    p = compile("{\"x\": \"payload.id\"}");
    assert_int_equal(mqp_projection_apply_into(p, event, dst, false), 0);
    assert_string_equal(json_object_to_json_string_ext(dst, FLAGS),
                        "{\"context\":\"mine\",\"correlationId\":\"c-9\",\"x\":42}");
    assert_int_equal(mqp_projection_apply_into(p, event, NULL, false), -1);
    assert_int_equal(mqp_projection_apply_into(NULL, event, dst, false), -1);
    json_object_put(dst);
    mqp_projection_free(p);
    json_object_put(event);
}

static void want_compile_error(const char *map_text, const char *fragment)
{
    json_object *map = map_text ? parse(map_text) : NULL;
    struct mqp_projection *p = (struct mqp_projection *)&map;
    char err[200] = "";

    assert_int_equal(mqp_projection_compile(map, &p, err, sizeof(err)), -1);
    assert_null(p);
    if (!strstr(err, fragment))
        fail_msg("map %s: error \"%s\" lacks \"%s\"", map_text ? map_text : "NULL", err, fragment);
    json_object_put(map);
}

static void test_compile_errors(void **state)
{
    (void)state;
    want_compile_error(NULL, "must be an object");
    want_compile_error("[\"a\"]", "must be an object");
    want_compile_error("{\"a\": 1}", "a: must be a path string or a nested map");
    want_compile_error("{\"a\": \"x\", \"b\": [\"x\"]}", "b: must be a path string");
    want_compile_error("{\"a\": true}", "a: must be");
    want_compile_error("{\"a\": null}", "a: must be");
    want_compile_error("{\"a\": \"\"}", "a: empty path");
    want_compile_error("{\"n\": {\"k\": \"payload..x\"}}", "n.k: path");
    want_compile_error("{\"n\": {\"m\": {\"k\": 2.5}}}", "n.m.k: must be");
}

/* A map nested depth levels deep: {"l": {"l": ... {"leaf": "payload.id"}}}. */
static json_object *nested_map(int depth)
{
    json_object *m = json_object_new_object();

    json_object_object_add(m, "leaf", json_object_new_string("payload.id"));
    for (int i = 1; i < depth; i++) {
        json_object *outer = json_object_new_object();

        json_object_object_add(outer, "l", m);
        m = outer;
    }
    return m;
}

static void test_limits(void **state)
{
    struct mqp_projection *p = NULL;
    json_object *map = nested_map(MQP_PROJECTION_MAX_DEPTH), *event, *out;
    char err[200] = "";

    (void)state;
    assert_int_equal(mqp_projection_compile(map, &p, err, sizeof(err)), 0);
    json_object_put(map);
    event = parse("{\"payload\": {\"id\": 5}}");
    out = mqp_projection_apply(p, event);
    assert_string_equal(json_object_to_json_string_ext(out, FLAGS),
                        "{\"l\":{\"l\":{\"l\":{\"l\":{\"l\":{\"l\":{\"l\":{\"leaf\":5}}}}}}}}");
    json_object_put(out);
    json_object_put(event);
    mqp_projection_free(p);

    map = nested_map(MQP_PROJECTION_MAX_DEPTH + 1);
    assert_int_equal(mqp_projection_compile(map, &p, err, sizeof(err)), -1);
    assert_null(p);
    assert_non_null(strstr(err, "nested deeper than"));
    json_object_put(map);

    map = json_object_new_object();
    for (int i = 0; i <= MQP_PROJECTION_MAX_KEYS; i++) {
        char key[16];

        snprintf(key, sizeof(key), "k%d", i);
        json_object_object_add(map, key, json_object_new_string("payload.id"));
    }
    assert_int_equal(mqp_projection_compile(map, &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than"));
    json_object_object_del(map, "k0");
    assert_int_equal(mqp_projection_compile(map, &p, err, sizeof(err)), 0);
    mqp_projection_free(p);
    json_object_put(map);
    mqp_projection_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_map),
        cmocka_unit_test(test_nested_maps),
        cmocka_unit_test(test_missing_keys_dropped),
        cmocka_unit_test(test_null_values_kept),
        cmocka_unit_test(test_arrays_and_objects),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_carried_members_omitted_when_absent),
        cmocka_unit_test(test_map_overrides_carried),
        cmocka_unit_test(test_values_shared_not_copied),
        cmocka_unit_test(test_apply_into_keeps_existing),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
