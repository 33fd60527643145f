/*
 * Unit tests for bench/sse/sse_parse.c: every response is also fed cut at every position and
 * byte by byte, and must give the same events as when fed whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse_parse.h"

#define MAX_EVENTS 16

struct seen {
    int n;
    struct {
        enum sse_kind kind;
        char name[SSE_NAME_MAX + 1];
        char id[SSE_ID_MAX + 1];
        int id_set, id_too_long, has_t, has_seq;
        uint64_t t, seq;
        size_t data_len;
    } ev[MAX_EVENTS];
};

static void on_event(void *ud, const struct sse_event *e)
{
    struct seen *s = ud;

    assert_true(s->n < MAX_EVENTS);
    s->ev[s->n].kind = e->kind;
    snprintf(s->ev[s->n].name, sizeof(s->ev[s->n].name), "%s", e->name);
    memcpy(s->ev[s->n].id, e->id, e->id_len);
    s->ev[s->n].id[e->id_len] = '\0';
    s->ev[s->n].id_set = e->id_set;
    s->ev[s->n].id_too_long = e->id_too_long;
    s->ev[s->n].has_t = e->has_t;
    s->ev[s->n].has_seq = e->has_seq;
    s->ev[s->n].t = e->t;
    s->ev[s->n].seq = e->seq;
    s->ev[s->n].data_len = e->data_len;
    s->n++;
}

/* Feed text in pieces of at most step bytes, starting with a first piece of cut bytes. */
static int feed(const char *text, size_t cut, size_t step, struct seen *out, int *status)
{
    struct sse_parser p;
    size_t len = strlen(text), at = 0;
    int rc = SSE_OK;

    sse_parser_init(&p);
    memset(out, 0, sizeof(*out));
    while (at < len && rc == SSE_OK) {
        size_t k = at == 0 && cut ? cut : step;

        if (k > len - at)
            k = len - at;
        rc = sse_parser_feed(&p, text + at, k, on_event, out);
        at += k;
    }
    if (status)
        *status = p.status;
    return rc;
}

/* The result of feeding text whole, checked to be the same however the text is cut. */
static int feed_all_ways(const char *text, struct seen *out, int *status)
{
    struct seen other;
    size_t len = strlen(text);
    int rc = feed(text, 0, len, out, status), rc2;

    for (size_t cut = 1; cut < len; cut++) {
        rc2 = feed(text, cut, len, &other, NULL);
        assert_int_equal(rc2, rc);
        assert_int_equal(other.n, out->n);
        assert_memory_equal(&other, out, sizeof(other));
    }
    rc2 = feed(text, 0, 1, &other, NULL);
    assert_int_equal(rc2, rc);
    assert_memory_equal(&other, out, sizeof(other));
    return rc;
}

#define HEAD                                                                                       \
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"                  \
    "cache-control: no-cache\r\nx-accel-buffering: no\r\n\r\n"
#define ID1 "01936f0e-8c1a-7a3b-9c2d-4e5f60718293"
#define ID2 "01936f0e-8c1a-7a3b-9c2d-4e5f60718294"

/* What mqpush-bridge sends: retry, ready, events (JSON with the publisher's members), a
 * heartbeat comment. */
static void test_bridge_stream(void **state)
{
    const char *text =
        HEAD "retry: 3000\n\n"
             "event: mqpush:ready\nid: " ID1 "\ndata: {\"cursor\":\"" ID1 "\",\"replayed\":0}\n\n"
             "id: " ID2 "\ndata: {\"id\":\"" ID2 "\",\"namespace\":\"app\",\"name\":\"tick\","
             "\"timestamp\":\"2026-11-22T09:00:00.000Z\",\"payload\":{\"t\":123456789012,"
             "\"seq\":7,\"pad\":\"xxxxxxxx\"}}\n\n"
             ": hb\n\n"
             "id: " ID2 "\ndata: {\"payload\":{\"seq\":8,\"t\":5}}\n\n";
    struct seen s;
    int status;

    (void)state;
    assert_int_equal(feed_all_ways(text, &s, &status), SSE_OK);
    assert_int_equal(status, 200);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.ev[0].kind, SSE_READY);
    assert_string_equal(s.ev[0].id, ID1);
    assert_false(s.ev[0].has_t);
    assert_int_equal(s.ev[1].kind, SSE_MESSAGE);
    assert_string_equal(s.ev[1].id, ID2);
    assert_true(s.ev[1].id_set);
    assert_true(s.ev[1].has_t);
    assert_true(s.ev[1].has_seq);
    assert_int_equal(s.ev[1].t, 123456789012ull);
    assert_int_equal(s.ev[1].seq, 7);
    assert_int_equal(s.ev[2].t, 5);
    assert_int_equal(s.ev[2].seq, 8);
    assert_int_equal(s.ev[2].data_len, strlen("{\"payload\":{\"seq\":8,\"t\":5}}"));
}

/* HTML 9.2.6: CRLF, LF and CR all end lines; one space after the colon is dropped. */
static void test_line_endings(void **state)
{
    const char *text = HEAD "id:a\r\ndata: {\"t\":1,\"seq\":2}\r\n\r\n"
                            "id:  b\rdata:{\"t\":3,\"seq\":4}\r\r"
                            "data\n\n"
                            "event: message\ndata: x\n\n"
                            "data\r\nid: q\r\n\r\n";
    struct seen s;

    (void)state;
    assert_int_equal(feed_all_ways(text, &s, NULL), SSE_OK);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.ev[0].id, "a");
    assert_int_equal(s.ev[0].seq, 2);
    assert_string_equal(s.ev[1].id, " b");
    assert_int_equal(s.ev[1].t, 3);
    assert_int_equal(s.ev[1].seq, 4);
    /* "data" alone is an empty data line: an event with empty data, keeping the last id */
    assert_int_equal(s.ev[2].kind, SSE_MESSAGE);
    assert_int_equal(s.ev[2].data_len, 0);
    assert_false(s.ev[2].id_set);
    assert_string_equal(s.ev[2].id, " b");
    assert_int_equal(s.ev[3].kind, SSE_MESSAGE);
    /* the CR LF after a bare field name is one line end, not an end and a blank line */
    assert_string_equal(s.ev[4].id, "q");
    assert_true(s.ev[4].id_set);
}

/* Comments, frames without data, unknown fields, named events, data over several lines. */
static void test_fields(void **state)
{
    const char *text = HEAD ": a comment\n\n"
                            "event: mqpush:ready\n\n"
                            "retry: 10\nfoo: bar\nid: c\n\n"
                            "event: mqpush:reconnect\ndata: {\"reason\":\"token-expired\"}\n\n"
                            "data: {\"t\":\n: a comment inside\ndata: 42,\ndata: \"seq\" : 9}\n\n";
    struct seen s;

    (void)state;
    assert_int_equal(feed_all_ways(text, &s, NULL), SSE_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ev[0].kind, SSE_OTHER);
    assert_string_equal(s.ev[0].name, "mqpush:reconnect");
    assert_string_equal(s.ev[0].id, "c");
    assert_int_equal(s.ev[1].kind, SSE_MESSAGE);
    assert_string_equal(s.ev[1].name, "");
    assert_true(s.ev[1].has_t);
    assert_int_equal(s.ev[1].t, 42);
    assert_int_equal(s.ev[1].seq, 9);
    assert_int_equal(s.ev[1].data_len, strlen("{\"t\":\n42,\n\"seq\" : 9}"));
}

/* Only member names count: "t" as a value, longer keys, strings and huge numbers do not. */
static void test_scan(void **state)
{
    const char *text = HEAD "data: {\"a\":\"t\",\"x\":\"seq\",\"timestamp\":\"2026\",\"tt\":1,"
                            "\"sequence\":2,\"t\":\"str\",\"seq\":99999999999999999999999}\n\n"
                            "data: {\"s\":\"\\\"t\\\"\",\"t\" :\t17 ,\"seq\":0}\n\n";
    struct seen s;

    (void)state;
    assert_int_equal(feed_all_ways(text, &s, NULL), SSE_OK);
    assert_int_equal(s.n, 2);
    assert_false(s.ev[0].has_t);
    assert_false(s.ev[0].has_seq);
    assert_true(s.ev[1].has_t);
    assert_int_equal(s.ev[1].t, 17);
    assert_true(s.ev[1].has_seq);
    assert_int_equal(s.ev[1].seq, 0);
}

static void test_long_id_and_name(void **state)
{
    char text[1024];
    struct seen s;

    (void)state;
    snprintf(text, sizeof(text), HEAD "id: %0100d\nevent: %040d\ndata: 1\n\nid: short\ndata: 2\n\n",
             7, 8);
    assert_int_equal(feed_all_ways(text, &s, NULL), SSE_OK);
    assert_int_equal(s.n, 2);
    assert_true(s.ev[0].id_too_long);
    assert_int_equal(s.ev[0].kind, SSE_OTHER);
    assert_false(s.ev[1].id_too_long);
    assert_string_equal(s.ev[1].id, "short");
    assert_int_equal(s.ev[1].kind, SSE_MESSAGE);
}

/* RFC 9112 7.1: chunk sizes in hex, extensions, CRLF after the data, a last chunk, trailers. */
static void test_chunked(void **state)
{
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: text/event-stream; charset=utf-8\r\n\r\n"
                       "7\r\nretry: \r\n"
                       "B;ext=1\r\n3000\n\nid: z\r\n"
                       "1d\r\n\ndata: {\"t\":11,\"seq\":12}\n\ndat\r\n"
                       "4\na: 5\r\n"
                       "2\r\n\n\n\r\n"
                       "0\r\nx-trailer: 1\r\n\r\n";
    struct seen s;

    (void)state;
    assert_int_equal(feed_all_ways(text, &s, NULL), SSE_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.ev[0].id, "z");
    assert_int_equal(s.ev[0].t, 11);
    assert_int_equal(s.ev[0].seq, 12);
    assert_int_equal(s.ev[1].data_len, 1);
}

static void test_chunked_errors(void **state)
{
    struct seen s;

    (void)state;
    assert_int_equal(feed_all_ways("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                                   "content-type: text/event-stream\r\n\r\nzz\r\n",
                                   &s, NULL),
                     SSE_E_CHUNK);
    assert_int_equal(feed_all_ways("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                                   "content-type: text/event-stream\r\n\r\n2\r\nabX",
                                   &s, NULL),
                     SSE_E_CHUNK);
    assert_int_equal(feed_all_ways("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                                   "content-type: text/event-stream\r\n\r\n0\r\n\r\nmore",
                                   &s, NULL),
                     SSE_E_ENDED);
}

static void test_refusals(void **state)
{
    struct seen s;
    int status;

    (void)state;
    assert_int_equal(feed_all_ways("HTTP/1.1 503 Service Unavailable\r\ncontent-type: "
                                   "application/json\r\n\r\n{\"error\":\"unavailable\"}",
                                   &s, &status),
                     SSE_E_STATUS);
    assert_int_equal(status, 503);
    assert_int_equal(
        feed_all_ways("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nx", &s, NULL),
        SSE_E_HEAD);
    assert_int_equal(
        feed_all_ways("HTTP/1.1 200 OK\r\ncontent-type: text/event-streams\r\n\r\n", &s, NULL),
        SSE_E_HEAD);
    assert_int_equal(feed_all_ways("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n"
                                   "content-type: text/event-stream\r\n\r\n",
                                   &s, NULL),
                     SSE_E_HEAD);
    assert_int_equal(feed_all_ways("ICY 200 OK\r\n\r\n", &s, NULL), SSE_E_HEAD);
    assert_int_equal(feed_all_ways("HTTP/1.1 2x0 OK\r\n\r\n", &s, NULL), SSE_E_HEAD);
}

static void test_head_too_long(void **state)
{
    struct sse_parser p;
    char line[1024];
    int rc = SSE_OK;

    (void)state;
    sse_parser_init(&p);
    assert_int_equal(sse_parser_feed(&p, "HTTP/1.1 200 OK\r\n", 17, NULL, NULL), SSE_OK);
    memset(line, 'a', sizeof(line) - 2);
    memcpy(line + sizeof(line) - 2, "\r\n", 2);
    for (int i = 0; i < 20 && rc == SSE_OK; i++)
        rc = sse_parser_feed(&p, line, sizeof(line), NULL, NULL);
    assert_int_equal(rc, SSE_E_HEAD);
    assert_false(sse_parser_streaming(&p));
}

/* Random bytes after a valid head: no crash, no event without data, state stays bounded. */
static void test_random_body(void **state)
{
    static const char alphabet[] = "\r\n: datievnqs\"t0123456789{},x";
    char buf[4096];
    struct seen s;
    struct sse_parser p;

    (void)state;
    srand(7);
    for (int round = 0; round < 200; round++) {
        sse_parser_init(&p);
        memset(&s, 0, sizeof(s));
        assert_int_equal(sse_parser_feed(&p, HEAD, strlen(HEAD), NULL, NULL), SSE_OK);
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
        for (size_t at = 0; at < sizeof(buf);) {
            size_t k = 1 + (size_t)rand() % 64;

            if (k > sizeof(buf) - at)
                k = sizeof(buf) - at;
            s.n = 0; /* count only that nothing overflows */
            assert_int_equal(sse_parser_feed(&p, buf + at, k, on_event, &s), SSE_OK);
            at += k;
        }
        assert_true(p.id_len <= SSE_ID_MAX);
        assert_true(p.name_len <= SSE_NAME_MAX);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bridge_stream),    cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_fields),           cmocka_unit_test(test_scan),
        cmocka_unit_test(test_long_id_and_name), cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_errors),   cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_head_too_long),    cmocka_unit_test(test_random_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
