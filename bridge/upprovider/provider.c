/*
 * The UnifiedPush provider's state: its timer (message expiry, SSE heartbeats), the per-endpoint
 * token buckets and the topic its messages are published on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "topic.h"
#include "upprovider/provider_int.h"

/* Expired messages are deleted this often: max_age_s is at least a minute. */
#define EXPIRE_EVERY_MS 10000
#define TICK_MS 1000
/* A bucket that has been full this long is forgotten (it would be full again anyway). */
#define BUCKET_IDLE_MS 600000

int64_t upp__wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int upp__topic(char *buf, size_t cap, const char *tenant, const char *owner, const char *id)
{
    int n = snprintf(buf, cap, "%s/" MQP_UNIFIEDPUSH_LEVEL "/%s/%s", tenant, owner, id);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static const struct bridge_up_provider *settings(const struct up_provider *p)
{
    return &p->b->cfg->unifiedpush.provider;
}

unsigned upp__rate_take(struct up_provider *p, const char *id)
{
    const struct bridge_up_provider *set = settings(p);
    double per_ms = set->rate_per_min / 60000.0, cap = set->burst;
    uint64_t now = bridge_now_ms(p->b);
    struct upp_bucket *k = NULL;

    HASH_FIND_STR(p->buckets, id, k);
    if (k == NULL) {
        k = calloc(1, sizeof(*k));
        /* Out of memory the request is let through: the limit protects distributors, and
         * refusing would lose a message for a reason the sender cannot act on. */
        if (k == NULL)
            return 0;
        snprintf(k->id, sizeof(k->id), "%s", id);
        k->tokens = cap;
        k->at_ms = now;
        HASH_ADD_STR(p->buckets, id, k);
    }
    k->tokens += (double)(now - k->at_ms) * per_ms;
    if (k->tokens > cap)
        k->tokens = cap;
    k->at_ms = now;
    if (k->tokens >= 1.0) {
        k->tokens -= 1.0;
        return 0;
    }
    /* Whole seconds until one token is back, rounded up, at least 1 (RFC 9110 10.2.3:
     * delay-seconds). */
    {
        double s = (1.0 - k->tokens) / per_ms / 1000.0;
        unsigned whole = (unsigned)s;

        return whole < s || whole == 0 ? whole + 1 : whole;
    }
}

void upp__rate_forget(struct up_provider *p, const char *id)
{
    struct upp_bucket *k = NULL;

    HASH_FIND_STR(p->buckets, id, k);
    if (k) {
        HASH_DEL(p->buckets, k);
        free(k);
    }
}

static void prune_buckets(struct up_provider *p, uint64_t now)
{
    const struct bridge_up_provider *set = settings(p);
    double per_ms = set->rate_per_min / 60000.0;
    struct upp_bucket *k, *tmp;

    HASH_ITER(hh, p->buckets, k, tmp)
    {
        double full_at = (double)k->at_ms + (set->burst - k->tokens) / per_ms;

        if ((double)now > full_at + BUCKET_IDLE_MS) {
            HASH_DEL(p->buckets, k);
            free(k);
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    struct up_provider *p = t->data;
    struct store *st = p->b->store;
    uint64_t now = bridge_now_ms(p->b);

    if (now - p->last_expire_ms >= EXPIRE_EVERY_MS && st) {
        int n = st->ops->up_msg_expire(st, upp__wall_ms() - (int64_t)settings(p)->max_age_s * 1000);

        p->last_expire_ms = now;
        if (n < 0)
            fprintf(stderr, "mqpush-bridge: unifiedpush provider: cannot expire messages\n");
        prune_buckets(p, now);
    }
    upp__sse_tick(p, now);
}

int up_provider_start(struct bridge *b)
{
    struct up_provider *p;

    if (!b->cfg->unifiedpush.provider.enabled)
        return 0;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->b = b;
    if (uv_timer_init(b->loop, &p->timer) != 0) {
        free(p);
        return -1;
    }
    p->timer_open = true;
    p->timer.data = p;
    uv_timer_start(&p->timer, on_tick, TICK_MS, TICK_MS);
    b->up_provider = p;
    return 0;
}

void up_provider_set_wake(struct bridge *b, up_provider_wake_fn fn, void *ud)
{
    struct up_provider *p = b->up_provider;

    if (p == NULL)
        return;
    p->wake = fn;
    p->wake_ud = fn ? ud : NULL;
}

void up_provider_close(struct bridge *b)
{
    struct up_provider *p = b->up_provider;

    if (p == NULL || !p->timer_open)
        return;
    p->timer_open = false;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, NULL);
}

void up_provider_free(struct bridge *b)
{
    struct up_provider *p = b->up_provider;
    struct upp_bucket *k, *tmp;

    if (p == NULL)
        return;
    HASH_ITER(hh, p->buckets, k, tmp)
    {
        HASH_DEL(p->buckets, k);
        free(k);
    }
    free(p);
    b->up_provider = NULL;
}
