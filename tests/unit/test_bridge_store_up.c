/*
 * The store's UnifiedPush provider endpoints and messages (store.h up_*), on a SQLite file and
 * on PostgreSQL (store_fx.h), closed and opened again: ids unique, endpoints per owner, exact
 * message bytes (zero bytes, empty), the order and paging of messages, acknowledgement per owner,
 * expiry by age, and messages going with their endpoint.
 */
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

static void add_endpoint(struct store *st, const char *id, const char *tenant, const char *owner,
                         int64_t at)
{
    struct store_up_endpoint e = {.created_at = at};

    snprintf(e.id, sizeof(e.id), "%s", id);
    snprintf(e.tenant, sizeof(e.tenant), "%s", tenant);
    snprintf(e.owner, sizeof(e.owner), "%s", owner);
    assert_int_equal(st->ops->up_endpoint_add(st, &e), 0);
}

#define MAX_SEEN 16

struct seen {
    size_t n;
    int64_t id[MAX_SEEN];
    char endpoint[MAX_SEEN][48];
    unsigned char body[MAX_SEEN][16];
    size_t len[MAX_SEEN];
    size_t stop_after; /* 0: never */
};

static int visit_msg(void *ctx, const struct store_up_msg *m)
{
    struct seen *s = ctx;

    assert_true(s->n < MAX_SEEN);
    assert_true(m->body_len <= sizeof(s->body[0]));
    s->id[s->n] = m->id;
    snprintf(s->endpoint[s->n], sizeof(s->endpoint[0]), "%s", m->endpoint);
    memcpy(s->body[s->n], m->body, m->body_len);
    s->len[s->n] = m->body_len;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int visit_endpoint(void *ctx, const struct store_up_endpoint *e)
{
    struct seen *s = ctx;

    snprintf(s->endpoint[s->n++], sizeof(s->endpoint[0]), "%s", e->id);
    return 0;
}

static void test_endpoints(void **state)
{
    struct store_fx *f = *state;
    struct store *st = f->st;
    struct store_up_endpoint e = {0}, got;
    struct seen s = {0};

    add_endpoint(st, "ep-a1", "demo", "alice", 100);
    add_endpoint(st, "ep-a2", "demo", "alice", 101);
    add_endpoint(st, "ep-b1", "demo", "bob", 102);
    add_endpoint(st, "ep-x1", "acme", "alice", 103);
    snprintf(e.id, sizeof(e.id), "ep-a1");
    snprintf(e.tenant, sizeof(e.tenant), "acme");
    snprintf(e.owner, sizeof(e.owner), "mallory");
    assert_int_equal(st->ops->up_endpoint_add(st, &e), 1);
    assert_int_equal(st->ops->up_endpoint_get(st, "ep-a1", &got), 1);
    assert_string_equal(got.tenant, "demo");
    assert_string_equal(got.owner, "alice");
    assert_int_equal(got.created_at, 100);
    assert_int_equal(st->ops->up_endpoint_get(st, "nope", &got), 0);
    assert_int_equal(st->ops->up_endpoint_count(st, "demo", "alice"), 2);
    assert_int_equal(st->ops->up_endpoint_count(st, "acme", "alice"), 1);
    assert_int_equal(st->ops->up_endpoint_each(st, "demo", "alice", visit_endpoint, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.endpoint[0], "ep-a1");
    assert_string_equal(s.endpoint[1], "ep-a2");
    /* Only the owner deletes. */
    assert_int_equal(st->ops->up_endpoint_delete(st, "demo", "bob", "ep-a1"), 0);
    assert_int_equal(st->ops->up_endpoint_delete(st, "acme", "alice", "ep-a1"), 0);
    assert_int_equal(st->ops->up_endpoint_delete(st, "demo", "alice", "ep-a1"), 1);
    assert_int_equal(st->ops->up_endpoint_get(st, "ep-a1", &got), 0);
    assert_int_equal(st->ops->up_endpoint_count(st, "demo", "alice"), 1);
}

static void test_messages(void **state)
{
    struct store_fx *f = *state;
    struct store *st = f->st;
    static const unsigned char bin[] = {0x00, 0xff, 0xfe, 0x00, 0xc3, 0x28};
    int64_t id[5];
    struct seen s = {0};

    add_endpoint(st, "ep-a1", "demo", "alice", 100);
    add_endpoint(st, "ep-a2", "demo", "alice", 101);
    add_endpoint(st, "ep-b1", "demo", "bob", 102);
    assert_int_equal(st->ops->up_msg_add(st, "ep-a1", bin, sizeof(bin), 1000, &id[0]), 0);
    assert_int_equal(st->ops->up_msg_add(st, "ep-b1", "bob", 3, 1001, &id[1]), 0);
    assert_int_equal(st->ops->up_msg_add(st, "ep-a2", "two", 3, 2000, &id[2]), 0);
    assert_int_equal(st->ops->up_msg_add(st, "ep-a1", "", 0, 3000, &id[3]), 0);
    assert_true(id[0] < id[1] && id[1] < id[2] && id[2] < id[3]);
    /* The same bytes after a close and an open. */
    store_fx_reopen(f);
    st = f->st;
    assert_int_equal(st->ops->up_msg_each(st, "demo", "alice", 0, 10, visit_msg, &s), 3);
    assert_int_equal(s.id[0], id[0]);
    assert_string_equal(s.endpoint[0], "ep-a1");
    assert_int_equal(s.len[0], sizeof(bin));
    assert_memory_equal(s.body[0], bin, sizeof(bin));
    assert_int_equal(s.id[1], id[2]);
    assert_int_equal(s.len[2], 0);
    /* Paging by id and limit, and a visit that stops. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(st->ops->up_msg_each(st, "demo", "alice", id[0], 1, visit_msg, &s), 1);
    assert_int_equal(s.id[0], id[2]);
    memset(&s, 0, sizeof(s));
    s.stop_after = 1;
    assert_int_equal(st->ops->up_msg_each(st, "demo", "alice", 0, 10, visit_msg, &s), 1);
    /* Acknowledging is per owner: bob's message stays. */
    assert_int_equal(st->ops->up_msg_ack(st, "demo", "alice", id[2]), 2);
    assert_int_equal(st->ops->up_msg_ack(st, "demo", "alice", id[2]), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(st->ops->up_msg_each(st, "demo", "alice", 0, 10, visit_msg, &s), 1);
    assert_int_equal(s.id[0], id[3]);
    memset(&s, 0, sizeof(s));
    assert_int_equal(st->ops->up_msg_each(st, "demo", "bob", 0, 10, visit_msg, &s), 1);
    /* An id is never given again, even after the newest went. */
    assert_int_equal(st->ops->up_msg_ack(st, "demo", "alice", id[3]), 1);
    assert_int_equal(st->ops->up_msg_add(st, "ep-a1", "x", 1, 4000, &id[4]), 0);
    assert_true(id[4] > id[3]);
    /* Expiry by age over all owners. */
    assert_int_equal(st->ops->up_msg_expire(st, 3500), 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(st->ops->up_msg_each(st, "demo", "bob", 0, 10, visit_msg, &s), 0);
    /* Messages go with their endpoint. */
    assert_int_equal(st->ops->up_endpoint_delete(st, "demo", "alice", "ep-a1"), 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(st->ops->up_msg_each(st, "demo", "alice", 0, 10, visit_msg, &s), 0);
    /* A message for an unknown endpoint is refused. */
    assert_int_equal(st->ops->up_msg_add(st, "nope", "x", 1, 5000, &id[4]), -1);
}

int main(void)
{
    const struct CMUnitTest sqlite[] = {
        STORE_FX_CASE(test_endpoints, store_fx_sqlite_file),
        STORE_FX_CASE(test_messages, store_fx_sqlite_file),
    };
    const struct CMUnitTest pg[] = {
        STORE_FX_CASE(test_endpoints, store_fx_pg),
        STORE_FX_CASE(test_messages, store_fx_pg),
    };

    return STORE_FX_RUN(sqlite, pg);
}
