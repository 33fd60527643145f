/* Engine.IO v4 session: the open packet, the send queue and polling bodies, what received
 * packets do, and the heartbeat on real libuv timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "socketio/eio_session.h"

struct fx {
    uv_loop_t loop;
    struct eio_session *s;
    int queued, messages, closed;
    char last_message[64];
    char reason[32];
};

static void on_message(void *ud, const char *data, size_t len, bool binary)
{
    struct fx *f = ud;

    (void)binary;
    f->messages++;
    snprintf(f->last_message, sizeof(f->last_message), "%.*s", (int)len, data);
}

static void on_queued(void *ud)
{
    ((struct fx *)ud)->queued++;
}

static void on_close(void *ud, const char *reason)
{
    struct fx *f = ud;

    f->closed++;
    snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static const struct eio_session_ops ops = {on_message, on_queued, on_close};

static void start(struct fx *f, unsigned interval, unsigned timeout, size_t max_payload,
                  size_t max_queue)
{
    struct eio_params p = {interval, timeout, max_payload, max_queue};

    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(eio_session_new(&f->loop, &p, &ops, f, &f->s), 0);
}

static void finish(struct fx *f)
{
    eio_session_free(f->s);
    while (uv_run(&f->loop, UV_RUN_NOWAIT))
        ;
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void test_open_packet(void **state)
{
    struct fx f, g;
    char *open;
    json_object *o, *v;

    (void)state;
    start(&f, 25000, 20000, 1000000, 1 << 20);
    start(&g, 25000, 20000, 1000000, 1 << 20);
    assert_int_equal(strlen(eio_session_sid(f.s)), EIO_SID_LEN);
    assert_string_not_equal(eio_session_sid(f.s), eio_session_sid(g.s));
    open = eio_session_open_packet(f.s, true);
    assert_int_equal(open[0], '0');
    o = json_tokener_parse(open + 1);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "sid", &v));
    assert_string_equal(json_object_get_string(v), eio_session_sid(f.s));
    assert_true(json_object_object_get_ex(o, "upgrades", &v));
    assert_string_equal(json_object_to_json_string(v), "[ \"websocket\" ]");
    assert_true(json_object_object_get_ex(o, "pingInterval", &v));
    assert_int_equal(json_object_get_int(v), 25000);
    assert_true(json_object_object_get_ex(o, "pingTimeout", &v));
    assert_int_equal(json_object_get_int(v), 20000);
    assert_true(json_object_object_get_ex(o, "maxPayload", &v));
    assert_int_equal(json_object_get_int(v), 1000000);
    json_object_put(o);
    free(open);
    open = eio_session_open_packet(f.s, false);
    assert_non_null(strstr(open, "\"upgrades\":[]"));
    free(open);
    finish(&f);
    finish(&g);
}

static void test_queue_and_polling_bodies(void **state)
{
    struct fx f;
    struct eio_buf b = {0};
    const char *d;
    size_t len;
    bool bin;

    (void)state;
    start(&f, 25000, 20000, 16, 1 << 20);
    assert_int_equal(eio_session_send(f.s, EIO_MESSAGE, "2[\"a\"]", 6, false), 0);
    assert_int_equal(f.queued, 1); /* told once, when the queue stops being empty */
    assert_int_equal(eio_session_send(f.s, EIO_MESSAGE, "hello", 5, false), 0);
    assert_int_equal(eio_session_send(f.s, EIO_MESSAGE, "\x01\x02", 2, true), 0);
    assert_int_equal(f.queued, 1);
    /* max_payload 16: "42[\"a\"]" (7) + sep + "4hello" (6) = 14; the binary one waits. */
    assert_int_equal(eio_session_take_polling(f.s, &b), 2);
    assert_string_equal(b.data, "42[\"a\"]\x1e"
                                "4hello");
    free(b.data);
    memset(&b, 0, sizeof(b));
    d = eio_session_peek(f.s, &len, &bin);
    assert_non_null(d);
    assert_true(bin);
    assert_int_equal(len, 2);
    assert_int_equal(eio_session_take_polling(f.s, &b), 1);
    assert_string_equal(b.data, "bAQI=");
    free(b.data);
    memset(&b, 0, sizeof(b));
    /* One packet larger than max_payload still goes, alone. */
    assert_int_equal(eio_session_send(f.s, EIO_MESSAGE, "0123456789012345678901", 22, false), 0);
    assert_int_equal(eio_session_take_polling(f.s, &b), 1);
    assert_int_equal(b.len, 23);
    free(b.data);
    assert_int_equal(eio_session_queued_bytes(f.s), 0);
    finish(&f);
}

static void test_received_packets(void **state)
{
    struct fx f;
    struct eio_packet p;
    const char *d;
    size_t len;
    bool bin;

    (void)state;
    start(&f, 25000, 20000, 1000000, 1 << 20);
    assert_int_equal(eio_packet_parse("40/demo,{}", 10, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), 0);
    assert_int_equal(f.messages, 1);
    assert_string_equal(f.last_message, "0/demo,{}");
    assert_int_equal(eio_packet_parse("2probe", 6, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), 0);
    d = eio_session_peek(f.s, &len, &bin);
    assert_non_null(d);
    assert_int_equal(len, 6);
    assert_memory_equal(d, "3probe", 6);
    eio_session_pop(f.s);
    assert_false(eio_session_upgraded(f.s));
    assert_int_equal(eio_packet_parse("5", 1, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), 0);
    assert_true(eio_session_upgraded(f.s));
    assert_int_equal(eio_packet_parse("6", 1, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), 0);
    assert_int_equal(f.closed, 0);
    assert_int_equal(eio_packet_parse("1", 1, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), -1);
    assert_int_equal(f.closed, 1);
    assert_string_equal(f.reason, "client close");
    /* Nothing more after the end. */
    assert_int_equal(eio_session_send(f.s, EIO_MESSAGE, "x", 1, false), -1);
    finish(&f);

    start(&f, 25000, 20000, 1000000, 1 << 20);
    assert_int_equal(eio_packet_parse("0", 1, &p), 0);
    assert_int_equal(eio_session_receive(f.s, &p), -1);
    assert_string_equal(f.reason, "parse error");
    finish(&f);

    start(&f, 25000, 20000, 1000000, 1 << 20);
    assert_int_equal(eio_packet_parse("2", 1, &p), 0); /* a ping that is not the probe */
    assert_int_equal(eio_session_receive(f.s, &p), -1);
    assert_string_equal(f.reason, "parse error");
    finish(&f);
}

static void test_queue_limit(void **state)
{
    struct fx f;
    int i, rc = 0;

    (void)state;
    start(&f, 25000, 20000, 1000000, 64);
    for (i = 0; i < 20 && rc == 0; i++)
        rc = eio_session_send(f.s, EIO_MESSAGE, "0123456789", 10, false);
    assert_int_equal(rc, -1);
    assert_int_equal(f.closed, 1);
    assert_string_equal(f.reason, "queue full");
    finish(&f);
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Run the loop for about ms milliseconds. */
static void run_for(struct fx *f, unsigned ms)
{
    uv_timer_t t;

    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static int pings_queued(struct fx *f)
{
    const char *d;
    size_t len;
    bool bin;
    int n = 0;

    while ((d = eio_session_peek(f->s, &len, &bin)) != NULL) {
        assert_int_equal(len, 1);
        assert_int_equal(d[0], '2');
        n++;
        eio_session_pop(f->s);
    }
    return n;
}

static void test_heartbeat(void **state)
{
    struct fx f;
    struct eio_packet pong;

    (void)state;
    assert_int_equal(eio_packet_parse("3", 1, &pong), 0);
    start(&f, 50, 100, 1000000, 1 << 20);
    run_for(&f, 70); /* the first ping went at 50 ms */
    assert_int_equal(pings_queued(&f), 1);
    assert_int_equal(eio_session_receive(f.s, &pong), 0);
    /* Answer no more: the next ping (100 ms) waits for its pong until 200 ms, with no second
     * ping meanwhile, then the session ends. */
    run_for(&f, 250);
    assert_int_equal(f.closed, 1);
    assert_string_equal(f.reason, "ping timeout");
    assert_int_equal(pings_queued(&f), 1);
    finish(&f);
}

static void test_pongs_keep_it_alive(void **state)
{
    struct fx f;
    struct eio_packet pong;
    int i, pings = 0;

    (void)state;
    assert_int_equal(eio_packet_parse("3", 1, &pong), 0);
    start(&f, 30, 60, 1000000, 1 << 20);
    for (i = 0; i < 10; i++) {
        run_for(&f, 35);
        pings += pings_queued(&f);
        eio_session_receive(f.s, &pong);
    }
    assert_int_equal(f.closed, 0);
    assert_true(pings >= 5);
    finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_packet),      cmocka_unit_test(test_queue_and_polling_bodies),
        cmocka_unit_test(test_received_packets), cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_heartbeat),        cmocka_unit_test(test_pongs_keep_it_alive),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
