/*
 * Unit tests of the spool of events whose copies may not be routed at a stop
 * (plugin/spool.c): what a tick has passed twice is gone, the rest is written and replayed
 * oldest first, bytes intact, and the file removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

struct seen {
    char log[256];
    int n;
};

static void fan(void *ctx, const char *topic, const void *payload, size_t len, int qos)
{
    struct seen *s = ctx;
    size_t at = strlen(s->log);

    snprintf(s->log + at, sizeof(s->log) - at, "%s=%.*s/%d;", topic, (int)len,
             (const char *)payload, qos);
    s->n++;
}

static void test_spool(void **state)
{
    struct mqp_spool sp = {0};
    struct seen seen = {0};
    char dir[] = "/tmp/mqp-spool-XXXXXX", path[64];
    static const unsigned char bin[] = {'b', 0, 0xff, 'x'};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pending", dir);
    assert_int_equal(mqp_spool_add(&sp, "t/events/a/old", "0", 1, 1), 0);
    mqp_spool_tick(&sp);
    mqp_spool_tick(&sp); /* two ticks: routed, gone */
    assert_int_equal(mqp_spool_add(&sp, "t/events/a/one", "1", 1, 1), 0);
    assert_int_equal(mqp_spool_add(&sp, "t/events/a/two", "2", 1, 0), 0);
    mqp_spool_tick(&sp); /* one tick: still pending */
    assert_int_equal(mqp_spool_add(&sp, "t/events/a/three", bin, sizeof(bin), 1), 0);
    assert_int_equal(mqp_spool_save(&sp, path), 0);
    assert_int_equal(access(path, F_OK), 0);
    mqp_spool_clear(&sp);

    assert_int_equal(mqp_spool_replay(path, fan, &seen), 3);
    assert_int_equal(seen.n, 3);
    assert_memory_equal(seen.log, "t/events/a/one=1/1;t/events/a/two=2/0;t/events/a/three=b",
                        strlen("t/events/a/one=1/1;t/events/a/two=2/0;t/events/a/three=b"));
    assert_int_equal(access(path, F_OK), -1); /* removed once replayed */
    assert_int_equal(mqp_spool_replay(path, fan, &seen), 0);

    /* nothing pending: saving removes a file left over */
    assert_int_equal(mqp_spool_save(&sp, path), 0);
    assert_int_equal(access(path, F_OK), -1);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spool),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
