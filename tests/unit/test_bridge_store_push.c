/*
 * The store's push subscriptions and outbox (store.h sub_* and msg_*), on SQLite in memory and
 * in a file, and on PostgreSQL (store_fx.h), closed and opened again: unique endpoints per
 * channel, the
 * deletions by id, endpoint, session and VAPID key with their pending messages, duplicates in
 * the outbox, the order messages come back in.
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

/* A subscription record with everything set; strings borrowed from static storage. */
static struct store_sub sub(const char *channel, const char *endpoint, const char *user,
                            const char *session, const char *vapid)
{
    struct store_sub s;

    memset(&s, 0, sizeof(s));
    s.channel = (char *)channel;
    s.endpoint = (char *)endpoint;
    for (size_t i = 0; i < sizeof(s.p256dh); i++)
        s.p256dh[i] = (unsigned char)(i + 1);
    s.p256dh[0] = 4;
    for (size_t i = 0; i < sizeof(s.auth); i++)
        s.auth[i] = (unsigned char)(0xa0 + i);
    s.has_keys = 1;
    s.vapid_key = (char *)vapid;
    s.tenant = "t";
    s.stream = "alerts";
    s.user = (char *)user;
    s.session = (char *)session;
    s.identity = "{\"sub\":\"u\",\"roles\":[\"reader\"]}";
    s.expires_at = 1900000000;
    s.created_at = 1700000000;
    return s;
}

static int64_t insert(struct store *st, struct store_sub s)
{
    assert_int_equal(st->ops->sub_insert(st, &s), 0);
    assert_true(s.id > 0);
    return s.id;
}

/* Is endpoint of channel in the store? */
static int present(struct store *st, const char *channel, const char *endpoint)
{
    struct store_sub out;
    int rc = st->ops->sub_get(st, channel, endpoint, &out);

    assert_true(rc == 0 || rc == 1);
    store_sub_clear(&out);
    return rc;
}

/* What msg_each / sub_each visit, for checking order and content. */
struct seen {
    int n;
    int64_t ids[32];
    int64_t sub_ids[32];
    char events[32][48];
    size_t body_len[32];
    unsigned char first_body_byte[32];
    int attempts[32];
    int64_t due_ms[32];
    int stop_after; /* visitor returns 1 after this many (0: never) */
};

static int see_msg(void *ctx, const struct store_msg *m)
{
    struct seen *s = ctx;

    assert_true(s->n < 32);
    s->ids[s->n] = m->id;
    s->sub_ids[s->n] = m->sub_id;
    snprintf(s->events[s->n], sizeof(s->events[0]), "%s", m->event_id);
    s->body_len[s->n] = m->body_len;
    s->first_body_byte[s->n] = m->body_len ? m->body[0] : 0;
    s->attempts[s->n] = m->attempts;
    s->due_ms[s->n] = m->due_ms;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static int see_sub(void *ctx, const struct store_sub *sb)
{
    struct seen *s = ctx;

    assert_true(s->n < 32);
    s->ids[s->n] = sb->id;
    snprintf(s->events[s->n], sizeof(s->events[0]), "%s", sb->endpoint);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static struct store_msg msg(int64_t sub_id, const char *event_id, const char *body)
{
    struct store_msg m;

    memset(&m, 0, sizeof(m));
    m.sub_id = sub_id;
    m.event_id = (char *)event_id;
    m.body = (unsigned char *)body;
    m.body_len = strlen(body);
    m.created_ms = 1700000000000;
    m.expires_ms = 1700000600000;
    m.due_ms = 1700000000000;
    return m;
}

static void test_sub_insert_get_conflict(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct store_sub a = sub("webpush", "https://p.example/1", "alice", "s1", "KEY1"), out, b;

    assert_int_equal(st->ops->sub_insert(st, &a), 0);
    assert_true(a.id > 0);
    assert_int_equal(st->ops->sub_get(st, "webpush", "https://p.example/1", &out), 1);
    assert_int_equal(out.id, a.id);
    assert_string_equal(out.channel, "webpush");
    assert_string_equal(out.endpoint, "https://p.example/1");
    assert_memory_equal(out.p256dh, a.p256dh, sizeof(a.p256dh));
    assert_memory_equal(out.auth, a.auth, sizeof(a.auth));
    assert_int_equal(out.has_keys, 1);
    assert_string_equal(out.vapid_key, "KEY1");
    assert_string_equal(out.tenant, "t");
    assert_string_equal(out.stream, "alerts");
    assert_string_equal(out.user, "alice");
    assert_string_equal(out.session, "s1");
    assert_string_equal(out.identity, a.identity);
    assert_int_equal(out.expires_at, 1900000000);
    assert_int_equal(out.created_at, 1700000000);
    store_sub_clear(&out);
    assert_null(out.endpoint);

    /* the endpoint is taken in this channel (the row is unchanged), free in another */
    b = sub("webpush", "https://p.example/1", "bob", "s9", "KEY2");
    b.id = 0;
    assert_int_equal(st->ops->sub_insert(st, &b), 1);
    assert_int_equal(b.id, 0);
    assert_int_equal(st->ops->sub_get(st, "webpush", "https://p.example/1", &out), 1);
    assert_string_equal(out.user, "alice");
    store_sub_clear(&out);
    b.channel = "unifiedpush";
    assert_int_equal(st->ops->sub_insert(st, &b), 0);
    assert_true(b.id > a.id);

    assert_int_equal(st->ops->sub_get(st, "webpush", "https://p.example/none", &out), 0);
    assert_null(out.endpoint);
    assert_int_equal(st->ops->sub_get(st, "other", "https://p.example/1", &out), 0);
}

static void test_sub_optional_fields(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct store_sub a = sub("unifiedpush", "https://up.example/x", NULL, NULL, NULL), out;

    /* no keys (UnifiedPush without encryption), no VAPID key, no user, session or identity */
    a.has_keys = 0;
    a.identity = NULL;
    a.expires_at = INT64_MAX;
    insert(st, a);
    assert_int_equal(st->ops->sub_get(st, "unifiedpush", "https://up.example/x", &out), 1);
    assert_int_equal(out.has_keys, 0);
    assert_null(out.vapid_key);
    assert_string_equal(out.user, "");
    assert_string_equal(out.session, "");
    assert_string_equal(out.identity, "{}");
    assert_int_equal(out.expires_at, INT64_MAX);
    store_sub_clear(&out);
    store_sub_clear(NULL);
    store_msg_clear(NULL);
}

static void test_sub_delete_by_id_endpoint_all(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t id1 = insert(st, sub("webpush", "https://p.example/1", "u", "s", "K"));
    int64_t id2 = insert(st, sub("webpush", "https://p.example/2", "u", "s", "K"));
    int64_t other = insert(st, sub("unifiedpush", "https://p.example/3", "u", "s", NULL));

    (void)id2;
    /* by id: only in its channel */
    assert_int_equal(st->ops->sub_delete(st, "unifiedpush", id1, NULL), 0);
    assert_int_equal(st->ops->sub_delete(st, "webpush", id1, NULL), 1);
    assert_int_equal(st->ops->sub_delete(st, "webpush", id1, NULL), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 1);
    /* by endpoint */
    insert(st, sub("webpush", "https://p.example/1", "u", "s", "K"));
    assert_int_equal(st->ops->sub_delete(st, "webpush", 0, "https://p.example/1"), 1);
    assert_int_equal(st->ops->sub_delete(st, "webpush", 0, "https://p.example/1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 1);
    /* id 0 and no endpoint: the whole channel, not the others */
    insert(st, sub("webpush", "https://p.example/4", "u", "s", "K"));
    assert_int_equal(st->ops->sub_delete(st, "webpush", 0, NULL), 2);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 0);
    assert_int_equal(present(st, "unifiedpush", "https://p.example/3"), 1);
    assert_int_equal(st->ops->sub_delete(st, "unifiedpush", other, NULL), 1);
}

static void test_sub_delete_session_and_count(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct store_sub other_tenant = sub("webpush", "https://p.example/5", "alice", "s1", "K");

    insert(st, sub("webpush", "https://p.example/1", "alice", "s1", "K"));
    insert(st, sub("webpush", "https://p.example/2", "alice", "s1", "K"));
    insert(st, sub("webpush", "https://p.example/3", "alice", "s2", "K"));
    insert(st, sub("webpush", "https://p.example/4", "bob", "s1", "K"));
    other_tenant.tenant = "t2";
    insert(st, other_tenant);
    insert(st, sub("unifiedpush", "https://p.example/6", "alice", "s1", NULL));

    assert_int_equal(st->ops->sub_count_user(st, "webpush", "t", "alice"), 3);
    assert_int_equal(st->ops->sub_count_user(st, "webpush", "t", "bob"), 1);
    assert_int_equal(st->ops->sub_count_user(st, "webpush", "t2", "alice"), 1);
    assert_int_equal(st->ops->sub_count_user(st, "webpush", "t", "nobody"), 0);

    /* exactly (channel, tenant, user, session) */
    assert_int_equal(st->ops->sub_delete_session(st, "webpush", "t", "alice", "s1"), 2);
    assert_int_equal(st->ops->sub_delete_session(st, "webpush", "t", "alice", "s1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/3"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/4"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/5"), 1);
    assert_int_equal(present(st, "unifiedpush", "https://p.example/6"), 1);
    assert_int_equal(st->ops->sub_count_user(st, "webpush", "t", "alice"), 1);
}

static void test_sub_delete_session_any(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct store_sub other_tenant = sub("webpush", "https://p.example/9", "alice", "s1", "K");

    insert(st, sub("webpush", "https://p.example/1", "alice", "s1", "K"));
    insert(st, sub("webpush", "https://p.example/2", "alice", "s2", "K"));
    insert(st, sub("webpush", "https://p.example/3", "bob", "s1", "K"));
    insert(st, sub("webpush", "https://p.example/4", "bob", "s3", "K"));
    insert(st, sub("webpush", "https://p.example/5", "carol", "s4", "K"));
    other_tenant.tenant = "t2";
    insert(st, other_tenant);

    /* a session of any user (a revoked session whose user is not known) */
    assert_int_equal(st->ops->sub_delete_session(st, "webpush", "t", NULL, "s1"), 2);
    assert_int_equal(present(st, "webpush", "https://p.example/1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/3"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/9"), 1);
    /* every session of one user */
    assert_int_equal(st->ops->sub_delete_session(st, "webpush", "t", "bob", NULL), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/4"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/2"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/5"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/9"), 1);
}

static void test_sub_delete_vapid(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;

    insert(st, sub("webpush", "https://p.example/old1", "u", "s", "OLD"));
    insert(st, sub("webpush", "https://p.example/old2", "u", "s", "OLDER"));
    insert(st, sub("webpush", "https://p.example/new", "u", "s", "NEW"));
    insert(st, sub("webpush", "https://p.example/none", "u", "s", NULL));
    insert(st, sub("unifiedpush", "https://p.example/up", "u", "s", "OLD"));

    /* every subscription made with another key goes; those without a key stay */
    assert_int_equal(st->ops->sub_delete_vapid(st, "webpush", "NEW"), 2);
    assert_int_equal(present(st, "webpush", "https://p.example/old1"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/old2"), 0);
    assert_int_equal(present(st, "webpush", "https://p.example/new"), 1);
    assert_int_equal(present(st, "webpush", "https://p.example/none"), 1);
    assert_int_equal(present(st, "unifiedpush", "https://p.example/up"), 1);
    assert_int_equal(st->ops->sub_delete_vapid(st, "webpush", "NEW"), 0);
}

static void test_sub_each(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct seen seen;
    int64_t a = insert(st, sub("webpush", "https://p.example/a", "u", "s", "K"));
    int64_t b = insert(st, sub("webpush", "https://p.example/b", "u", "s", "K"));
    int64_t c;

    insert(st, sub("unifiedpush", "https://p.example/u", "u", "s", NULL));
    c = insert(st, sub("webpush", "https://p.example/c", "u", "s", "K"));
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->sub_each(st, "webpush", see_sub, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.ids[0], a);
    assert_int_equal(seen.ids[1], b);
    assert_int_equal(seen.ids[2], c);
    assert_string_equal(seen.events[2], "https://p.example/c");

    /* a visitor that stops the walk makes it fail */
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 1;
    assert_int_equal(st->ops->sub_each(st, "webpush", see_sub, &seen), -1);
    assert_int_equal(seen.n, 1);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->sub_each(st, "none", see_sub, &seen), 0);
    assert_int_equal(seen.n, 0);
}

static void test_msg_add_each_duplicates(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t s1 = insert(st, sub("webpush", "https://p.example/1", "u", "s", "K"));
    int64_t s2 = insert(st, sub("webpush", "https://p.example/2", "u", "s", "K"));
    int64_t up = insert(st, sub("unifiedpush", "https://p.example/3", "u", "s", NULL));
    struct store_msg batch[4] = {msg(s1, "e1", "first"), msg(s2, "e1", "for s2"),
                                 msg(s1, "e1", "second copy"), msg(up, "e1", "other channel")};
    struct store_msg again[2] = {msg(s1, "e1", "third copy"), msg(s1, "e2", "next")};
    struct seen seen;

    assert_int_equal(st->ops->msg_add(st, NULL, 0), 0);
    assert_int_equal(st->ops->msg_add(st, batch, 4), 0);
    assert_true(batch[0].id > 0);
    assert_true(batch[1].id > batch[0].id);
    assert_int_equal(batch[2].id, 0); /* the same (sub, event) in the same batch */
    assert_true(batch[3].id > batch[1].id);
    assert_int_equal(st->ops->msg_add(st, again, 2), 0);
    assert_int_equal(again[0].id, 0); /* and in a later one */
    assert_true(again[1].id > batch[3].id);

    /* oldest first, the channel's only, the first copy kept */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.ids[0], batch[0].id);
    assert_int_equal(seen.sub_ids[0], s1);
    assert_string_equal(seen.events[0], "e1");
    assert_int_equal(seen.body_len[0], strlen("first"));
    assert_int_equal(seen.ids[1], batch[1].id);
    assert_int_equal(seen.sub_ids[1], s2);
    assert_int_equal(seen.ids[2], again[1].id);
    assert_string_equal(seen.events[2], "e2");
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "unifiedpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], batch[3].id);

    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 2;
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), -1);
    assert_int_equal(seen.n, 2);
}

static void test_msg_add_skips_gone_subscriptions(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t s1 = insert(st, sub("webpush", "https://p.example/1", "u", "s", "K"));
    struct store_msg batch[3] = {msg(s1, "e1", "a"), msg(s1 + 1000, "e3", "no such subscription"),
                                 msg(s1, "e2", "b")};
    struct seen seen;

    /* a subscription removed meanwhile (by another process) gets nothing, the others their
     * rows: one dead subscription must not cost everybody the event */
    assert_int_equal(st->ops->msg_add(st, batch, 3), 0);
    assert_true(batch[0].id > 0);
    assert_int_equal(batch[1].id, 0);
    assert_true(batch[2].id > batch[0].id);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 2);
    /* and the store is usable afterwards (no transaction left open) */
    batch[0] = msg(s1, "e4", "c");
    assert_int_equal(st->ops->msg_add(st, batch, 1), 0);
    assert_true(batch[0].id > batch[2].id);
}

static void test_msg_retry_delete(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t s1 = insert(st, sub("webpush", "https://p.example/1", "u", "s", "K"));
    struct store_msg batch[2] = {msg(s1, "e1", "a"), msg(s1, "e2", "b")};
    struct seen seen;

    assert_int_equal(st->ops->msg_add(st, batch, 2), 0);
    assert_int_equal(st->ops->msg_retry(st, batch[0].id, 3, 1700000009000), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.attempts[0], 3);
    assert_int_equal(seen.due_ms[0], 1700000009000);
    assert_int_equal(seen.attempts[1], 0);
    /* a retry does not change the order: it is the order of arrival */
    assert_int_equal(seen.ids[0], batch[0].id);

    assert_int_equal(st->ops->msg_delete(st, batch[0].id), 0);
    assert_int_equal(st->ops->msg_delete(st, batch[0].id), 0); /* already gone: no error */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.ids[0], batch[1].id);
    /* a deleted message's (sub, event) may be added again */
    assert_int_equal(st->ops->msg_add(st, batch, 1), 0);
    assert_true(batch[0].id > batch[1].id);
}

static int count_msgs(struct store *st, const char *channel)
{
    struct seen seen;

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, channel, see_msg, &seen), 0);
    return seen.n;
}

static void test_cascade(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t a = insert(st, sub("webpush", "https://p.example/a", "alice", "s1", "OLD"));
    int64_t b = insert(st, sub("webpush", "https://p.example/b", "bob", "s1", "NEW"));
    int64_t c = insert(st, sub("webpush", "https://p.example/c", "carol", "s1", "NEW"));
    int64_t d = insert(st, sub("webpush", "https://p.example/d", "dave", "s1", "NEW"));
    struct store_msg batch[8] = {msg(a, "e1", "x"), msg(a, "e2", "x"), msg(b, "e1", "x"),
                                 msg(b, "e2", "x"), msg(c, "e1", "x"), msg(c, "e2", "x"),
                                 msg(d, "e1", "x"), msg(d, "e2", "x")};
    struct seen seen;

    assert_int_equal(st->ops->msg_add(st, batch, 8), 0);
    assert_int_equal(count_msgs(st, "webpush"), 8);
    /* each way of deleting a subscription takes its messages with it */
    assert_int_equal(st->ops->sub_delete_vapid(st, "webpush", "NEW"), 1);
    assert_int_equal(count_msgs(st, "webpush"), 6);
    assert_int_equal(st->ops->sub_delete(st, "webpush", b, NULL), 1);
    assert_int_equal(count_msgs(st, "webpush"), 4);
    assert_int_equal(st->ops->sub_delete_session(st, "webpush", "t", "carol", "s1"), 1);
    assert_int_equal(count_msgs(st, "webpush"), 2);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->msg_each(st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.sub_ids[0], d);
    assert_int_equal(seen.sub_ids[1], d);
    assert_int_equal(st->ops->sub_delete(st, "webpush", 0, "https://p.example/d"), 1);
    assert_int_equal(count_msgs(st, "webpush"), 0);

    /* a new subscription never sees the messages of a deleted one, even with its endpoint */
    insert(st, sub("webpush", "https://p.example/a", "alice", "s1", "NEW"));
    assert_int_equal(count_msgs(st, "webpush"), 0);
}

/* The Web Push channel keeps queued messages by subscription id in memory (webpush_int.h
 * struct wp_msg.sub_id) after the store dropped the subscription: an id given again to a new
 * subscription would send it the old one's messages. */
static void test_sub_ids_not_reused(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    int64_t a = insert(st, sub("webpush", "https://p.example/a", "alice", "s1", "K"));
    int64_t b = insert(st, sub("webpush", "https://p.example/b", "bob", "s1", "K"));
    int64_t c;

    assert_int_equal(st->ops->sub_delete(st, "webpush", b, NULL), 1);
    c = insert(st, sub("webpush", "https://p.example/c", "carol", "s1", "K"));
    assert_true(c > a);
    if (c == b)
        fail_msg("the id %lld of a deleted subscription was given to a new one", (long long)b);
}

static void test_reopen_keeps_rows(void **state)
{
    struct store_fx *f = *state;
    static const unsigned char bin[] = {0x00, 0xff, 0x00, '{', 0x80, 0x00};
    struct store_msg m[2];
    struct store_sub out;
    struct seen seen;
    int64_t s1 = insert(f->st, sub("webpush", "https://p.example/1", "alice", "s1", "K"));

    m[0] = msg(s1, "e1", "");
    m[0].body = (unsigned char *)bin;
    m[0].body_len = sizeof(bin);
    m[1] = msg(s1, "e2", "{\"id\":\"e2\"}");
    assert_int_equal(f->st->ops->msg_add(f->st, m, 2), 0);
    assert_int_equal(f->st->ops->msg_retry(f->st, m[1].id, 2, 1700000005000), 0);
    store_fx_reopen(f);
    assert_int_equal(f->st->ops->sub_get(f->st, "webpush", "https://p.example/1", &out), 1);
    assert_int_equal(out.id, s1);
    assert_string_equal(out.user, "alice");
    assert_string_equal(out.vapid_key, "K");
    assert_int_equal(out.has_keys, 1);
    store_sub_clear(&out);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(f->st->ops->msg_each(f->st, "webpush", see_msg, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.ids[0], m[0].id);
    assert_int_equal(seen.body_len[0], sizeof(bin)); /* binary, NULs included */
    assert_int_equal(seen.first_body_byte[0], 0x00);
    assert_int_equal(seen.ids[1], m[1].id);
    assert_int_equal(seen.attempts[1], 2);
    assert_int_equal(seen.due_ms[1], 1700000005000);
    /* ids keep growing after a reopen: the order of arrival stays the order of ids */
    m[0] = msg(s1, "e3", "later");
    assert_int_equal(f->st->ops->msg_add(f->st, m, 1), 0);
    assert_true(m[0].id > m[1].id);
}

/* Every case on SQLite in memory and in a file, and on PostgreSQL. */
#define CASES(on)                                                                                  \
    on(test_sub_insert_get_conflict), on(test_sub_optional_fields),                                \
        on(test_sub_delete_by_id_endpoint_all), on(test_sub_delete_session_and_count),             \
        on(test_sub_delete_session_any), on(test_sub_delete_vapid), on(test_sub_each),             \
        on(test_msg_add_each_duplicates), on(test_msg_add_skips_gone_subscriptions),               \
        on(test_msg_retry_delete), on(test_cascade), on(test_sub_ids_not_reused)
#define ON_SQLITE(fn)                                                                              \
    STORE_FX_CASE(fn, store_fx_sqlite_memory), STORE_FX_CASE(fn, store_fx_sqlite_file)
#define ON_PG(fn) STORE_FX_CASE(fn, store_fx_pg)

int main(void)
{
    const struct CMUnitTest sqlite[] = {
        CASES(ON_SQLITE),
        STORE_FX_CASE(test_reopen_keeps_rows, store_fx_sqlite_file),
    };
    const struct CMUnitTest pg[] = {
        CASES(ON_PG),
        STORE_FX_CASE(test_reopen_keeps_rows, store_fx_pg),
    };

    return STORE_FX_RUN(sqlite, pg);
}
