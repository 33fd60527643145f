/*
 * Unit tests for bench/socketio/ws.c and siomsg.c: server byte streams are also fed cut at
 * every position and byte by byte, and must give the same messages as when fed whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "siomsg.h"
#include "ws.h"

#define MAX_MSGS 16
#define MSG_KEEP 400
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

struct seen {
    int n;
    struct {
        int opcode;
        size_t len;
        char data[MSG_KEEP];
    } m[MAX_MSGS];
};

static int on_message(void *ud, int opcode, const char *data, size_t len)
{
    struct seen *s = ud;

    assert_true(s->n < MAX_MSGS);
    s->m[s->n].opcode = opcode;
    s->m[s->n].len = len;
    memcpy(s->m[s->n].data, data, len < MSG_KEEP ? len : MSG_KEEP);
    s->n++;
    return 0;
}

/* A growing byte string to build server streams in. */
struct bytes {
    char b[8192];
    size_t n;
};

static void put(struct bytes *b, const void *data, size_t n)
{
    assert_true(b->n + n <= sizeof(b->b));
    memcpy(b->b + b->n, data, n);
    b->n += n;
}

/* A server frame: unmasked, with the smallest length encoding unless forced wider. */
static void frame(struct bytes *b, int fin, int opcode, const char *data, size_t len)
{
    unsigned char h[10];
    size_t hl = 2;

    h[0] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
    } else {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        hl = 4;
    }
    put(b, h, hl);
    put(b, data, len);
}

static void text(struct bytes *b, const char *s)
{
    frame(b, 1, 0x1, s, strlen(s));
}

#define HEAD                                                                                       \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"            \
    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"

/* Feed b in pieces of at most step bytes, starting with a first piece of cut bytes. */
static int feed(const struct bytes *b, size_t cut, size_t step, struct seen *out, int *status)
{
    struct ws_parser p;
    char key[WS_KEY_LEN + 1];
    size_t at = 0;
    int rc = WS_OK;

    assert_int_equal(ws_parser_init(&p, key), 0);
    /* the stream answers the RFC 6455 1.3 example key */
    memcpy(p.accept, ACCEPT, sizeof(ACCEPT));
    memset(out, 0, sizeof(*out));
    while (at < b->n && rc == WS_OK) {
        size_t k = at == 0 && cut ? cut : step;

        if (k > b->n - at)
            k = b->n - at;
        rc = ws_parser_feed(&p, b->b + at, k, on_message, out);
        at += k;
    }
    if (status)
        *status = p.status;
    ws_parser_free(&p);
    return rc;
}

static int feed_all_ways(const struct bytes *b, struct seen *out, int *status)
{
    static struct seen other;
    int rc = feed(b, 0, b->n, out, status), rc2;

    for (size_t cut = 1; cut < b->n; cut++) {
        rc2 = feed(b, cut, b->n, &other, NULL);
        assert_int_equal(rc2, rc);
        assert_memory_equal(&other, out, sizeof(other));
    }
    rc2 = feed(b, 0, 1, &other, NULL);
    assert_int_equal(rc2, rc);
    assert_memory_equal(&other, out, sizeof(other));
    return rc;
}

static void test_accept(void **state)
{
    char accept[WS_ACCEPT_LEN + 1], key[WS_KEY_LEN + 1], again[WS_ACCEPT_LEN + 1];
    struct ws_parser p;

    (void)state;
    /* RFC 6455 1.3 */
    assert_int_equal(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
    assert_string_equal(accept, ACCEPT);
    assert_int_equal(ws_parser_init(&p, key), 0);
    assert_int_equal(strlen(key), WS_KEY_LEN);
    assert_int_equal(ws_accept_for(key, again), 0);
    assert_string_equal(p.accept, again);
}

static void test_client_frames(void **state)
{
    char out[512], big[300];
    size_t n;

    (void)state;
    n = ws_frame(out, sizeof(out), WS_TEXT, "3", 1, 0x01020304);
    assert_int_equal(n, 2 + 4 + 1);
    assert_int_equal((unsigned char)out[0], 0x81);
    assert_int_equal((unsigned char)out[1], 0x81);
    assert_int_equal(out[6] ^ 0x01, '3');
    memset(big, 'a', sizeof(big));
    n = ws_frame(out, sizeof(out), WS_TEXT, big, sizeof(big), 0);
    assert_int_equal(n, 4 + 4 + sizeof(big));
    assert_int_equal((unsigned char)out[1], 0x80 | 126);
    assert_int_equal(((unsigned char)out[2] << 8) | (unsigned char)out[3], 300);
    assert_int_equal(ws_frame(out, 20, WS_TEXT, big, sizeof(big), 0), 0);
    n = ws_request(out, sizeof(out), "127.0.0.1", 8080, "/socket.io/?EIO=4", "k");
    assert_true(n > 0 && strstr(out, "Sec-WebSocket-Key: k\r\n") != NULL);
}

/* What a socket.io server sends: the open packet in the same read as the 101, a CONNECT
 * answer, a ping, events with and without an offset, a long event, a fragmented message with
 * a ping between its fragments, an empty message, a close. */
static void test_stream(void **state)
{
    struct bytes b = {.n = 0};
    struct seen s;
    char longer[600];
    int status;

    (void)state;
    put(&b, HEAD, strlen(HEAD));
    text(&b, "0{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000}");
    text(&b, "40/bench,{\"sid\":\"s1\"}");
    text(&b, "2");
    text(&b, "42/bench,[\"app:tick\",{\"payload\":{\"t\":5,\"seq\":1}},\"0001\"]");
    snprintf(longer, sizeof(longer),
             "42/bench,[\"app:tick\",{\"payload\":{\"t\":6,\"seq\":2,"
             "\"pad\":\"%0400d\"}}]",
             0);
    text(&b, longer);
    frame(&b, 0, 0x1, "42/bench,[\"app:", 15);
    frame(&b, 1, 0x9, "hi", 2);
    frame(&b, 0, 0x0, "tick\",{\"t\":7,", 13);
    frame(&b, 1, 0x0, "\"seq\":3}]", 9);
    frame(&b, 1, 0x1, "", 0);
    frame(&b, 1, 0x8, "\x03\xe8", 2);
    assert_int_equal(feed_all_ways(&b, &s, &status), WS_OK);
    assert_int_equal(status, 101);
    assert_int_equal(s.n, 9);
    assert_int_equal(s.m[0].opcode, WS_TEXT);
    assert_int_equal(s.m[0].data[0], '0');
    assert_int_equal(s.m[3].len, strlen("42/bench,[\"app:tick\",{\"payload\":{\"t\":5,\"seq\":1}},"
                                        "\"0001\"]"));
    assert_int_equal(s.m[4].len, strlen(longer));
    assert_int_equal(s.m[5].opcode, WS_PING);
    assert_memory_equal(s.m[5].data, "hi", 2);
    assert_int_equal(s.m[6].opcode, WS_TEXT);
    assert_int_equal(s.m[6].len, 37);
    assert_memory_equal(s.m[6].data, "42/bench,[\"app:tick\",{\"t\":7,\"seq\":3}]", 37);
    assert_int_equal(s.m[7].len, 0);
    assert_int_equal(s.m[8].opcode, WS_CLOSE);
}

static int feed_text(const char *head, const char *tail, size_t tail_len, int *status)
{
    struct bytes b = {.n = 0};
    struct seen s;

    put(&b, head, strlen(head));
    put(&b, tail, tail_len);
    return feed_all_ways(&b, &s, status);
}

static void test_errors(void **state)
{
    int status = 0;

    (void)state;
    assert_int_equal(
        feed_text("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "", 0, &status),
        WS_E_STATUS);
    assert_int_equal(status, 400);
    assert_int_equal(feed_text("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: AAAAs3pPLMBiTxaQ9kYGzzhZRbK=\r\n\r\n",
                               "", 0, NULL),
                     WS_E_ACCEPT);
    assert_int_equal(
        feed_text("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "", 0,
                  NULL),
        WS_E_ACCEPT);
    assert_int_equal(feed_text("HTTP/1.1 101 x\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
                               "", 0, NULL),
                     WS_E_HEAD);
    assert_int_equal(feed_text(HEAD "", "\x81\x81mask1", 7, NULL), WS_E_FRAME); /* masked */
    assert_int_equal(feed_text(HEAD "", "\xc1\x01x", 3, NULL), WS_E_FRAME);     /* RSV1 */
    assert_int_equal(feed_text(HEAD "", "\x80\x01x", 3, NULL), WS_E_FRAME);     /* stray CONT */
    assert_int_equal(feed_text(HEAD "", "\x09\x01x", 3, NULL), WS_E_FRAME);     /* ping, no FIN */
    assert_int_equal(feed_text(HEAD "", "\x83\x01x", 3, NULL), WS_E_FRAME);     /* opcode 3 */
    assert_int_equal(feed_text(HEAD "", "\x81\x7e\x00\x05hello", 9, NULL), WS_E_FRAME); /* wide */
    assert_int_equal(feed_text(HEAD "", "\x01\x01x\x81\x01y", 6, NULL), WS_E_FRAME);    /* nested */
    assert_int_equal(feed_text(HEAD "", "\x81\x7f\x00\x00\x00\x00\x10\x00\x00\x00", 10, NULL),
                     WS_E_TOO_BIG);
    assert_int_equal(feed_text(HEAD "", "\x88\x00\x81\x01x", 5, NULL), WS_E_CLOSED);
}

static void test_packets(void **state)
{
    struct siomsg m;
    const char *ev = "42/bench,[\"app:tick\",{\"id\":\"x\",\"payload\":{\"t\":123456789012,"
                     "\"seq\":7,\"pad\":\"xx\"}},\"0193aaaa-0000-7000-8000-000000000001\"]";

    (void)state;
    assert_int_equal(siomsg_parse("0{\"sid\":\"a\"}", 12, "/bench", &m), SIOMSG_EIO_OPEN);
    assert_int_equal(siomsg_parse("2", 1, "/bench", &m), SIOMSG_EIO_PING);
    assert_int_equal(siomsg_parse("6", 1, "/bench", &m), SIOMSG_EIO_NOOP);
    assert_int_equal(siomsg_parse("1", 1, "/bench", &m), SIOMSG_EIO_CLOSE);
    assert_int_equal(siomsg_parse("", 0, "/bench", &m), SIOMSG_BAD);
    assert_int_equal(siomsg_parse("40/bench,{\"sid\":\"q\"}", 20, "/bench", &m), SIOMSG_CONNECT);
    assert_int_equal(siomsg_parse("40{\"sid\":\"q\"}", 13, "/bench", &m), SIOMSG_OTHER_NSP);
    assert_int_equal(siomsg_parse("40{\"sid\":\"q\"}", 13, "/", &m), SIOMSG_CONNECT);
    assert_int_equal(siomsg_parse("40/benchmark,{}", 15, "/bench", &m), SIOMSG_OTHER_NSP);
    assert_int_equal(siomsg_parse("44/bench,{\"message\":\"unknown_stream: s\"}", 41, "/bench", &m),
                     SIOMSG_CONNECT_ERROR);
    assert_int_equal(m.json_len, 32);
    assert_int_equal(siomsg_parse("41/bench,", 9, "/bench", &m), SIOMSG_DISCONNECT);
    assert_int_equal(siomsg_parse("43/bench,1[]", 12, "/bench", &m), SIOMSG_OTHER);

    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_EVENT);
    assert_int_equal(m.name_len, 8);
    assert_memory_equal(m.name, "app:tick", 8);
    assert_true(m.has_t && m.has_seq);
    assert_int_equal(m.t, 123456789012ull);
    assert_int_equal(m.seq, 7);
    assert_int_equal(m.args, 2);
    assert_true(m.has_offset);
    assert_int_equal(m.offset_len, 36);
    assert_memory_equal(m.offset, "0193aaaa", 8);

    /* the peer: no offset; an ack id; spaces JSON allows */
    ev = "42/bench,12 [ \"app:tick\" , { \"seq\" : 9 , \"t\" :\t4 } ] ";
    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_EVENT);
    assert_int_equal(m.args, 1);
    assert_false(m.has_offset);
    assert_int_equal(m.t, 4);
    assert_int_equal(m.seq, 9);

    /* only member names count: "t" as a value, longer keys, escaped quotes, fractions */
    ev = "42/bench,[\"e\",{\"a\":\"t\",\"x\":\"seq\",\"tt\":1,\"s\":\"\\\"t\\\":3\","
         "\"t\":1.5,\"seq\":99999999999999999999999,\"z\":[{\"t\":8}]}]";
    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_EVENT);
    assert_true(m.has_t);
    assert_int_equal(m.t, 8);
    assert_false(m.has_seq);

    /* cut or malformed arrays */
    ev = "42/bench,[\"app:tick\",{\"t\":1}";
    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_BAD);
    ev = "42/bench,[\"app:tick\",{\"t\":1}]x";
    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_BAD);
    ev = "42/bench,{\"t\":1}";
    assert_int_equal(siomsg_parse(ev, strlen(ev), "/bench", &m), SIOMSG_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),  cmocka_unit_test(test_client_frames),
        cmocka_unit_test(test_stream),  cmocka_unit_test(test_errors),
        cmocka_unit_test(test_packets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
