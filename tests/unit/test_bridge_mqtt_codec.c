/*
 * The broker link's MQTT 5 codec: exact bytes of what the bridge sends, what it accepts and
 * what it refuses from a broker (section numbers of MQTT 5.0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/mqtt_codec.h"

static int frame1(const unsigned char *buf, size_t len, struct mqc_packet *p)
{
    size_t total = 0;
    int rc = mqc_frame(buf, len, 1u << 20, p, &total);

    if (rc == 1)
        assert_int_equal(total, len);
    return rc;
}

static void test_connect_bytes(void **state)
{
    struct mqc_connect c = {.client_id = "br",
                            .username = "br",
                            .password = "tk",
                            .keepalive_s = 30,
                            .session_expiry_s = 3600,
                            .receive_max = 1024};
    static const unsigned char want[] = {
        0x10, 31,                                       /* CONNECT, remaining length */
        0,    4,    'M', 'Q', 'T',  'T',  5,            /* 3.1.2.1, 3.1.2.2 */
        0xc0,                                           /* username, password; clean start off */
        0,    30,                                       /* keep alive */
        8,    0x11, 0,   0,   0x0e, 0x10, 0x21, 4,   0, /* session expiry 3600, receive maximum 1024
                                                         */
        0,    2,    'b', 'r', 0,    2,    'b',  'r', 0, 2, 't', 'k'};
    struct mqc_buf b = {0};

    (void)state;
    assert_int_equal(mqc_put_connect(&b, &c), 0);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.p, want, sizeof(want));
    free(b.p);
}

static void test_subscribe_bytes(void **state)
{
    static const unsigned char want[] = {0x82, 11, 0, 7, 2, 0x0b, 2, 0, 3, 'a', '/', '#', 1};
    struct mqc_buf b = {0};

    (void)state;
    assert_int_equal(mqc_put_subscribe(&b, 7, "a/#", 1, 2), 0);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.p, want, sizeof(want));
    /* a second packet appends */
    assert_int_equal(mqc_put_puback(&b, 0x0102, 0), 0);
    assert_int_equal(b.len, sizeof(want) + 4);
    assert_memory_equal(b.p + sizeof(want), "\x40\x02\x01\x02", 4);
    free(b.p);
}

static void test_publish_round_trip(void **state)
{
    struct mqc_buf b = {0};
    struct mqc_packet p;
    struct mqc_publish m;
    static char big[200000];

    (void)state;
    memset(big, 'x', sizeof(big));
    assert_int_equal(mqc_put_publish(&b, "t/s/ns:a", big, sizeof(big), 1, 9, true), 0);
    /* a 3-byte remaining length */
    assert_int_equal(b.p[0], 0x3a);
    assert_int_equal(frame1(b.p, b.len, &p), 1);
    assert_int_equal(mqc_decode_publish(&p, &m), 0);
    assert_int_equal(m.qos, 1);
    assert_true(m.dup);
    assert_int_equal(m.id, 9);
    assert_int_equal(m.topic_len, 8);
    assert_memory_equal(m.topic, "t/s/ns:a", 8);
    assert_int_equal(m.payload_len, sizeof(big));
    /* any prefix is "more needed", never a packet */
    assert_int_equal(mqc_frame(b.p, 1, 1u << 20, &p, &(size_t){0}), 0);
    assert_int_equal(mqc_frame(b.p, 3, 1u << 20, &p, &(size_t){0}), 0);
    assert_int_equal(mqc_frame(b.p, b.len - 1, 1u << 20, &p, &(size_t){0}), 0);
    /* and larger than the limit is refused before it is all there */
    assert_int_equal(mqc_frame(b.p, 4, 1000, &p, &(size_t){0}), -1);
    free(b.p);
}

static void test_publish_properties(void **state)
{
    /* QoS 1, subscription identifiers 1 and 2, a user property and a content type */
    static const unsigned char in[] = {0x32, 26,   0,    3, 'a',  '/', 'b', 0,   5, 16,
                                       0x0b, 1,    0x0b, 2, 0x26, 0,   1,   'k', 0, 1,
                                       'v',  0x03, 0,    2, 't',  'x', 'P', 'L'};
    struct mqc_packet p;
    struct mqc_publish m;

    (void)state;
    assert_int_equal(frame1(in, sizeof(in), &p), 1);
    assert_int_equal(mqc_decode_publish(&p, &m), 0);
    assert_int_equal(m.props.sub_ids, (1u << 1) | (1u << 2));
    assert_int_equal(m.id, 5);
    assert_int_equal(m.payload_len, 2);
    assert_memory_equal(m.payload, "PL", 2);
}

static void test_publish_refused(void **state)
{
    struct mqc_packet p;
    struct mqc_publish m;
    /* QoS 3 (3.3.1.2) */
    static const unsigned char qos3[] = {0x36, 6, 0, 1, 'a', 0, 1, 0};
    /* DUP on QoS 0 (3.3.1.1) */
    static const unsigned char dup0[] = {0x38, 4, 0, 1, 'a', 0};
    /* U+0000 in the topic (1.5.4) */
    static const unsigned char nul[] = {0x30, 5, 0, 2, 'a', 0, 0};
    /* invalid UTF-8 in the topic */
    static const unsigned char bad[] = {0x30, 5, 0, 2, 0xc3, 0x28, 0};
    /* an unknown property identifier */
    static const unsigned char unk[] = {0x30, 6, 0, 1, 'a', 2, 0x7f, 0};
    /* properties longer than the packet */
    static const unsigned char lng[] = {0x30, 5, 0, 1, 'a', 9, 0x01};
    /* packet id 0 (2.2.1) */
    static const unsigned char id0[] = {0x32, 6, 0, 1, 'a', 0, 0, 0};
    /* subscription identifier 0 (3.3.2.3.8) */
    static const unsigned char sid0[] = {0x30, 6, 0, 1, 'a', 2, 0x0b, 0};

    (void)state;
#define REFUSED(buf)                                                                               \
    do {                                                                                           \
        assert_int_equal(frame1(buf, sizeof(buf), &p), 1);                                         \
        assert_int_equal(mqc_decode_publish(&p, &m), -1);                                          \
    } while (0)
    REFUSED(qos3);
    REFUSED(dup0);
    REFUSED(nul);
    REFUSED(bad);
    REFUSED(unk);
    REFUSED(lng);
    REFUSED(id0);
    REFUSED(sid0);
#undef REFUSED
}

static void test_frame_malformed(void **state)
{
    static const unsigned char five[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char type0[] = {0x00, 0};
    struct mqc_packet p;
    size_t t;

    (void)state;
    assert_int_equal(mqc_frame(five, sizeof(five), MQC_REMAINING_MAX + 10, &p, &t), -1);
    assert_int_equal(mqc_frame(type0, sizeof(type0), 100, &p, &t), -1);
}

static void test_acks(void **state)
{
    static const unsigned char puback2[] = {0x40, 2, 0, 7};
    static const unsigned char puback3[] = {0x40, 3, 0, 7, 0x87};
    static const unsigned char suback[] = {0x90, 5, 0, 3, 0, 0x01, 0x87};
    static const unsigned char suback_empty[] = {0x90, 3, 0, 3, 0};
    static const unsigned char connack[] = {0x20, 6, 1, 0, 3, 0x13, 0, 10};
    static const unsigned char connack_rm0[] = {0x20, 6, 0, 0, 3, 0x21, 0, 0};
    static const unsigned char disc[] = {0xe0, 1, 0x8e};
    struct mqc_packet p;
    struct mqc_ack a;
    struct mqc_props pr;
    bool present;
    uint8_t rc;

    (void)state;
    assert_int_equal(frame1(puback2, sizeof(puback2), &p), 1);
    assert_int_equal(mqc_decode_ack(&p, &a), 0);
    assert_int_equal(a.id, 7);
    assert_int_equal(a.code, 0);
    assert_int_equal(frame1(puback3, sizeof(puback3), &p), 1);
    assert_int_equal(mqc_decode_ack(&p, &a), 0);
    assert_int_equal(a.code, 0x87);
    assert_int_equal(frame1(suback, sizeof(suback), &p), 1);
    assert_int_equal(mqc_decode_ack(&p, &a), 0);
    assert_int_equal(a.n_codes, 2);
    assert_int_equal(a.codes[1], 0x87);
    assert_int_equal(frame1(suback_empty, sizeof(suback_empty), &p), 1);
    assert_int_equal(mqc_decode_ack(&p, &a), -1);
    assert_int_equal(frame1(connack, sizeof(connack), &p), 1);
    assert_int_equal(mqc_decode_connack(&p, &present, &rc, &pr), 0);
    assert_true(present);
    assert_int_equal(rc, 0);
    assert_true(pr.has_server_keepalive);
    assert_int_equal(pr.server_keepalive, 10);
    /* Receive Maximum 0 is a protocol error (3.2.2.3.3) */
    assert_int_equal(frame1(connack_rm0, sizeof(connack_rm0), &p), 1);
    assert_int_equal(mqc_decode_connack(&p, &present, &rc, &pr), -1);
    assert_int_equal(frame1(disc, sizeof(disc), &p), 1);
    assert_int_equal(mqc_decode_disconnect(&p, &rc, &pr), 0);
    assert_int_equal(rc, 0x8e);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(mqc_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
    assert_false(mqc_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(mqc_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(mqc_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(mqc_utf8_valid("\xe2\x82", 2));         /* cut short */
    assert_false(mqc_utf8_valid("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_bytes),
        cmocka_unit_test(test_subscribe_bytes),
        cmocka_unit_test(test_publish_round_trip),
        cmocka_unit_test(test_publish_properties),
        cmocka_unit_test(test_publish_refused),
        cmocka_unit_test(test_frame_malformed),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
