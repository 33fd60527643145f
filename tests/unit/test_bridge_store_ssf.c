/*
 * The store's SSF transmitter streams, subjects, verification requests and SET outbox
 * (store.h ssf_*), on a SQLite file and on PostgreSQL (store_fx.h): streams per tenant, a
 * replace that keeps another tenant's stream apart, what goes with a deleted stream, the
 * outbox's duplicates, order, retries and its all-or-nothing batches, across a reopen.
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

static struct store_ssf_stream stream(const char *id, const char *tenant, int64_t at)
{
    struct store_ssf_stream s = {
        .id = (char *)id,
        .tenant = (char *)tenant,
        .aud = "https://rx.example",
        .config = "{\"delivery\":{\"method\":\"urn:ietf:rfc:8936\"}}",
        .status = "enabled",
        .created_at = at,
        .updated_at = at,
    };

    return s;
}

static void put(struct store *st, struct store_ssf_stream s)
{
    assert_int_equal(st->ops->ssf_stream_put(st, &s), 0);
}

struct seen {
    int n;
    char ids[16][48];
    int64_t row_ids[16];
    int attempts[16];
    int64_t due_ms[16];
};

static int see_stream(void *ctx, const struct store_ssf_stream *s)
{
    struct seen *x = ctx;

    assert_true(x->n < 16);
    snprintf(x->ids[x->n++], sizeof(x->ids[0]), "%s", s->id);
    return 0;
}

static int see_out(void *ctx, const struct store_ssf_out *o)
{
    struct seen *x = ctx;

    assert_true(x->n < 16);
    snprintf(x->ids[x->n], sizeof(x->ids[0]), "%s/%s", o->stream_id, o->jti);
    x->row_ids[x->n] = o->id;
    x->attempts[x->n] = o->attempts;
    x->due_ms[x->n] = o->due_ms;
    x->n++;
    return 0;
}

static int count_out(struct store *st)
{
    struct seen x = {0};

    assert_int_equal(st->ops->ssf_out_each(st, see_out, &x), 0);
    return x.n;
}

static struct store_ssf_out set(const char *stream_id, const char *jti, int64_t at)
{
    struct store_ssf_out o = {
        .stream_id = (char *)stream_id,
        .jti = (char *)jti,
        .claims = "{\"iss\":\"https://tx.example\"}",
        .created_ms = at,
        .due_ms = at,
    };

    return o;
}

static void test_streams(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    struct store_ssf_stream s = stream("s1", "t", 100), got;
    struct seen x = {0};

    put(st, s);
    put(st, stream("s0", "t", 90));
    put(st, stream("s2", "t", 100));
    put(st, stream("u1", "u", 50));
    assert_int_equal(st->ops->ssf_stream_get(st, "t", "s1", &got), 1);
    assert_string_equal(got.aud, "https://rx.example");
    assert_string_equal(got.status, "enabled");
    assert_null(got.reason);
    assert_int_equal(got.created_at, 100);
    store_ssf_stream_clear(&got);
    assert_int_equal(st->ops->ssf_stream_get(st, "u", "s1", &got), 0); /* another tenant's */
    assert_null(got.id);

    /* replace: status, reason and config change, the creation time stays */
    s.status = "paused";
    s.reason = "receiver asked";
    s.config = "{}";
    s.created_at = 999;
    s.updated_at = 200;
    put(st, s);
    assert_int_equal(st->ops->ssf_stream_get(st, "t", "s1", &got), 1);
    assert_string_equal(got.status, "paused");
    assert_string_equal(got.reason, "receiver asked");
    assert_string_equal(got.config, "{}");
    assert_int_equal(got.created_at, 100);
    assert_int_equal(got.updated_at, 200);
    store_ssf_stream_clear(&got);
    /* the same id from another tenant leaves the stream as it is */
    s = stream("s1", "u", 300);
    s.aud = "https://mallory.example";
    put(st, s);
    assert_int_equal(st->ops->ssf_stream_get(st, "t", "s1", &got), 1);
    assert_string_equal(got.aud, "https://rx.example");
    store_ssf_stream_clear(&got);
    assert_int_equal(st->ops->ssf_stream_get(st, "u", "s1", &got), 0);

    /* oldest first, then by id */
    assert_int_equal(st->ops->ssf_stream_each(st, "t", see_stream, &x), 0);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.ids[0], "s0");
    assert_string_equal(x.ids[1], "s1");
    assert_string_equal(x.ids[2], "s2");
    memset(&x, 0, sizeof(x));
    assert_int_equal(st->ops->ssf_stream_each(st, "nobody", see_stream, &x), 0);
    assert_int_equal(x.n, 0);

    assert_int_equal(st->ops->ssf_stream_delete(st, "u", "s1"), 0);
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 1);
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 0);
}

static void test_subjects_and_verification(void **state)
{
    struct store *st = ((struct store_fx *)*state)->st;
    const char *a = "{\"format\":\"opaque\",\"id\":\"a\"}";
    const char *b = "{\"format\":\"email\",\"email\":\"b@example.com\"}";

    put(st, stream("s1", "t", 100));
    put(st, stream("s2", "t", 100));
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", a, 1), 0);
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", a, 0), 0); /* again: no second row */
    assert_int_equal(st->ops->ssf_subject_add(st, "s1", b, -1), 0);
    assert_int_equal(st->ops->ssf_subject_add(st, "s2", a, -1), 0);
    assert_int_equal(st->ops->ssf_subject_count(st, "s1"), 2);
    assert_int_equal(st->ops->ssf_subject_has(st, "s1", a), 1);
    assert_int_equal(st->ops->ssf_subject_has(st, "s1", "{\"id\":\"a\"}"), 0);
    assert_int_equal(st->ops->ssf_subject_remove(st, "s1", "{\"id\":\"a\"}"), 0);
    assert_int_equal(st->ops->ssf_subject_remove(st, "s1", a), 1);
    assert_int_equal(st->ops->ssf_subject_has(st, "s1", a), 0);
    assert_int_equal(st->ops->ssf_subject_has(st, "s2", a), 1);
    assert_int_equal(st->ops->ssf_verify_add(st, "s1", "st-1", 1000), 0);
    assert_int_equal(st->ops->ssf_verify_add(st, "s1", NULL, 1001), 0);
    assert_int_equal(st->ops->ssf_verify_count(st, "s1"), 2);
    assert_int_equal(st->ops->ssf_verify_count(st, "s2"), 0);
    /* both refer to a stream that must exist */
    assert_int_equal(st->ops->ssf_subject_add(st, "nope", a, 1), -1);
    assert_int_equal(st->ops->ssf_verify_add(st, "nope", NULL, 1), -1);

    /* a stream takes its subjects and verification requests with it */
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 1);
    assert_int_equal(st->ops->ssf_subject_count(st, "s1"), 0);
    assert_int_equal(st->ops->ssf_verify_count(st, "s1"), 0);
    assert_int_equal(st->ops->ssf_subject_count(st, "s2"), 1);
}

static void test_outbox(void **state)
{
    struct store_fx *f = *state;
    struct store *st = f->st;
    struct store_ssf_out rows[4] = {set("s1", "j1", 10), set("s2", "j1", 10), set("s1", "j1", 11),
                                    set("s1", "j2", 12)};
    struct store_ssf_out bad[2] = {set("s1", "j3", 20), set("nope", "j3", 20)};
    struct seen x = {0};

    put(st, stream("s1", "t", 100));
    put(st, stream("s2", "t", 100));
    assert_int_equal(st->ops->ssf_out_add(st, NULL, 0), 0);
    assert_int_equal(st->ops->ssf_out_add(st, rows, 4), 0);
    assert_true(rows[0].id > 0);
    assert_true(rows[1].id > rows[0].id);
    assert_int_equal(rows[2].id, 0); /* the same (stream, jti) in the same batch */
    assert_true(rows[3].id > rows[1].id);
    rows[0] = set("s1", "j1", 13);
    assert_int_equal(st->ops->ssf_out_add(st, rows, 1), 0);
    assert_int_equal(rows[0].id, 0); /* and in a later one */

    /* a batch with a row for a stream that is gone adds nothing */
    assert_int_equal(st->ops->ssf_out_add(st, bad, 2), -1);
    assert_int_equal(bad[0].id, 0);
    assert_int_equal(bad[1].id, 0);
    assert_int_equal(count_out(st), 3);

    assert_int_equal(st->ops->ssf_out_retry(st, rows[1].id, 2, 5000), 0);
    store_fx_reopen(f);
    st = f->st;
    assert_int_equal(st->ops->ssf_out_each(st, see_out, &x), 0);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.ids[0], "s1/j1");
    assert_string_equal(x.ids[1], "s2/j1");
    assert_string_equal(x.ids[2], "s1/j2");
    assert_int_equal(x.row_ids[1], rows[1].id);
    assert_int_equal(x.attempts[1], 2);
    assert_int_equal(x.due_ms[1], 5000);
    assert_int_equal(x.attempts[0], 0);

    assert_int_equal(st->ops->ssf_out_delete_jti(st, "s2", "j1"), 1);
    assert_int_equal(st->ops->ssf_out_delete_jti(st, "s2", "j1"), 0);
    assert_int_equal(st->ops->ssf_out_delete(st, rows[3].id), 0);
    assert_int_equal(st->ops->ssf_out_delete(st, rows[3].id), 0); /* already gone: no error */
    assert_int_equal(count_out(st), 1);
    /* a deleted SET's (stream, jti) may come again, with a higher id */
    rows[0] = set("s1", "j2", 14);
    assert_int_equal(st->ops->ssf_out_add(st, rows, 1), 0);
    assert_true(rows[0].id > rows[3].id);
    /* SETs go with their stream */
    assert_int_equal(st->ops->ssf_stream_delete(st, "t", "s1"), 1);
    assert_int_equal(count_out(st), 0);
}

#define CASES(kind)                                                                                \
    STORE_FX_CASE(test_streams, kind), STORE_FX_CASE(test_subjects_and_verification, kind),        \
        STORE_FX_CASE(test_outbox, kind)

int main(void)
{
    const struct CMUnitTest sqlite[] = {CASES(store_fx_sqlite_file)};
    const struct CMUnitTest pg[] = {CASES(store_fx_pg)};

    return STORE_FX_RUN(sqlite, pg);
}
