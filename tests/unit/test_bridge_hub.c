/* The hub: subscription reference counting, cursor reads, resume, slow-consumer drops,
 * duplicates, polling and pruning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub.h"

struct link_log {
    int subs, unsubs;
    char last[128];
};

static void link_sub(void *l, const char *filter)
{
    struct link_log *log = l;

    log->subs++;
    snprintf(log->last, sizeof(log->last), "%s", filter);
}

static void link_unsub(void *l, const char *filter)
{
    struct link_log *log = l;

    log->unsubs++;
    snprintf(log->last, sizeof(log->last), "%s", filter);
}

static const struct hub_link_ops link_ops = {link_sub, link_unsub};

struct owner {
    int wakes;
    int drops;
    char reason[32];
    struct hub_consumer *c;
};

static void on_wake(void *o)
{
    ((struct owner *)o)->wakes++;
}

static void on_drop(void *o, const char *reason)
{
    struct owner *w = o;

    w->drops++;
    w->c = NULL;
    snprintf(w->reason, sizeof(w->reason), "%s", reason);
}

static const struct hub_consumer_ops consumer_ops = {on_wake, on_drop};

struct fixture {
    uv_loop_t loop;
    struct hub *hub;
    struct link_log log;
};

static int setup_with(void **state, size_t replay, unsigned age, size_t queue)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct hub_params p = {replay, age, queue};

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(hub_new(&f->loop, &p, &link_ops, &f->log, &f->hub), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 100, 300, 1 << 20);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    hub_free(f->hub);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* Ids are UUIDv7 of a moment just after the test started, numbered so that they sort by n,
 * as the plugin's ids do. */
static uint64_t id_base_ms;

static void id_of(unsigned n, char out[HUB_ID_LEN + 1])
{
    if (id_base_ms == 0) {
        uv_timeval64_t tv;

        uv_gettimeofday(&tv);
        id_base_ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000 + 60000;
    }
    snprintf(out, HUB_ID_LEN + 1, "%08x-%04x-7000-8000-%012u",
             (unsigned)((id_base_ms >> 16) & 0xffffffffu), (unsigned)(id_base_ms & 0xffff),
             n % 1000000000u);
}

/* A stream event body with id number n. */
static void publish(struct fixture *f, const char *topic, unsigned n, const char *extra)
{
    char body[2048], id[HUB_ID_LEN + 1];

    id_of(n, id);
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"namespace\":\"ns\",\"name\":\"n\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\"%s}",
             id, extra ? extra : "");
    hub_on_message(f->hub, topic, body, strlen(body));
}

/* Read everything pending; returns the count and checks ids run from first on. */
static unsigned drain(struct hub_consumer *c, unsigned first)
{
    const struct hub_event *ev;
    unsigned n = 0;
    char want[HUB_ID_LEN + 1];

    while ((ev = hub_consumer_peek(c)) != NULL) {
        id_of(first + n, want);
        assert_string_equal(ev->id, want);
        assert_non_null(strstr(ev->sse, "data: {"));
        assert_memory_equal(ev->sse, "id: ", 4);
        n++;
        hub_consumer_advance(c);
    }
    return n;
}

static void test_subscription_refcount(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0}, b = {0};
    enum hub_resume r;
    size_t replay;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    assert_int_equal(f->log.subs, 1);
    assert_string_equal(f->log.last, "t1/s1/#");
    assert_int_equal(r, HUB_RESUME_NONE);
    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &b, &b.c, &r, &replay), 0);
    assert_int_equal(f->log.subs, 1);
    assert_int_equal(hub_consumer_count(f->hub), 2);
    assert_int_equal(hub_stream_count(f->hub), 1);
    hub_detach(a.c);
    hub_detach(b.c);
    assert_int_equal(hub_consumer_count(f->hub), 0);
    /* Kept for the replay age, so no unsubscribe yet. */
    assert_int_equal(f->log.unsubs, 0);
}

static void test_live_events_wake_once_and_read_in_order(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0};
    enum hub_resume r;
    size_t replay;
    unsigned i;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    for (i = 1; i <= 5; i++)
        publish(f, "t1/s1/ns:n", i, NULL);
    assert_int_equal(a.wakes, 1); /* woken once for the burst */
    assert_int_equal(hub_consumer_backlog(a.c) > 0, 1);
    assert_int_equal(drain(a.c, 1), 5);
    assert_int_equal(hub_consumer_backlog(a.c), 0);
    publish(f, "t1/s1/ns:n", 6, NULL);
    assert_int_equal(a.wakes, 2);
    assert_int_equal(drain(a.c, 6), 1);
    /* Other streams and foreign topics are not ours. */
    publish(f, "t1/other/ns:n", 7, NULL);
    publish(f, "t1/s1", 8, NULL);
    assert_int_equal(a.wakes, 2);
    assert_int_equal(hub_events_in(f->hub), 6);
    hub_detach(a.c);
}

static void test_duplicates_and_junk_ignored(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0};
    enum hub_resume r;
    size_t replay;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    publish(f, "t1/s1/ns:n", 1, NULL);
    publish(f, "t1/s1/ns:n", 1, NULL); /* QoS 1 redelivery */
    hub_on_message(f->hub, "t1/s1/ns:n", "not json", 8);
    hub_on_message(f->hub, "t1/s1/ns:n", "{\"id\":\"nope\"}", 13);
    hub_on_message(f->hub, "t1/s1/ns:n", "[1]", 3);
    assert_int_equal(drain(a.c, 1), 1);
    hub_detach(a.c);
}

static void test_multiline_body_sent_on_one_line(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0};
    enum hub_resume r;
    size_t replay;
    const char body[] = "{\n\"id\": \"01900000-0000-7000-8000-000000000001\",\n\"x\": \"a\"\n}";
    const struct hub_event *ev;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    hub_on_message(f->hub, "t1/s1/ns:n", body, strlen(body));
    ev = hub_consumer_peek(a.c);
    assert_non_null(ev);
    assert_null(strchr(ev->json, '\n'));
    /* "id: ...\n" "data: ...\n" "\n": exactly three line feeds. */
    {
        size_t i, lf = 0;

        for (i = 0; i < ev->sse_len; i++)
            lf += ev->sse[i] == '\n';
        assert_int_equal(lf, 3);
    }
    hub_detach(a.c);
}

static void test_resume(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0}, b = {0}, c = {0}, d = {0};
    enum hub_resume r;
    size_t replay;
    char cur[HUB_ID_LEN + 1];
    unsigned i;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    for (i = 1; i <= 10; i++)
        publish(f, "t1/s1/ns:n", i, NULL);
    /* After event 4: 5..10 are replayed, then live ones follow without a gap. */
    id_of(4, cur);
    assert_int_equal(hub_attach(f->hub, "t1", "s1", cur, &consumer_ops, &b, &b.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_OK);
    assert_int_equal(replay, 6);
    id_of(10, cur);
    assert_string_equal(hub_consumer_head_id(b.c), cur);
    publish(f, "t1/s1/ns:n", 11, NULL);
    assert_int_equal(drain(b.c, 5), 7);
    /* Well-formed and recent but never seen: unknown. */
    id_of(99, cur);
    assert_int_equal(hub_attach(f->hub, "t1", "s1", cur, &consumer_ops, &c, &c.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_UNKNOWN);
    assert_int_equal(replay, 0);
    hub_detach(c.c);
    /* Upper case is the same id. */
    id_of(9, cur);
    for (i = 0; cur[i]; i++)
        if (cur[i] >= 'a' && cur[i] <= 'f')
            cur[i] = (char)(cur[i] - 'a' + 'A');
    assert_int_equal(hub_attach(f->hub, "t1", "s1", cur, &consumer_ops, &c, &c.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_OK);
    assert_int_equal(replay, 2);
    hub_detach(c.c);
    assert_int_equal(
        hub_attach(f->hub, "t1", "s1", "garbage", &consumer_ops, &c, &c.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_INVALID);
    hub_detach(c.c);
    /* Older than the stream's subscription: expired. */
    assert_int_equal(hub_attach(f->hub, "t1", "s1", "00000000-0000-7000-8000-000000000001",
                                &consumer_ops, &d, &d.c, &r, &replay),
                     0);
    assert_int_equal(r, HUB_RESUME_EXPIRED);
    hub_detach(d.c);
    hub_detach(a.c);
    hub_detach(b.c);
}

static int setup_small_replay(void **state)
{
    return setup_with(state, 3, 300, 1 << 20);
}

static void test_resume_outside_window_expires(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0}, b = {0};
    enum hub_resume r;
    size_t replay;
    char cur[HUB_ID_LEN + 1];
    unsigned i;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    for (i = 1; i <= 10; i++)
        publish(f, "t1/s1/ns:n", i, NULL);
    id_of(2, cur); /* 3..10 would be 8 events: more than the 3 a client may get back */
    assert_int_equal(hub_attach(f->hub, "t1", "s1", cur, &consumer_ops, &b, &b.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_EXPIRED);
    assert_int_equal(replay, 0);
    hub_detach(b.c);
    id_of(7, cur); /* 8..10: inside */
    assert_int_equal(hub_attach(f->hub, "t1", "s1", cur, &consumer_ops, &b, &b.c, &r, &replay), 0);
    assert_int_equal(r, HUB_RESUME_OK);
    assert_int_equal(replay, 3);
    assert_int_equal(drain(b.c, 8), 3);
    hub_detach(b.c);
    hub_detach(a.c);
}

static int setup_small_queue(void **state)
{
    return setup_with(state, 100, 300, 4096);
}

static void test_slow_consumer_dropped_others_kept(void **state)
{
    struct fixture *f = *state;
    struct owner slow = {0}, fast = {0};
    enum hub_resume r;
    size_t replay;
    unsigned i, got = 0;
    char pad[600];

    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    assert_int_equal(
        hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &slow, &slow.c, &r, &replay), 0);
    assert_int_equal(
        hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &fast, &fast.c, &r, &replay), 0);
    for (i = 1; i <= 20; i++) {
        char extra[700];

        if (i == 11) {
            /* Over the limit, but within the grace period so far: still there. A second later,
             * without having caught up, it is slow. */
            assert_int_equal(slow.drops, 0);
            usleep(1100 * 1000);
            uv_update_time(&f->loop);
        }
        snprintf(extra, sizeof(extra), ",\"pad\":\"%s\"", pad);
        publish(f, "t1/s1/ns:n", i, extra);
        got += drain(fast.c, i);
    }
    assert_int_equal(got, 20);
    assert_int_equal(slow.drops, 1);
    assert_string_equal(slow.reason, "slow");
    assert_int_equal(fast.drops, 0);
    assert_int_equal(hub_slow_dropped(f->hub), 1);
    assert_int_equal(hub_consumer_count(f->hub), 1);
    hub_detach(fast.c);
}

struct poll_acc {
    unsigned n, first;
    unsigned limit;
};

static bool poll_visit(void *ctx, const struct hub_event *ev)
{
    struct poll_acc *p = ctx;
    char want[HUB_ID_LEN + 1];

    id_of(p->first + p->n, want);
    assert_string_equal(ev->id, want);
    p->n++;
    return p->n < p->limit;
}

static void test_poll(void **state)
{
    struct fixture *f = *state;
    struct poll_acc p = {0, 1, 100};
    enum hub_resume r;
    char cur[HUB_ID_LEN + 1];
    unsigned i;

    /* The first poll takes the subscription; nothing is buffered yet. */
    assert_int_equal(hub_poll(f->hub, "t1", "s1", NULL, poll_visit, &p, &r), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(f->log.subs, 1);
    for (i = 1; i <= 5; i++)
        publish(f, "t1/s1/ns:n", i, NULL);
    assert_int_equal(hub_poll(f->hub, "t1", "s1", NULL, poll_visit, &p, &r), 0);
    assert_int_equal(r, HUB_RESUME_NONE);
    assert_int_equal(p.n, 5);
    id_of(2, cur);
    p = (struct poll_acc){0, 3, 2};
    assert_int_equal(hub_poll(f->hub, "t1", "s1", cur, poll_visit, &p, &r), 0);
    assert_int_equal(r, HUB_RESUME_OK);
    assert_int_equal(p.n, 2);
    p = (struct poll_acc){0, 1, 100};
    assert_int_equal(hub_poll(f->hub, "t1", "s1", "bad", poll_visit, &p, &r), 0);
    assert_int_equal(r, HUB_RESUME_INVALID);
    assert_int_equal(p.n, 5); /* from the oldest */
}

static bool keep_none(void *ctx, const char *tenant, const char *stream)
{
    (void)ctx;
    (void)tenant;
    (void)stream;
    return false;
}

static void test_prune(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0};
    enum hub_resume r;
    size_t replay;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    hub_prune(f->hub, keep_none, NULL);
    assert_int_equal(a.drops, 1);
    assert_string_equal(a.reason, "stream-removed");
    assert_int_equal(f->log.unsubs, 1);
    assert_int_equal(hub_stream_count(f->hub), 0);
}

static int setup_no_age(void **state)
{
    return setup_with(state, 100, 0, 1 << 20);
}

static void stop_timer(uv_timer_t *t)
{
    uv_timer_stop(t);
}

static void test_idle_stream_released(void **state)
{
    struct fixture *f = *state;
    struct owner a = {0};
    enum hub_resume r;
    size_t replay;

    assert_int_equal(hub_attach(f->hub, "t1", "s1", NULL, &consumer_ops, &a, &a.c, &r, &replay), 0);
    hub_detach(a.c);
    /* The hub's timer is unreferenced; run the loop until its tick released the stream. */
    {
        uv_timer_t t;

        uv_timer_init(&f->loop, &t);
        uv_timer_start(&t, stop_timer, 1100, 0);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&t, NULL);
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(hub_stream_count(f->hub), 0);
    assert_int_equal(f->log.unsubs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscription_refcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_events_wake_once_and_read_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_and_junk_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiline_body_sent_on_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_outside_window_expires, setup_small_replay,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_consumer_dropped_others_kept, setup_small_queue,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_stream_released, setup_no_age, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
