/* Fan-out against a configuration built by config.c, event ids, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "event.h"

#define MAX_EVENT 2048
#define MAX_COPIES 16

static const char *const config_text =
    "{\"limits\": {\"max_event_bytes\": 2048},"
    " \"tenants\": {"
    "  \"acme\": {\"issuer\": \"https://idp.test/acme\", \"audience\": \"mqpush\","
    "   \"jwks\": {\"keys\": []},"
    "   \"streams\": {"
    "    \"all\": {\"events\": [{\"namespace\": \"orders\", \"name\": \"created\"},"
    "                          {\"namespace\": \"orders\", \"name\": \"shipped\"}]},"
    "    \"big\": {\"events\": ["
    "      {\"namespace\": \"orders\", \"name\": \"created\","
    "       \"criteria\": {\"payload.total\": 100}, \"map\": {\"total\": \"payload.total\"}},"
    "      {\"namespace\": \"orders\", \"name\": \"shipped\"},"
    "      {\"namespace\": \"orders\", \"name\": \"created\", \"criteria\": {\"payload.vip\": "
    "true},"
    "       \"map\": {\"vip\": \"payload.vip\", \"who\": \"payload.customer\"}}]},"
    "    \"mapped\": {\"events\": [{\"namespace\": \"orders\", \"name\": \"created\","
    "      \"map\": {\"orderId\": \"payload.id\","
    "                \"meta\": {\"corr\": \"correlationId\", \"none\": \"payload.nope\"}}}]},"
    "    \"ctx\": {\"events\": [{\"namespace\": \"orders\", \"name\": \"created\","
    "      \"criteria\": {\"correlationId\": \"\", \"context\": {\"region\": \"eu\"}}}]},"
    "    \"quiet\": {\"events\": [{\"namespace\": \"billing\", \"name\": \"paid\"}]}}},"
    "  \"globex\": {\"issuer\": \"https://idp.test/globex\", \"audience\": \"mqpush\","
    "   \"jwks\": {\"keys\": []},"
    "   \"streams\": {\"all\": {\"events\": [{\"namespace\": \"orders\", \"name\": \"created\"}]}}}"
    " }}";

static const char *const order_created =
    "{\"timestamp\": \"2024-05-01T10:00:00.000Z\", \"correlationId\": \"c-1\","
    " \"context\": {\"region\": \"eu\"},"
    " \"payload\": {\"id\": 7, \"total\": 100, \"vip\": true, \"customer\": \"ann\","
    "  \"url\": \"https://shop.test/o/7\"}, \"source\": \"shop\"}";

struct copy {
    const struct mqp_stream *stream;
    char topic[600];
    char *body;
    size_t len;
};

struct sink {
    struct copy c[MAX_COPIES];
    size_t n;
    size_t fail_at; /* emit fails for this copy number (0-based); SIZE_MAX: never */
};

static struct mqp_config *cfg;

static int emit(void *ctx, const struct mqp_stream *stream, const char *topic, const char *body,
                size_t body_len)
{
    struct sink *s = ctx;
    struct copy *c;

    if (s->n == s->fail_at)
        return -1;
    assert_true(s->n < MAX_COPIES);
    assert_int_equal(strlen(body), body_len);
    c = &s->c[s->n++];
    c->stream = stream;
    snprintf(c->topic, sizeof(c->topic), "%s", topic);
    c->body = strdup(body);
    c->len = body_len;
    return 0;
}

static void sink_init(struct sink *s)
{
    memset(s, 0, sizeof(*s));
    s->fail_at = SIZE_MAX;
}

static void sink_clear(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->c[i].body);
    sink_init(s);
}

static enum mqp_event_status run(const char *topic, const char *payload, size_t len, struct sink *s,
                                 size_t *n)
{
    size_t n_emitted = 12345;
    enum mqp_event_status st = mqp_event_fanout(cfg, topic, payload, len, emit, s, &n_emitted);

    assert_int_equal(n_emitted, s->n);
    if (n)
        *n = n_emitted;
    return st;
}

static enum mqp_event_status run_text(const char *topic, const char *payload, struct sink *s)
{
    return run(topic, payload, strlen(payload), s, NULL);
}

static int setup(void **state)
{
    json_object *doc = json_tokener_parse(config_text);
    struct mqp_errors errs = {0};
    int rc;

    (void)state;
    if (!doc) {
        fprintf(stderr, "test configuration is not JSON\n");
        return -1;
    }
    rc = mqp_config_build(doc, NULL, &cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "config: %s\n", errs.msgs[i]);
    mqp_errors_clear(&errs);
    json_object_put(doc);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    mqp_config_free(cfg);
    cfg = NULL;
    return 0;
}

static bool id_well_formed(const char *id)
{
    if (strlen(id) != MQP_EVENT_ID_LEN)
        return false;
    for (int i = 0; i < MQP_EVENT_ID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]) || !id[i])
            return false;
    }
    /* RFC 9562 5.7: version 7, variant 10 (8, 9, a or b). */
    return id[14] == '7' && strchr("89ab", id[19]) != NULL;
}

/* The value of "id" in a body: the text after "{\"id\":\"". */
static void body_id(const struct copy *c, char *id)
{
    assert_memory_equal(c->body, "{\"id\":\"", 7);
    memcpy(id, c->body + 7, MQP_EVENT_ID_LEN);
    id[MQP_EVENT_ID_LEN] = '\0';
    assert_true(id_well_formed(id));
}

static void want_body(const struct copy *c, const char *topic, const char *stream_id,
                      const char *rest)
{
    char id[MQP_EVENT_ID_LEN + 1], want[1024];

    assert_string_equal(c->topic, topic);
    assert_string_equal(c->stream->id, stream_id);
    body_id(c, id);
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"namespace\":\"orders\",\"name\":\"created\","
             "\"timestamp\":\"2024-05-01T10:00:00.000Z\",%s}",
             id, rest);
    assert_string_equal(c->body, want);
}

#define WHOLE_REST                                                                                 \
    "\"correlationId\":\"c-1\",\"context\":{\"region\":\"eu\"},\"payload\":{\"id\":7,"             \
    "\"total\":100,\"vip\":true,\"customer\":\"ann\",\"url\":\"https://shop.test/o/7\"},"          \
    "\"source\":\"shop\""

static void test_copies_per_stream(void **state)
{
    struct sink s;
    size_t n = 0;
    char id[MQP_EVENT_ID_LEN + 1], other[MQP_EVENT_ID_LEN + 1];

    (void)state;
    sink_init(&s);
    assert_int_equal(
        run("acme/events/orders/created", order_created, strlen(order_created), &s, &n),
        MQP_EVENT_OK);
    assert_int_equal(n, 4);
    /* Configuration order; "big" takes its first matching entry, once. */
    want_body(&s.c[0], "acme/all/orders:created", "all", WHOLE_REST);
    want_body(&s.c[1], "acme/big/orders:created", "big",
              "\"correlationId\":\"c-1\",\"context\":{\"region\":\"eu\"},\"total\":100");
    want_body(&s.c[2], "acme/mapped/orders:created", "mapped",
              "\"correlationId\":\"c-1\",\"context\":{\"region\":\"eu\"},\"orderId\":7,"
              "\"meta\":{\"corr\":\"c-1\"}");
    want_body(&s.c[3], "acme/ctx/orders:created", "ctx", WHOLE_REST);
    /* One id for every copy of the event. */
    body_id(&s.c[0], id);
    for (size_t i = 1; i < s.n; i++) {
        body_id(&s.c[i], other);
        assert_string_equal(id, other);
    }
    for (size_t i = 0; i < s.n; i++) {
        json_object *parsed = json_tokener_parse(s.c[i].body);

        assert_non_null(parsed);
        json_object_put(parsed);
        assert_string_equal(s.c[i].stream->tenant->id, "acme");
    }
    sink_clear(&s);
}

static void test_same_event_listed_twice(void **state)
{
    struct sink s;
    const char *vip_small = "{\"timestamp\": \"2024-05-01T10:00:00.000Z\","
                            " \"payload\": {\"total\": 50, \"vip\": true, \"customer\": \"bo\"}}";
    const char *neither = "{\"payload\": {\"total\": 50, \"vip\": false}}";
    const char *both = "{\"timestamp\": \"2024-05-01T10:00:00.000Z\","
                       " \"payload\": {\"total\": 100.0, \"vip\": true, \"customer\": \"bo\"}}";

    (void)state;
    sink_init(&s);
    assert_int_equal(run_text("acme/events/orders/created", vip_small, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 3); /* all, big, mapped; ctx wants context.region eu */
    want_body(&s.c[1], "acme/big/orders:created", "big", "\"vip\":true,\"who\":\"bo\"");
    assert_string_equal(s.c[2].stream->id, "mapped");
    sink_clear(&s);

    assert_int_equal(run_text("acme/events/orders/created", neither, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.c[0].stream->id, "all");
    assert_string_equal(s.c[1].stream->id, "mapped");
    sink_clear(&s);

    /* Both entries match: only the first counts, and only one copy goes out. */
    assert_int_equal(run_text("acme/events/orders/created", both, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 3);
    want_body(&s.c[1], "acme/big/orders:created", "big", "\"total\":100.0");
    sink_clear(&s);

    /* The other event of the same stream goes by its own entry. */
    assert_int_equal(run_text("acme/events/orders/shipped", "{\"payload\": {}}", &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.c[0].topic, "acme/all/orders:shipped");
    assert_string_equal(s.c[1].topic, "acme/big/orders:shipped");
    sink_clear(&s);
}

static void test_context_criteria(void **state)
{
    struct sink s;

    (void)state;
    sink_init(&s);
    assert_int_equal(run_text("acme/events/orders/created",
                              "{\"context\": {\"region\": \"us\"}, \"payload\": {}}", &s),
                     MQP_EVENT_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.c[0].stream->id, "all");
    assert_string_equal(s.c[1].stream->id, "mapped");
    sink_clear(&s);
    /* No correlationId needed: "" means no constraint. */
    assert_int_equal(
        run_text("acme/events/orders/created", "{\"context\": {\"region\": \"eu\"}}", &s),
        MQP_EVENT_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.c[2].stream->id, "ctx");
    sink_clear(&s);
}

static void test_tenants_are_separate(void **state)
{
    struct sink s;

    (void)state;
    sink_init(&s);
    assert_int_equal(run_text("globex/events/orders/created", order_created, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.c[0].topic, "globex/all/orders:created");
    assert_string_equal(s.c[0].stream->tenant->id, "globex");
    sink_clear(&s);
    /* billing/paid is routed for acme only. */
    assert_int_equal(run_text("globex/events/billing/paid", "{}", &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(run_text("acme/events/billing/paid", "{}", &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.c[0].topic, "acme/quiet/billing:paid");
    sink_clear(&s);
}

static bool timestamp_now_form(const char *ts)
{
    /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    const char *form = "dddd-dd-ddTdd:dd:dd.dddZ";

    if (strlen(ts) != strlen(form))
        return false;
    for (size_t i = 0; form[i]; i++)
        if (form[i] == 'd' ? ts[i] < '0' || ts[i] > '9' : ts[i] != form[i])
            return false;
    return true;
}

static void test_stamps_override_and_now(void **state)
{
    const char *ev = "{\"id\": \"mine\", \"name\": \"theirs\", \"namespace\": 5, \"x\": \"a/b\"}";
    json_object *body, *v;
    struct sink s;
    char year[8];
    time_t now = time(NULL);
    struct tm tm;

    (void)state;
    sink_init(&s);
    assert_int_equal(run_text("acme/events/billing/paid", ev, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 1);
    body = json_tokener_parse(s.c[0].body);
    assert_non_null(body);
    assert_int_equal(json_object_object_length(body), 5);
    assert_true(json_object_object_get_ex(body, "id", &v));
    assert_true(id_well_formed(json_object_get_string(v)));
    assert_true(json_object_object_get_ex(body, "namespace", &v));
    assert_string_equal(json_object_get_string(v), "billing");
    assert_true(json_object_object_get_ex(body, "name", &v));
    assert_string_equal(json_object_get_string(v), "paid");
    assert_true(json_object_object_get_ex(body, "timestamp", &v));
    assert_true(timestamp_now_form(json_object_get_string(v)));
    gmtime_r(&now, &tm);
    strftime(year, sizeof(year), "%Y-", &tm);
    assert_memory_equal(json_object_get_string(v), year, 5);
    /* Slashes are not escaped. */
    assert_non_null(strstr(s.c[0].body, "\"x\":\"a/b\""));
    json_object_put(body);
    sink_clear(&s);
}

static void test_no_route_is_cheap(void **state)
{
    struct sink s;
    size_t n = 99;

    (void)state;
    sink_init(&s);
    /* Not parsed at all: even garbage is fine when nobody listens. */
    assert_int_equal(run("acme/events/orders/deleted", "\x01garbage", 8, &s, &n), MQP_EVENT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(run_text("acme/events/nobody/listens", "[", &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 0);
    /* n_emitted may be NULL. */
    assert_int_equal(mqp_event_fanout(cfg, "acme/events/billing/paid", "{}", 2, emit, &s, NULL),
                     MQP_EVENT_OK);
    assert_int_equal(s.n, 1);
    sink_clear(&s);
}

static void want_status(const char *topic, const char *payload, size_t len,
                        enum mqp_event_status want)
{
    struct sink s;
    size_t n = 99;
    enum mqp_event_status st;

    sink_init(&s);
    st = run(topic, payload, len, &s, &n);
    if (st != want)
        fail_msg("topic %s payload %.60s: got \"%s\", want \"%s\"", topic ? topic : "NULL",
                 payload ? payload : "NULL", mqp_event_status_str(st), mqp_event_status_str(want));
    assert_int_equal(n, 0);
    sink_clear(&s);
}

#define WANT(topic, text, st) want_status(topic, text, sizeof(text) - 1, st)
#define CREATED "acme/events/orders/created"

static void test_topic_and_tenant_errors(void **state)
{
    (void)state;
    WANT("acme/orders/created", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("acme/events/orders", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("acme/events/orders/created/x", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("acme/events/+/created", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("acme/events//created", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("", "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT(NULL, "{}", MQP_EVENT_NOT_EVENT_TOPIC);
    WANT("nobody/events/orders/created", "{}", MQP_EVENT_UNKNOWN_TENANT);
    WANT("ACME/events/orders/created", "{}", MQP_EVENT_UNKNOWN_TENANT);
    {
        struct sink s;

        sink_init(&s);
        assert_int_equal(mqp_event_fanout(NULL, CREATED, "{}", 2, emit, &s, NULL),
                         MQP_EVENT_UNKNOWN_TENANT);
    }
}

static void test_size_limit(void **state)
{
    char *buf = malloc(MAX_EVENT + 2);
    struct sink s;
    const char *head = "{\"pad\": \"";

    (void)state;
    /* Exactly at the limit: accepted. */
    memset(buf, 'x', MAX_EVENT + 1);
    memcpy(buf, head, strlen(head));
    memcpy(buf + MAX_EVENT - 2, "\"}", 2);
    sink_init(&s);
    assert_int_equal(run("globex/events/orders/created", buf, MAX_EVENT, &s, NULL), MQP_EVENT_OK);
    assert_int_equal(s.n, 1);
    sink_clear(&s);
    /* One byte more (trailing white space, valid JSON): refused before parsing. */
    buf[MAX_EVENT] = ' ';
    want_status("globex/events/orders/created", buf, MAX_EVENT + 1, MQP_EVENT_TOO_LARGE);
    /* Also when nobody listens: the limit is the broker's. */
    want_status("globex/events/nobody/listens", buf, MAX_EVENT + 1, MQP_EVENT_TOO_LARGE);
    free(buf);
}

static void test_not_json(void **state)
{
    (void)state;
    WANT(CREATED, "", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "   ", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "not json", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": 1,}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": 01}", MQP_EVENT_NOT_JSON);
    /* Trailing garbage, a second value, a NUL and what follows it. */
    WANT(CREATED, "{\"a\": 1} x", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": 1}{}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": 1}\0", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": 1}\0{}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": \"b\0c\"}", MQP_EVENT_NOT_JSON);
    /* Not numbers in JSON (RFC 8259 section 6). */
    WANT(CREATED, "{\"a\": NaN}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": [1, {\"b\": Infinity}]}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": -Infinity}", MQP_EVENT_NOT_JSON);
    /* Not UTF-8 (RFC 8259 section 8.1). */
    WANT(CREATED, "{\"a\": \"\xff\xfe\"}", MQP_EVENT_NOT_JSON);
    WANT(CREATED, "{\"a\": \"\xc3\"}", MQP_EVENT_NOT_JSON);
    want_status(CREATED, NULL, 0, MQP_EVENT_NOT_JSON);
}

static void test_json_edge_cases_accepted(void **state)
{
    struct sink s;

    (void)state;
    sink_init(&s);
    /* White space around the value is JSON; 1e999 is a JSON number that keeps its text. */
    assert_int_equal(run_text(CREATED, " \t\r\n{\"big\": 1e999}\n ", &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.c[0].body, "\"big\":1e999"));
    sink_clear(&s);
}

static void test_not_object(void **state)
{
    (void)state;
    WANT(CREATED, "[1, 2]", MQP_EVENT_NOT_OBJECT);
    WANT(CREATED, "null", MQP_EVENT_NOT_OBJECT);
    WANT(CREATED, "123", MQP_EVENT_NOT_OBJECT);
    WANT(CREATED, "12.5 ", MQP_EVENT_NOT_OBJECT);
    WANT(CREATED, "\"text\"", MQP_EVENT_NOT_OBJECT);
    WANT(CREATED, "true", MQP_EVENT_NOT_OBJECT);
}

static void test_bad_fields(void **state)
{
    (void)state;
    WANT(CREATED, "{\"timestamp\": 1714557600}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"timestamp\": null}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"correlationId\": 5}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"correlationId\": null}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"correlationId\": [\"x\"]}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"context\": []}", MQP_EVENT_BAD_FIELD);
    WANT(CREATED, "{\"context\": \"eu\"}", MQP_EVENT_BAD_FIELD);
}

/* {"d": [[[ ... ]]]} with the whole document nested depth levels deep. */
static char *nested(int depth)
{
    char *buf = malloc((size_t)depth * 2 + 16);
    size_t o = 0;

    o += (size_t)sprintf(buf, "{\"d\":");
    for (int i = 1; i < depth; i++)
        buf[o++] = '[';
    for (int i = 1; i < depth; i++)
        buf[o++] = ']';
    buf[o++] = '}';
    buf[o] = '\0';
    return buf;
}

static void test_deep_nesting(void **state)
{
    struct sink s;
    char *ok = nested(MQP_EVENT_MAX_DEPTH), *deep = nested(MQP_EVENT_MAX_DEPTH + 1);
    char *very = nested(1000);

    (void)state;
    sink_init(&s);
    assert_int_equal(run_text(CREATED, ok, &s), MQP_EVENT_OK);
    assert_int_equal(s.n, 2);
    sink_clear(&s);
    want_status(CREATED, deep, strlen(deep), MQP_EVENT_NOT_JSON);
    want_status(CREATED, very, strlen(very), MQP_EVENT_NOT_JSON);
    free(ok);
    free(deep);
    free(very);
}

static void test_emit_failure(void **state)
{
    struct sink s;
    size_t n = 99;

    (void)state;
    sink_init(&s);
    s.fail_at = 2;
    assert_int_equal(run(CREATED, order_created, strlen(order_created), &s, &n),
                     MQP_EVENT_EMIT_FAILED);
    assert_int_equal(n, 2);
    sink_clear(&s);
    s.fail_at = 0;
    assert_int_equal(run(CREATED, order_created, strlen(order_created), &s, &n),
                     MQP_EVENT_EMIT_FAILED);
    assert_int_equal(n, 0);
    sink_clear(&s);
}

static void test_ids_increase_across_events(void **state)
{
    char prev[MQP_EVENT_ID_LEN + 1] = "", id[MQP_EVENT_ID_LEN + 1];
    struct sink s;

    (void)state;
    sink_init(&s);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(run_text("globex/events/orders/created", "{}", &s), MQP_EVENT_OK);
        assert_int_equal(s.n, 1);
        body_id(&s.c[0], id);
        assert_true(strcmp(prev, id) < 0);
        strcpy(prev, id);
        sink_clear(&s);
    }
}

static void test_id_format_and_order(void **state)
{
    char prev[MQP_EVENT_ID_LEN + 1] = "", id[MQP_EVENT_ID_LEN + 1];
    struct timespec ts;
    unsigned long long ms_id, ms_now;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(mqp_event_id_new(id), 0);
        assert_true(id_well_formed(id));
        /* 20000 ids come faster than 2048 per millisecond: the counter must keep order. */
        if (strcmp(prev, id) >= 0)
            fail_msg("id %s does not follow %s", id, prev);
        strcpy(prev, id);
    }
    /* The first 48 bits are the Unix time in milliseconds (RFC 9562 5.7). */
    clock_gettime(CLOCK_REALTIME, &ts);
    ms_now = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
    assert_int_equal(sscanf(id, "%8llx", &ms_id), 1);
    {
        unsigned long long low;

        assert_int_equal(sscanf(id + 9, "%4llx", &low), 1);
        ms_id = ms_id << 16 | low;
    }
    /* Within a few seconds of now (the counter may run a little ahead of the clock). */
    assert_true(ms_id + 5000 > ms_now && ms_id < ms_now + 5000);
}

#define THREADS 4
#define IDS_PER_THREAD 5000

static void *make_ids(void *arg)
{
    char(*ids)[MQP_EVENT_ID_LEN + 1] = arg;

    for (int i = 0; i < IDS_PER_THREAD; i++)
        if (mqp_event_id_new(ids[i]) != 0)
            return NULL;
    return arg;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_ids_unique_across_threads(void **state)
{
    char(*ids)[MQP_EVENT_ID_LEN + 1] = calloc(THREADS * IDS_PER_THREAD, sizeof(*ids));
    pthread_t th[THREADS];

    (void)state;
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, make_ids, ids + t * IDS_PER_THREAD), 0);
    for (int t = 0; t < THREADS; t++) {
        void *ret;

        assert_int_equal(pthread_join(th[t], &ret), 0);
        assert_non_null(ret);
        /* Each thread sees its own ids strictly increase. */
        for (int i = 1; i < IDS_PER_THREAD; i++)
            assert_true(strcmp(ids[t * IDS_PER_THREAD + i - 1], ids[t * IDS_PER_THREAD + i]) < 0);
    }
    qsort(ids, THREADS * IDS_PER_THREAD, sizeof(*ids), cmp_id);
    for (int i = 1; i < THREADS * IDS_PER_THREAD; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    free(ids);
}

static void test_status_strings(void **state)
{
    (void)state;
    for (int a = MQP_EVENT_OK; a <= MQP_EVENT_EMIT_FAILED; a++) {
        assert_non_null(mqp_event_status_str(a));
        assert_string_not_equal(mqp_event_status_str(a), "unknown event status");
        for (int b = MQP_EVENT_OK; b < a; b++)
            assert_string_not_equal(mqp_event_status_str(a), mqp_event_status_str(b));
    }
    assert_string_equal(mqp_event_status_str((enum mqp_event_status)99), "unknown event status");
    assert_string_equal(mqp_event_status_str((enum mqp_event_status) - 1), "unknown event status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_per_stream),
        cmocka_unit_test(test_same_event_listed_twice),
        cmocka_unit_test(test_context_criteria),
        cmocka_unit_test(test_tenants_are_separate),
        cmocka_unit_test(test_stamps_override_and_now),
        cmocka_unit_test(test_no_route_is_cheap),
        cmocka_unit_test(test_topic_and_tenant_errors),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_json_edge_cases_accepted),
        cmocka_unit_test(test_not_object),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_emit_failure),
        cmocka_unit_test(test_ids_increase_across_events),
        cmocka_unit_test(test_id_format_and_order),
        cmocka_unit_test(test_ids_unique_across_threads),
        cmocka_unit_test(test_status_strings),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
