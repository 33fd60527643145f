/*
 * The bridge among others on one store: see cluster.h.
 */
#include "cluster.h"

#include <stdio.h>
#include <time.h>

#include "bridge.h"
#include "cluster_drain.h"
#include "ssf/delivery.h"
#include "store/health.h"
#include "webpush/webpush.h"

static uv_timer_t timer;
static bool timer_open;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick(struct bridge *b)
{
    struct store *st = b->store;

    if (st == NULL || b->stopping)
        return;
    /* Wall time: the beats of bridges on other machines are compared with it. */
    if (st->ops->node_beat(st, st->node, wall_ms(), CLUSTER_ALIVE_MS) != 0) {
        store_health_failed(b, "the bridge's beat could not be written");
        return;
    }
    store_health_ok(b);
    if (webpush_adopt(b) != 0 || ssf_delivery_adopt(b) != 0) {
        store_health_failed(b, "the deliveries of a stopped bridge could not be taken over");
        return;
    }
    /* What the broker queued for a stopped bridge's share of the group waits in its session:
     * one bridge takes that over too. */
    if (b->cfg->broker_share_group && !cluster_drain_running()) {
        char node[64];

        if (st->ops->node_claim_dead(st, wall_ms(), node, sizeof(node)) == 1)
            cluster_drain_start(b, node);
    }
}

static void on_timer(uv_timer_t *t)
{
    tick(t->data);
}

int cluster_start(struct bridge *b)
{
    if (uv_timer_init(b->loop, &timer) != 0)
        return -1;
    timer.data = b;
    timer_open = true;
    tick(b);
    uv_timer_start(&timer, on_timer, CLUSTER_BEAT_MS, CLUSTER_BEAT_MS);
    return 0;
}

void cluster_close(struct bridge *b)
{
    cluster_drain_stop(b);
    if (!timer_open)
        return;
    timer_open = false;
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
}
