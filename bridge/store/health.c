/*
 * The store's health: see health.h.
 */
#include "store/health.h"

#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "broker/link.h"

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
    /* The link may be waiting out a backoff grown over events it could not keep: fetch them
     * now rather than after up to broker backoff_max_ms. */
    if (b->link)
        mqlink_retry_now(b->link);
}
