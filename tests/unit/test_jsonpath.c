/* Paths: the lodash get() forms push-service configurations use, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "jsonpath.h"

static const char *const doc_text =
    "{\"payload\": {\"items\": [{\"id\": \"first\"}, {\"id\": \"second\", \"n\": null}],"
    "  \"obj\": {\"0\": \"zero-key\", \"x\": {\"y\": 7}}, \"num\": 3, \"nil\": null,"
    "  \"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\": {\"\xe5\x90\x8d\": \"unicode\"}},"
    " \"context\": {\"a.b\": \"dotted\", \"it's\": \"quote\", \"x]y\": \"bracket\","
    "  \"\": \"empty\", \"say \\\"hi\\\"\": \"dq\"},"
    " \"a.b\": \"root-dotted\", \"a\": {\"b\": \"nested\"}, \"top\": true}";

static int setup(void **state)
{
    *state = json_tokener_parse(doc_text);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    json_object_put(*state);
    return 0;
}

/* Resolves text in doc; *found gets the found flag. Fails the test when it does not compile. */
static json_object *get(json_object *doc, const char *text, int *found)
{
    struct mqp_path *p = NULL;
    char err[200] = "";
    json_object *v;

    if (mqp_path_compile(text, &p, err, sizeof(err)) != 0)
        fail_msg("path %s: %s", text, err);
    assert_string_equal(mqp_path_text(p), text);
    v = mqp_path_get(p, doc, found);
    mqp_path_free(p);
    return v;
}

static void want_string(json_object *doc, const char *text, const char *want)
{
    int found = -1;
    json_object *v = get(doc, text, &found);

    assert_int_equal(found, 1);
    assert_true(json_object_is_type(v, json_type_string));
    assert_string_equal(json_object_get_string(v), want);
}

static void want_missing(json_object *doc, const char *text)
{
    int found = -1;

    assert_null(get(doc, text, &found));
    assert_int_equal(found, 0);
}

static void test_dots(void **state)
{
    int found = 0;
    json_object *v = get(*state, "payload.obj.x.y", &found);

    assert_int_equal(found, 1);
    assert_int_equal(json_object_get_int(v), 7);
    v = get(*state, "top", &found);
    assert_int_equal(found, 1);
    assert_true(json_object_get_boolean(v));
    /* A whole subtree is returned by reference. */
    v = get(*state, "payload.obj", &found);
    assert_int_equal(found, 1);
    assert_true(json_object_is_type(v, json_type_object));
}

static void test_indexes_both_forms(void **state)
{
    want_string(*state, "payload.items[0].id", "first");
    want_string(*state, "payload.items.0.id", "first");
    want_string(*state, "payload.items[1].id", "second");
    want_string(*state, "payload.items.1.id", "second");
    want_string(*state, "payload['items'][1][\"id\"]", "second");
    want_string(*state, "payload.items[\"1\"].id", "second");
}

static void test_index_out_of_range(void **state)
{
    want_missing(*state, "payload.items[2]");
    want_missing(*state, "payload.items.2.id");
    want_missing(*state, "payload.items[4294967294]");
    want_missing(*state, "payload.items[4294967295]");
    want_missing(*state, "payload.items[99999999999999999999]");
}

static void test_non_canonical_index_on_array(void **state)
{
    /* JavaScript only treats canonical decimals as array indexes. */
    want_missing(*state, "payload.items[01]");
    want_missing(*state, "payload.items[-1]");
    want_missing(*state, "payload.items[ 0]");
    want_missing(*state, "payload.items.first");
    want_missing(*state, "payload.items.length");
}

static void test_index_on_object(void **state)
{
    /* A numeric segment names a key on an object. */
    want_string(*state, "payload.obj[0]", "zero-key");
    want_string(*state, "payload.obj.0", "zero-key");
    want_missing(*state, "payload.obj[1]");
}

static void test_quoted_keys(void **state)
{
    want_string(*state, "context[\"a.b\"]", "dotted");
    want_string(*state, "context['a.b']", "dotted");
    want_string(*state, "context[\"it's\"]", "quote");
    want_string(*state, "context['it\\'s']", "quote");
    want_string(*state, "context['x]y']", "bracket");
    want_string(*state, "context[\"say \\\"hi\\\"\"]", "dq");
    want_string(*state, "context[\"\"]", "empty");
    want_string(*state, "context['']", "empty");
}

/* Unquoted brackets name a key too, as in lodash. */
static void test_unquoted_bracket_key(void **state)
{
    int found = 0;
    json_object *v = get(*state, "payload[obj].x[y]", &found);

    assert_int_equal(found, 1);
    assert_int_equal(json_object_get_int(v), 7);
}

static void test_unicode_keys(void **state)
{
    want_string(*state, "payload.\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87.\xe5\x90\x8d", "unicode");
    want_string(*state, "payload['\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87']['\xe5\x90\x8d']", "unicode");
    want_missing(*state, "payload.\xd0\xba\xd0\xbb\xd1\x8e.\xe5\x90\x8d");
}

static void test_missing(void **state)
{
    want_missing(*state, "nope");
    want_missing(*state, "payload.nope");
    want_missing(*state, "payload.obj.x.y.z"); /* through a number */
    want_missing(*state, "payload.num.x");
    want_missing(*state, "payload.nil.x");          /* through null */
    want_missing(*state, "payload.items[0].id.x");  /* through a string */
    want_missing(*state, "payload.items[0].id[0]"); /* no characters of strings */
}

static void test_null_values_are_found(void **state)
{
    int found = 0;

    assert_null(get(*state, "payload.nil", &found));
    assert_int_equal(found, 1);
    found = 0;
    assert_null(get(*state, "payload.items[1].n", &found));
    assert_int_equal(found, 1);
}

static void test_whole_text_key_of_root(void **state)
{
    /* lodash isKey(): the root's own "a.b" member wins over a.b. */
    want_string(*state, "a.b", "root-dotted");
    /* Only at the root: context has "a.b" too, but "context.a.b" walks. */
    want_missing(*state, "context.a.b");
    {
        json_object *doc = json_tokener_parse("{\"a\": {\"b\": \"nested\"}}");

        want_string(doc, "a.b", "nested");
        want_string(doc, "['a'].b", "nested");
        json_object_put(doc);
    }
}

static void test_non_object_roots(void **state)
{
    json_object *arr = json_tokener_parse("[[\"x\", \"y\"], 2]");
    int found = -1;

    (void)state;
    want_string(arr, "[0][1]", "y");
    want_string(arr, "0.1", "y");
    want_missing(arr, "2");
    json_object_put(arr);
    assert_null(get(NULL, "a", &found));
    assert_int_equal(found, 0);
    {
        json_object *s = json_object_new_string("abc");

        want_missing(s, "0");
        json_object_put(s);
    }
}

static void test_found_may_be_null(void **state)
{
    struct mqp_path *p = NULL;

    assert_int_equal(mqp_path_compile("payload.num", &p, NULL, 0), 0);
    assert_int_equal(json_object_get_int(mqp_path_get(p, *state, NULL)), 3);
    mqp_path_free(p);
    mqp_path_free(NULL);
    assert_null(mqp_path_text(NULL));
}

static void want_error(const char *text, const char *fragment)
{
    struct mqp_path *p = (struct mqp_path *)&p; /* must be reset to NULL */
    char err[200] = "";

    assert_int_equal(mqp_path_compile(text, &p, err, sizeof(err)), -1);
    assert_null(p);
    if (!strstr(err, fragment))
        fail_msg("path \"%s\": error \"%s\" lacks \"%s\"", text ? text : "(null)", err, fragment);
}

static void test_errors(void **state)
{
    (void)state;
    want_error("", "empty path");
    want_error(NULL, "empty path");
    want_error("a..b", "empty segment");
    want_error(".a", "empty segment");
    want_error("a.", "empty segment");
    want_error("a[]", "empty brackets");
    want_error("a[", "unbalanced '['");
    want_error("a[0", "unbalanced '['");
    want_error("a[0[1]]", "unbalanced '['");
    want_error("a]", "unbalanced ']'");
    want_error("a[0]]", "unbalanced ']'");
    want_error("a[0]b", "expected '.' or '['");
    want_error("a['x]", "unterminated quoted key");
    want_error("a[\"x'", "unterminated quoted key");
    want_error("a['x'y]", "unbalanced '['");
    /* A message without a buffer is fine too. */
    {
        struct mqp_path *p = NULL;

        assert_int_equal(mqp_path_compile("a..b", &p, NULL, 0), -1);
        assert_null(p);
    }
}

static void test_limits(void **state)
{
    char text[MQP_PATH_MAX_LEN + 2];
    struct mqp_path *p = NULL;
    char err[200];
    size_t o = 0;

    (void)state;
    memset(text, 'k', MQP_PATH_MAX_LEN);
    text[MQP_PATH_MAX_LEN] = '\0';
    assert_int_equal(mqp_path_compile(text, &p, err, sizeof(err)), 0);
    mqp_path_free(p);
    strcpy(text + MQP_PATH_MAX_LEN, "k");
    want_error(text, "longer than");

    for (int i = 0; i < MQP_PATH_MAX_SEGMENTS; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%ss", i ? "." : "");
    assert_int_equal(mqp_path_compile(text, &p, err, sizeof(err)), 0);
    {
        /* The deepest path still resolves. */
        json_object *leaf = json_object_new_string("deep"), *cur = leaf;
        int found = 0;

        for (int i = 0; i < MQP_PATH_MAX_SEGMENTS; i++) {
            json_object *o2 = json_object_new_object();

            json_object_object_add(o2, "s", cur);
            cur = o2;
        }
        assert_string_equal(json_object_get_string(mqp_path_get(p, cur, &found)), "deep");
        assert_int_equal(found, 1);
        json_object_put(cur);
    }
    mqp_path_free(p);
    strcat(text, ".s");
    want_error(text, "too many segments");
    strcpy(text, "a");
    for (int i = 1; i < MQP_PATH_MAX_SEGMENTS + 1; i++)
        strcat(text, "[0]");
    want_error(text, "too many segments");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes_both_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_canonical_index_on_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_on_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoted_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unquoted_bracket_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicode_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_values_are_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_text_key_of_root, setup, teardown),
        cmocka_unit_test(test_non_object_roots),
        cmocka_unit_test_setup_teardown(test_found_may_be_null, setup, teardown),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
