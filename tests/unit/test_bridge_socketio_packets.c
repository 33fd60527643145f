/* Engine.IO v4 payloads and Socket.IO v5 packets: the encodings of the protocol documents'
 * examples, both ways, and what a receiver must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "socketio/eio_packet.h"
#include "socketio/sio_packet.h"

struct seen {
    int n;
    struct {
        enum eio_type type;
        int binary;
        char data[64];
        size_t len;
    } p[8];
    int refuse_at;
};

static int collect(void *ud, const struct eio_packet *p)
{
    struct seen *s = ud;

    if (s->n == s->refuse_at)
        return -1;
    s->p[s->n].type = p->type;
    s->p[s->n].binary = p->binary;
    s->p[s->n].len = p->len;
    memcpy(s->p[s->n].data, p->data, p->len < 63 ? p->len : 63);
    s->n++;
    return 0;
}

static void test_eio_payload_decode(void **state)
{
    static const char body[] = "4hello\x1e"
                               "2\x1e"
                               "4world\x1e"
                               "bAQIDBA==";
    struct seen s = {.refuse_at = -1};

    (void)state;
    assert_int_equal(eio_payload_parse(body, sizeof(body) - 1, 16, collect, &s), 4);
    assert_int_equal(s.p[0].type, EIO_MESSAGE);
    assert_memory_equal(s.p[0].data, "hello", 5);
    assert_int_equal(s.p[1].type, EIO_PING);
    assert_int_equal(s.p[1].len, 0);
    assert_memory_equal(s.p[2].data, "world", 5);
    assert_int_equal(s.p[3].type, EIO_MESSAGE);
    assert_true(s.p[3].binary);
    assert_int_equal(s.p[3].len, 4);
    assert_memory_equal(s.p[3].data, "\x01\x02\x03\x04", 4);
}

static void test_eio_payload_refusals(void **state)
{
    struct seen s = {.refuse_at = -1};
    static const char *const bad[] = {"",
                                      "9x",
                                      "4a\x1e\x1e"
                                      "4b",
                                      "4a\x1e",
                                      "b!!!!",
                                      "bAQI",
                                      "x"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.n = 0;
        assert_int_equal(eio_payload_parse(bad[i], strlen(bad[i]), 16, collect, &s), -1);
    }
    s.n = 0;
    assert_int_equal(eio_payload_parse("2\x1e"
                                       "2\x1e"
                                       "2",
                                       5, 2, collect, &s),
                     -1); /* max */
    s.n = 0;
    s.refuse_at = 1;
    assert_int_equal(eio_payload_parse("4a\x1e"
                                       "4b\x1e"
                                       "4c",
                                       8, 16, collect, &s),
                     -1);
    assert_int_equal(s.n, 1);
}

static void test_eio_payload_encode(void **state)
{
    struct eio_buf b = {0};
    struct seen s = {.refuse_at = -1};

    (void)state;
    assert_int_equal(eio_payload_append(&b, EIO_MESSAGE, "hello", 5, false), 0);
    assert_int_equal(eio_payload_append(&b, EIO_PING, NULL, 0, false), 0);
    assert_int_equal(eio_payload_append(&b, EIO_MESSAGE, "\x01\x02\x03\x04", 4, true), 0);
    assert_string_equal(b.data, "4hello\x1e"
                                "2\x1e"
                                "bAQIDBA==");
    assert_int_equal(eio_payload_parse(b.data, b.len, 16, collect, &s), 3);
    free(b.data);
}

static void expect_decode(const char *wire, enum sio_type type, const char *nsp, int64_t id,
                          unsigned attachments, const char *json)
{
    struct sio_packet p;
    char err[80];
    size_t len;
    char *again;

    if (sio_packet_decode(wire, strlen(wire), 10, &p, err, sizeof(err)) != 0)
        fail_msg("%s: %s", wire, err);
    assert_int_equal(p.type, type);
    assert_string_equal(p.nsp, nsp);
    assert_int_equal(p.id, id);
    assert_int_equal(p.attachments, attachments);
    if (json)
        assert_string_equal(json_object_to_json_string_ext(p.data, JSON_C_TO_STRING_PLAIN), json);
    else
        assert_null(p.data);
    again = sio_packet_encode(&p, &len);
    assert_non_null(again);
    assert_string_equal(again, wire);
    assert_int_equal(len, strlen(wire));
    free(again);
    sio_packet_clear(&p);
}

static void test_sio_spec_examples(void **state)
{
    (void)state;
    expect_decode("0", SIO_CONNECT, "/", -1, 0, NULL);
    expect_decode("0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", SIO_CONNECT, "/admin", -1, 0,
                  "{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}");
    expect_decode("4{\"message\":\"Not authorized\"}", SIO_CONNECT_ERROR, "/", -1, 0,
                  "{\"message\":\"Not authorized\"}");
    expect_decode("2[\"foo\"]", SIO_EVENT, "/", -1, 0, "[\"foo\"]");
    expect_decode("2/admin,[\"bar\"]", SIO_EVENT, "/admin", -1, 0, "[\"bar\"]");
    expect_decode("51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", SIO_BINARY_EVENT, "/", -1, 1,
                  "[\"baz\",{\"_placeholder\":true,\"num\":0}]");
    expect_decode("52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,"
                  "\"num\":1}]",
                  SIO_BINARY_EVENT, "/admin", -1, 2,
                  "[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
    expect_decode("212[\"foo\"]", SIO_EVENT, "/", 12, 0, "[\"foo\"]");
    expect_decode("3/admin,13[\"bar\"]", SIO_ACK, "/admin", 13, 0, "[\"bar\"]");
    expect_decode("61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]", SIO_BINARY_ACK, "/", 15, 1,
                  "[\"bar\",{\"_placeholder\":true,\"num\":0}]");
    expect_decode("1/admin,", SIO_DISCONNECT, "/admin", -1, 0, NULL);
    expect_decode("1", SIO_DISCONNECT, "/", -1, 0, NULL);
    expect_decode("2[42,\"numbered\"]", SIO_EVENT, "/", -1, 0, "[42,\"numbered\"]");
}

static void test_sio_refusals(void **state)
{
    static const char *const bad[] = {
        "",
        "7",
        "x",
        "0[1]",                     /* CONNECT with an array */
        "1{}",                      /* DISCONNECT with a payload */
        "2",                        /* EVENT without payload */
        "2[]",                      /* empty event */
        "2{}",                      /* not an array */
        "2[null]",                  /* name neither string nor number */
        "2[\"connect\"]",           /* reserved */
        "2[\"disconnecting\",1]",   /* reserved */
        "3{}",                      /* ACK not an array */
        "4[1]",                     /* CONNECT_ERROR neither object nor string */
        "5[\"a\"]",                 /* binary without count */
        "5-[\"a\"]",                /* empty count */
        "511-[\"a\"]",              /* over max attachments (10) */
        "2[\"a\"]garbage",          /* trailing bytes */
        "2[\"a\"",                  /* truncated */
        "29007199254740992[\"a\"]", /* id over 2^53 - 1 */
        "2[\"a\",2e]",              /* not a JSON number */
        "2[NaN]",                   /* json-c takes NaN; JSON has none */
        "2[\"a\",-Infinity]",
    };
    struct sio_packet p;
    char err[80];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sio_packet_decode(bad[i], strlen(bad[i]), 10, &p, err, sizeof(err)) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(sio_packet_decode("2[\"a\"]", 6, 10, &p, err, sizeof(err)), 0);
    sio_packet_clear(&p);
}

static void test_sio_encode_event_with_slash_in_payload(void **state)
{
    struct sio_packet p = {.type = SIO_EVENT, .id = -1};
    char *s;
    size_t len;

    (void)state;
    strcpy(p.nsp, "/tenant");
    p.data = json_tokener_parse("[\"orders:created\",{\"url\":\"https://x/y\"}]");
    s = sio_packet_encode(&p, &len);
    assert_string_equal(s, "2/tenant,[\"orders:created\",{\"url\":\"https://x/y\"}]");
    free(s);
    sio_packet_clear(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eio_payload_decode),
        cmocka_unit_test(test_eio_payload_refusals),
        cmocka_unit_test(test_eio_payload_encode),
        cmocka_unit_test(test_sio_spec_examples),
        cmocka_unit_test(test_sio_refusals),
        cmocka_unit_test(test_sio_encode_event_with_slash_in_payload),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
