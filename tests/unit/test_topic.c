/* Unit tests for core/topic.c: splitting, event topics, stream topics, $share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stream.h"
#include "topic.h"

static void assert_level(const struct mqp_level *l, const char *want)
{
    assert_non_null(l->s);
    assert_int_equal(l->len, strlen(want));
    assert_memory_equal(l->s, want, l->len);
}

static void test_split_levels(void **state)
{
    struct mqp_topic_view v;
    const char *topic = "demo/application-health/status-service:health-check-started";

    (void)state;
    mqp_topic_split(topic, &v);
    assert_int_equal(v.n, 3);
    assert_level(&v.level[0], "demo");
    assert_level(&v.level[1], "application-health");
    assert_level(&v.level[2], "status-service:health-check-started");
    assert_ptr_equal(v.rest, topic + strlen("demo/application-health/"));
    assert_ptr_equal(v.level[0].s, topic);
}

static void test_split_many_levels(void **state)
{
    struct mqp_topic_view v;
    const char *topic = "a/bb/ccc/d/e/f";

    (void)state;
    mqp_topic_split(topic, &v);
    assert_int_equal(v.n, 6);
    assert_level(&v.level[0], "a");
    assert_level(&v.level[1], "bb");
    assert_level(&v.level[2], "ccc");
    assert_string_equal(v.rest, "ccc/d/e/f");
}

static void test_split_short_and_empty(void **state)
{
    struct mqp_topic_view v;

    (void)state;
    mqp_topic_split("", &v);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.level[0].len, 0);
    assert_null(v.rest);

    mqp_topic_split("one", &v);
    assert_int_equal(v.n, 1);
    assert_level(&v.level[0], "one");
    assert_null(v.rest);

    mqp_topic_split("a/b", &v);
    assert_int_equal(v.n, 2);
    assert_level(&v.level[1], "b");
    assert_null(v.rest);

    mqp_topic_split("/", &v);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.level[0].len, 0);
    assert_int_equal(v.level[1].len, 0);

    mqp_topic_split("a//", &v);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.level[1].len, 0);
    assert_int_equal(v.level[2].len, 0);
    assert_string_equal(v.rest, "");

    mqp_topic_split("#", &v);
    assert_int_equal(v.n, 1);
    assert_true(mqp_level_is_wildcard(&v.level[0]));

    mqp_topic_split(NULL, &v);
    assert_int_equal(v.n, 0);
}

static void test_parse_event_ok(void **state)
{
    struct mqp_level t, ns, name;

    (void)state;
    assert_true(
        mqp_topic_parse_event("demo/events/status-service/health-check-started", &t, &ns, &name));
    assert_level(&t, "demo");
    assert_level(&ns, "status-service");
    assert_level(&name, "health-check-started");
    /* Out parameters are optional. */
    assert_true(mqp_topic_parse_event("a/events/b/c", NULL, NULL, NULL));
}

static void test_parse_event_rejects(void **state)
{
    static const char *bad[] = {
        "demo/events/ns",        /* three levels */
        "demo/events/ns/name/x", /* five levels */
        "demo/events/ns/name/",  /* five levels, last empty */
        "demo/event/ns/name",    /* not the events level */
        "demo/EVENTS/ns/name",   /* case matters */
        "/events/ns/name",       /* empty tenant */
        "demo/events//name",     /* empty namespace */
        "demo/events/ns/",       /* empty name */
        "demo/events/+/name",    /* wildcards */
        "demo/events/ns/#",
        "+/events/ns/name",
        "demo/events/n+s/name", /* wildcard characters inside a level */
        "demo/events/ns/na#me",
        "demo//events/ns",
        "",
        "events",
        "demo/application-health/ns:name",
    };
    struct mqp_level t = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mqp_topic_parse_event(bad[i], &t, NULL, NULL))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(mqp_topic_parse_event(NULL, &t, NULL, NULL));
}

static void test_stream_topic(void **state)
{
    char buf[64];
    size_t want = strlen("demo/s1/ns:name");

    (void)state;
    assert_int_equal(mqp_topic_stream(buf, sizeof(buf), "demo", "s1", "ns", "name"), want);
    assert_string_equal(buf, "demo/s1/ns:name");
    /* Exactly enough room for the text and its NUL. */
    assert_int_equal(mqp_topic_stream(buf, want + 1, "demo", "s1", "ns", "name"), want);
    assert_string_equal(buf, "demo/s1/ns:name");
}

static void test_stream_topic_overflow(void **state)
{
    char buf[32];
    char big[MQP_ID_MAX + 1];
    size_t want = strlen("demo/s1/ns:name");

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(mqp_topic_stream(buf, want, "demo", "s1", "ns", "name"), 0);
    assert_int_equal(buf[want], 'x'); /* nothing written past cap */
    assert_int_equal(mqp_topic_stream(buf, 0, "demo", "s1", "ns", "name"), 0);
    memset(big, 'a', MQP_ID_MAX);
    big[MQP_ID_MAX] = '\0';
    assert_int_equal(mqp_topic_stream(buf, sizeof(buf), big, "s1", "ns", "name"), 0);
    assert_int_equal(mqp_topic_stream(buf, sizeof(buf), "demo", NULL, "ns", "name"), 0);
    assert_int_equal(mqp_topic_stream(NULL, 10, "demo", "s1", "ns", "name"), 0);
}

static void test_strip_share(void **state)
{
    const char *plain = "demo/application-health/#";
    const char *shared = "$share/group-1/demo/application-health/#";

    (void)state;
    assert_ptr_equal(mqp_topic_strip_share(plain), plain);
    assert_string_equal(mqp_topic_strip_share(shared), "demo/application-health/#");
    assert_string_equal(mqp_topic_strip_share("$share/g/#"), "#");
    assert_string_equal(mqp_topic_strip_share("$share/g/$SYS/#"), "$SYS/#");
    /* Not shared subscriptions at all: returned as they are. */
    assert_string_equal(mqp_topic_strip_share("$SYS/#"), "$SYS/#");
    assert_string_equal(mqp_topic_strip_share("$share"), "$share");
    assert_string_equal(mqp_topic_strip_share("$sharex/g/t"), "$sharex/g/t");
}

static void test_strip_share_malformed(void **state)
{
    static const char *bad[] = {
        "$share/",    "$share//t",  "$share/g",     "$share/g/",
        "$share/+/t", "$share/#/t", "$share/a+b/t", "$share/a#/t",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mqp_topic_strip_share(bad[i]) != NULL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_null(mqp_topic_strip_share(NULL));
}

static void test_level_helpers(void **state)
{
    struct mqp_level plus = {"+", 1}, hash = {"#/x", 1}, word = {"events/x", 6};
    struct mqp_level plusplus = {"++", 2}, empty = {"", 0};

    (void)state;
    assert_true(mqp_level_is_wildcard(&plus));
    assert_true(mqp_level_is_wildcard(&hash));
    assert_false(mqp_level_is_wildcard(&word));
    assert_false(mqp_level_is_wildcard(&plusplus));
    assert_false(mqp_level_is_wildcard(&empty));
    assert_false(mqp_level_is_wildcard(NULL));
    assert_true(mqp_level_eq(&word, MQP_EVENTS_LEVEL));
    assert_false(mqp_level_eq(&word, "event"));
    assert_false(mqp_level_eq(&word, "events/"));
    assert_true(mqp_level_eq(&empty, ""));
    assert_false(mqp_level_eq(NULL, "x"));
}

/* The inverse of mqp_topic_stream(), which the bridge's push channels read topics with. */
static void test_parse_stream(void **state)
{
    char t[MQP_ID_MAX + 1], st[MQP_ID_MAX + 1], ns[MQP_ID_MAX + 1], n[MQP_ID_MAX + 1], buf[600],
        longid[MQP_ID_MAX + 2];

    (void)state;
    assert_int_equal(mqp_topic_parse_stream("acme/orders/shop:ordered", t, st, ns, n), 0);
    assert_string_equal(t, "acme");
    assert_string_equal(st, "orders");
    assert_string_equal(ns, "shop");
    assert_string_equal(n, "ordered");
    assert_int_equal(mqp_topic_parse_stream("acme/orders/shop", t, st, ns, n), -1);
    assert_int_equal(mqp_topic_parse_stream("acme/orders/a/b:c", t, st, ns, n), -1);
    assert_int_equal(mqp_topic_parse_stream("acme:x", t, st, ns, n), -1);
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    snprintf(buf, sizeof(buf), "%s/s/a:b", longid);
    assert_int_equal(mqp_topic_parse_stream(buf, t, st, ns, n), -1);
    snprintf(buf, sizeof(buf), "t/s/a:%s", longid);
    assert_int_equal(mqp_topic_parse_stream(buf, t, st, ns, n), -1);
    longid[MQP_ID_MAX] = '\0'; /* exactly MQP_ID_MAX fits */
    snprintf(buf, sizeof(buf), "t/%s/a:b", longid);
    assert_int_equal(mqp_topic_parse_stream(buf, t, st, ns, n), 0);
    assert_string_equal(st, longid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_levels),          cmocka_unit_test(test_split_many_levels),
        cmocka_unit_test(test_split_short_and_empty), cmocka_unit_test(test_parse_event_ok),
        cmocka_unit_test(test_parse_event_rejects),   cmocka_unit_test(test_stream_topic),
        cmocka_unit_test(test_stream_topic_overflow), cmocka_unit_test(test_strip_share),
        cmocka_unit_test(test_strip_share_malformed), cmocka_unit_test(test_level_helpers),
        cmocka_unit_test(test_parse_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
