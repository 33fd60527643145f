/*
 * Several bridges on one store (store.h node_beat, msg_adopt, ssf_out_adopt, store_set_node):
 * two or three stores opened with different node names on one SQLite file or PostgreSQL
 * database (store_fx.h). Each sees only the outbox rows it added; the rows of a node without
 * a live beat, and those added before nodes had names, are adopted oldest first, by one node
 * only even when two adopt at once from two threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store_fx.h"

#define NOW 1700000000000LL
#define MAX_SEEN 4096

struct seen {
    int n;
    int64_t ids[MAX_SEEN];
    int stop_after; /* the visit returns 1 after this many (0: never) */
};

static int see_msg(void *ctx, const struct store_msg *m)
{
    struct seen *s = ctx;

    if (s->n < MAX_SEEN)
        s->ids[s->n] = m->id;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int see_out(void *ctx, const struct store_ssf_out *o)
{
    struct seen *s = ctx;

    if (s->n < MAX_SEEN)
        s->ids[s->n] = o->id;
    s->n++;
    return 0;
}

static int64_t subscribe(struct store *st, const char *channel, const char *endpoint)
{
    struct store_sub s = {
        .channel = (char *)channel,
        .endpoint = (char *)endpoint,
        .tenant = "t",
        .stream = "alerts",
        .expires_at = INT64_MAX,
        .created_at = 1,
    };

    assert_int_equal(st->ops->sub_insert(st, &s), 0);
    return s.id;
}

/* n messages for sub, events prefix-0, prefix-1...; their ids in ids (may be NULL). */
static void add_msgs(struct store *st, int64_t sub, const char *prefix, int n, int64_t *ids)
{
    struct store_msg *m = calloc((size_t)n, sizeof(*m));
    char(*names)[32] = calloc((size_t)n, sizeof(*names));

    assert_non_null(m);
    assert_non_null(names);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s-%d", prefix, i);
        m[i].sub_id = sub;
        m[i].event_id = names[i];
        m[i].body = (unsigned char *)"{}";
        m[i].body_len = 2;
        m[i].created_ms = m[i].due_ms = NOW;
        m[i].expires_ms = NOW + 60000;
    }
    assert_int_equal(st->ops->msg_add(st, m, (size_t)n), 0);
    for (int i = 0; i < n; i++) {
        assert_true(m[i].id > 0);
        if (ids)
            ids[i] = m[i].id;
    }
    free(names);
    free(m);
}

static void add_sets(struct store *st, const char *stream_id, const char *prefix, int n)
{
    struct store_ssf_out *o = calloc((size_t)n, sizeof(*o));
    char(*jtis)[32] = calloc((size_t)n, sizeof(*jtis));

    assert_non_null(o);
    assert_non_null(jtis);
    for (int i = 0; i < n; i++) {
        snprintf(jtis[i], sizeof(jtis[i]), "%s-%d", prefix, i);
        o[i].stream_id = (char *)stream_id;
        o[i].jti = jtis[i];
        o[i].claims = "{}";
        o[i].created_ms = o[i].due_ms = NOW;
    }
    assert_int_equal(st->ops->ssf_out_add(st, o, (size_t)n), 0);
    for (int i = 0; i < n; i++)
        assert_true(o[i].id > 0);
    free(jtis);
    free(o);
}

static void add_stream(struct store *st, const char *id)
{
    struct store_ssf_stream s = {.id = (char *)id,
                                 .tenant = "t",
                                 .aud = "a",
                                 .config = "{}",
                                 .status = "enabled",
                                 .created_at = 1,
                                 .updated_at = 1};

    assert_int_equal(st->ops->ssf_stream_put(st, &s), 0);
}

static int msgs_of(struct store *st, const char *channel)
{
    struct seen s = {0};

    assert_int_equal(st->ops->msg_each(st, channel, see_msg, &s), 0);
    return s.n;
}

static int sets_of(struct store *st)
{
    struct seen s = {0};

    assert_int_equal(st->ops->ssf_out_each(st, see_out, &s), 0);
    return s.n;
}

static void test_rows_belong_to_their_node(void **state)
{
    struct store_fx *f = *state;
    struct store *a = f->st, *b = store_fx_open(f, "bridge-b");
    int64_t sub;

    store_set_node(a, "bridge-a");
    assert_string_equal(a->node, "bridge-a");
    sub = subscribe(a, "webpush", "https://p.example/1");
    add_stream(a, "s1");
    add_msgs(a, sub, "a", 3, NULL);
    add_msgs(b, sub, "b", 2, NULL);
    add_sets(a, "s1", "a", 1);
    add_sets(b, "s1", "b", 4);
    assert_int_equal(msgs_of(a, "webpush"), 3);
    assert_int_equal(msgs_of(b, "webpush"), 2);
    assert_int_equal(sets_of(a), 1);
    assert_int_equal(sets_of(b), 4);
    /* the subscriptions are everybody's */
    assert_int_equal(b->ops->sub_count_user(b, "webpush", "t", ""), 1);
    /* a store that was never named is the node "": none of these are its rows */
    store_set_node(a, NULL);
    assert_string_equal(a->node, "");
    assert_int_equal(msgs_of(a, "webpush"), 0);
    assert_int_equal(sets_of(a), 0);
    /* a name is cut to what fits */
    store_set_node(a, "0123456789012345678901234567890123456789012345678901234567890123456789");
    assert_int_equal(strlen(a->node), sizeof(a->node) - 1);
    store_close(b);
}

static void test_adopt_from_dead_nodes(void **state)
{
    struct store_fx *f = *state;
    struct store *a = f->st, *b = store_fx_open(f, "bridge-b"), *old = store_fx_open(f, NULL);
    int64_t sub = subscribe(a, "webpush", "https://p.example/1");
    int64_t up = subscribe(a, "unifiedpush", "https://p.example/2");
    int64_t b_ids[3], old_ids[2];
    struct seen s = {0};

    store_set_node(a, "bridge-a");
    add_stream(a, "s1");
    add_msgs(old, sub, "old", 2, old_ids); /* rows from before nodes had names: node "" */
    add_msgs(b, sub, "b", 3, b_ids);
    add_msgs(b, up, "b-up", 2, NULL);
    add_msgs(a, sub, "a", 1, NULL);
    add_sets(b, "s1", "b", 2);
    assert_int_equal(a->ops->node_beat(a, "bridge-a", NOW, 10000), 0);
    assert_int_equal(b->ops->node_beat(b, "bridge-b", NOW - 20000, 10000), 0);
    assert_int_equal(b->ops->node_beat(b, "bridge-b", NOW, 5000), 0); /* extended */

    /* b is alive until NOW + 5000 (inclusive): its rows stay; the unnamed rows are adopted */
    assert_int_equal(a->ops->msg_adopt(a, "webpush", NOW + 5000, see_msg, &s), 2);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], old_ids[0]);
    assert_int_equal(s.ids[1], old_ids[1]);
    assert_int_equal(a->ops->ssf_out_adopt(a, NOW + 5000, see_out, &s), 0);
    assert_int_equal(msgs_of(a, "webpush"), 3);
    assert_int_equal(msgs_of(old, "webpush"), 0);

    /* a millisecond later b is dead: its rows of this channel, oldest first */
    memset(&s, 0, sizeof(s));
    assert_int_equal(a->ops->msg_adopt(a, "webpush", NOW + 5001, see_msg, &s), 3);
    assert_int_equal(s.n, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s.ids[i], b_ids[i]);
    assert_int_equal(msgs_of(a, "webpush"), 6);
    assert_int_equal(msgs_of(b, "webpush"), 0);
    assert_int_equal(msgs_of(b, "unifiedpush"), 2); /* another channel's are not taken */
    memset(&s, 0, sizeof(s));
    assert_int_equal(a->ops->ssf_out_adopt(a, NOW + 5001, see_out, &s), 2);
    assert_int_equal(s.n, 2);
    assert_true(s.ids[0] < s.ids[1]);
    assert_int_equal(sets_of(a), 2);
    assert_int_equal(sets_of(b), 0);
    /* nothing left to take, and a node never takes from itself */
    assert_int_equal(a->ops->msg_adopt(a, "webpush", NOW + 99999, see_msg, &s), 0);
    assert_int_equal(a->ops->ssf_out_adopt(a, NOW + 99999, see_out, &s), 0);

    /* b comes back and beats again: what a took stays a's; b's new rows are b's */
    assert_int_equal(b->ops->node_beat(b, "bridge-b", NOW + 6000, 5000), 0);
    add_msgs(b, sub, "b-again", 1, NULL);
    assert_int_equal(a->ops->msg_adopt(a, "webpush", NOW + 7000, see_msg, &s), 0);
    assert_int_equal(msgs_of(b, "webpush"), 1);
    /* and a's rows are b's to take once a stopped beating */
    memset(&s, 0, sizeof(s));
    assert_int_equal(b->ops->msg_adopt(b, "webpush", NOW + 10001, see_msg, &s), 6);
    assert_int_equal(msgs_of(a, "webpush"), 0);
    store_close(old);
    store_close(b);
}

static void test_adopt_visit_stops(void **state)
{
    struct store_fx *f = *state;
    struct store *a = f->st, *b = store_fx_open(f, "bridge-b");
    int64_t sub = subscribe(a, "webpush", "https://p.example/1");
    struct seen s = {.stop_after = 1};

    store_set_node(a, "bridge-a");
    add_msgs(b, sub, "b", 3, NULL);
    /* the visits stop and the call says so; the rows are a's all the same */
    assert_int_equal(a->ops->msg_adopt(a, "webpush", NOW, see_msg, &s), -1);
    assert_int_equal(s.n, 1);
    assert_int_equal(msgs_of(a, "webpush"), 3);
    store_close(b);
}

/* Two bridges adopting at once, each on its own connection and thread. */
struct adopter {
    struct store *st;
    pthread_barrier_t *go;
    int sets; /* adopt SETs instead of messages */
    int taken;
    struct seen seen;
};

static void *adopt_thread(void *arg)
{
    struct adopter *x = arg;

    pthread_barrier_wait(x->go);
    if (x->sets)
        x->taken = x->st->ops->ssf_out_adopt(x->st, NOW, see_out, &x->seen);
    else
        x->taken = x->st->ops->msg_adopt(x->st, "webpush", NOW, see_msg, &x->seen);
    return NULL;
}

static int has(const struct seen *s, int64_t id)
{
    for (int i = 0; i < s->n && i < MAX_SEEN; i++)
        if (s->ids[i] == id)
            return 1;
    return 0;
}

static void test_adopt_at_once(void **state)
{
    enum { ROWS = 1500, ROUNDS = 4 };
    struct store_fx *f = *state;
    struct store *dead = f->st, *x = store_fx_open(f, "bridge-x"),
                 *y = store_fx_open(f, "bridge-y");
    struct adopter *ad = calloc(2, sizeof(*ad));
    pthread_barrier_t go;
    int64_t sub = subscribe(dead, "webpush", "https://p.example/1");
    char prefix[16];

    assert_non_null(ad);
    add_stream(dead, "s1");
    /* the adopters are alive: they take from the dead only, never from each other */
    assert_int_equal(x->ops->node_beat(x, "bridge-x", NOW, 3600000), 0);
    assert_int_equal(y->ops->node_beat(y, "bridge-y", NOW, 3600000), 0);
    for (int round = 0; round < ROUNDS; round++) {
        int sets = round % 2;
        pthread_t t[2];

        /* rows of a node that never beat: fair game for both */
        snprintf(prefix, sizeof(prefix), "dead%d", round);
        store_set_node(dead, prefix);
        if (sets)
            add_sets(dead, "s1", prefix, ROWS);
        else
            add_msgs(dead, sub, prefix, ROWS, NULL);
        memset(ad, 0, 2 * sizeof(*ad));
        assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
        ad[0] = (struct adopter){.st = x, .go = &go, .sets = sets};
        ad[1] = (struct adopter){.st = y, .go = &go, .sets = sets};
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, adopt_thread, &ad[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&go);

        /* each row taken once: by exactly one of them, and each saw what it took */
        assert_true(ad[0].taken >= 0 && ad[1].taken >= 0);
        assert_int_equal(ad[0].taken + ad[1].taken, ROWS);
        assert_int_equal(ad[0].seen.n, ad[0].taken);
        assert_int_equal(ad[1].seen.n, ad[1].taken);
        for (int i = 0; i < ad[0].seen.n; i++)
            if (has(&ad[1].seen, ad[0].seen.ids[i]))
                fail_msg("round %d: row %lld taken by both", round, (long long)ad[0].seen.ids[i]);
        if (sets) {
            assert_int_equal(sets_of(x) + sets_of(y), (round / 2 + 1) * ROWS);
        } else {
            assert_int_equal(msgs_of(x, "webpush") + msgs_of(y, "webpush"), (round / 2 + 1) * ROWS);
        }
        assert_int_equal(msgs_of(dead, "webpush") + sets_of(dead), 0);
        print_message("round %d: %d and %d rows\n", round, ad[0].taken, ad[1].taken);
    }
    free(ad);
    store_close(x);
    store_close(y);
}

/* node_claim_dead: only bridges whose beat ran out, never oneself, each claimed once. */
static void test_claim_dead(void **state)
{
    struct store_fx *f = *state;
    struct store *a = f->st, *b = store_fx_open(f, "bridge-b");
    char node[64];

    store_set_node(a, "bridge-a");
    assert_int_equal(a->ops->node_beat(a, "bridge-a", NOW - 60000, 10000), 0); /* a is late */
    assert_int_equal(a->ops->node_beat(a, "bridge-b", NOW, 10000), 0);
    assert_int_equal(a->ops->node_beat(a, "bridge-c", NOW - 30000, 10000), 0);
    assert_int_equal(a->ops->node_beat(a, "bridge-d", NOW - 20000, 10000), 0);
    /* a does not claim itself; the longest silent first */
    assert_int_equal(a->ops->node_claim_dead(a, NOW, node, sizeof(node)), 1);
    assert_string_equal(node, "bridge-c");
    assert_int_equal(b->ops->node_claim_dead(b, NOW, node, sizeof(node)), 1);
    assert_true(strcmp(node, "bridge-a") == 0 || strcmp(node, "bridge-d") == 0);
    assert_int_equal(a->ops->node_claim_dead(a, NOW, node, sizeof(node)), 1);
    assert_string_equal(node, "bridge-d");
    assert_int_equal(a->ops->node_claim_dead(a, NOW, node, sizeof(node)), 0);
    /* claimed: gone for everybody; b still beats */
    assert_int_equal(b->ops->node_claim_dead(b, NOW, node, sizeof(node)), 0);
    assert_int_equal(a->ops->node_claim_dead(a, NOW + 20000, node, sizeof(node)), 1);
    assert_string_equal(node, "bridge-b");
    store_close(b);
}

#define CASES(kind)                                                                                \
    STORE_FX_CASE(test_rows_belong_to_their_node, kind),                                           \
        STORE_FX_CASE(test_adopt_from_dead_nodes, kind),                                           \
        STORE_FX_CASE(test_adopt_visit_stops, kind), STORE_FX_CASE(test_adopt_at_once, kind),      \
        STORE_FX_CASE(test_claim_dead, kind)

int main(void)
{
    const struct CMUnitTest sqlite[] = {CASES(store_fx_sqlite_file)};
    const struct CMUnitTest pg[] = {CASES(store_fx_pg)};

    return STORE_FX_RUN(sqlite, pg);
}
