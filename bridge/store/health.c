/*
 * The store's health: see health.h.
 */
#include "store/health.h"

#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "store/store.h"

void store_health_failed(struct bridge *b, const char *why)
{
    struct store_health *h = &b->store_health;

    snprintf(h->why, sizeof(h->why), "%s", why);
    if (h->failing)
        return;
    h->failing = true;
    h->failures++;
    fprintf(stderr,
            "mqpush-bridge: store: failing (%s); events that cannot be kept stay "
            "unacknowledged at the broker\n",
            why);
}

void store_health_ok(struct bridge *b)
{
    struct store_health *h = &b->store_health;

    if (!h->failing)
        return;
    h->failing = false;
    h->why[0] = '\0';
    fprintf(stderr, "mqpush-bridge: store: writable again\n");
}

static void on_probe(uv_timer_t *t)
{
    struct bridge *b = t->data;
    int64_t now = (int64_t)bridge_now_ms(b);

    if (b->store == NULL)
        return;
    /* A value that changes, so that the write really reaches the disk's pages. */
    if (b->store->ops->kv_put(b->store, "mqpush", "probe", &now, sizeof(now)) == 0)
        store_health_ok(b);
    else
        store_health_failed(b, "the periodic test write failed");
}

int store_health_start(struct bridge *b)
{
    struct store_health *h = &b->store_health;

    if (uv_timer_init(b->loop, &h->probe) != 0)
        return -1;
    h->probe.data = b;
    h->probe_open = true;
    uv_timer_start(&h->probe, on_probe, STORE_HEALTH_PROBE_MS, STORE_HEALTH_PROBE_MS);
    return 0;
}

void store_health_close(struct bridge *b)
{
    struct store_health *h = &b->store_health;

    if (!h->probe_open)
        return;
    h->probe_open = false;
    uv_timer_stop(&h->probe);
    uv_close((uv_handle_t *)&h->probe, NULL);
}
