/*
 * Taking over a stopped bridge's broker session: see cluster_drain.h.
 */
#include "cluster_drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "broker/link.h"
#include "config.h"
#include "ssf/delivery.h"
#include "webpush/webpush.h"

enum phase { IDLE, DRAINING, LEAVING, CLOSING };

static struct {
    struct bridge *b;
    struct mqlink *l;
    char node[64];
    enum phase phase;
    uv_timer_t timer;
    bool timer_open;
    uint64_t started_ms, last_ms;
    unsigned long taken;
    char **filters;
    size_t n_filters;
} dr;

static void add_filter(const char *tenant, const char *stream)
{
    char **f = realloc(dr.filters, (dr.n_filters + 1) * sizeof(*f));

    if (f == NULL)
        return;
    dr.filters = f;
    f[dr.n_filters] = bridge_durable_filter(dr.b, tenant, stream);
    if (f[dr.n_filters])
        dr.n_filters++;
}

/* The shared filters the dead bridge held: the same configuration as ours. */
static void collect_filters(void)
{
    const struct bridge_config *c = dr.b->cfg;
    size_t i;

    for (i = 0; c->webpush.enabled && i < c->webpush.n_streams; i++)
        add_filter(c->webpush.streams[i].tenant, c->webpush.streams[i].stream);
    for (i = 0; c->unifiedpush.enabled && i < c->unifiedpush.n_streams; i++)
        add_filter(c->unifiedpush.streams[i].tenant, c->unifiedpush.streams[i].stream);
    for (i = 0; i < c->ssf.tx.n_streams; i++)
        add_filter(c->ssf.tx.streams[i].tenant, c->ssf.tx.streams[i].stream);
}

static int on_message(void *ud, const char *topic, const void *payload, size_t len, unsigned via)
{
    struct bridge *b = ud;
    int rc = 0;

    (void)len;
    dr.last_ms = bridge_now_ms(b);
    /* Only the group's share is ours to deliver; the dead bridge's own clients are gone. */
    if (via == 0 || (via & MQLINK_VIA_SHARED)) {
        if (webpush_on_message(b, topic, payload, len) < 0 ||
            ssf_delivery_on_message(b, topic, payload, len) < 0)
            rc = -1;
        else
            dr.taken++;
    }
    return rc;
}

static void finish(const char *how);

static void on_state(void *ud, bool up)
{
    struct bridge *b = ud;

    if (up) {
        dr.last_ms = bridge_now_ms(b);
        fprintf(stderr, "mqpush-bridge: cluster: draining the broker session of %s\n", dr.node);
    } else if (dr.phase == DRAINING || dr.phase == LEAVING) {
        /* Most likely its bridge came back and took its session over (reason 0x8e): it is
         * that bridge's again; a broker restart keeps it for that bridge too. */
        finish("left to its bridge (connection ended)");
    }
}

static const struct mqlink_ops ops = {on_message, on_state, NULL};

static char *token(void *ud)
{
    struct bridge *b = ud;
    char err[256], *tok = NULL;

    if (bridge_config_read_token(b->cfg, &tok, err, sizeof(err)) != 0)
        return NULL;
    return tok;
}

static void free_filters(void)
{
    for (size_t i = 0; i < dr.n_filters; i++)
        free(dr.filters[i]);
    free(dr.filters);
    dr.filters = NULL;
    dr.n_filters = 0;
}

static void on_link_stopped(void *arg)
{
    (void)arg;
    mqlink_free(dr.l);
    dr.l = NULL;
    free_filters();
    dr.phase = IDLE;
}

static void finish(const char *how)
{
    fprintf(stderr, "mqpush-bridge: cluster: broker session of %s %s (%lu events taken)\n", dr.node,
            how, dr.taken);
    dr.phase = CLOSING;
    uv_timer_stop(&dr.timer);
    mqlink_stop(dr.l, on_link_stopped, NULL);
}

static void on_timer(uv_timer_t *t)
{
    struct bridge *b = t->data;
    uint64_t now = bridge_now_ms(b);

    if (dr.phase == IDLE || dr.phase == CLOSING)
        return;
    if (now - dr.started_ms > DRAIN_MAX_MS) {
        finish("not drained in time, left for its bridge");
        return;
    }
    if (!mqlink_is_up(dr.l) || now - dr.last_ms < DRAIN_QUIET_MS)
        return;
    if (dr.phase == DRAINING) {
        /* Leave the group: the broker handles our packets in order, so what it gave this member
         * before the UNSUBSCRIBE arrives before the quiet time ends. */
        for (size_t i = 0; i < dr.n_filters; i++)
            mqlink_unsubscribe(dr.l, dr.filters[i]);
        dr.phase = LEAVING;
        dr.last_ms = now;
        return;
    }
    finish("taken over");
}

int cluster_drain_start(struct bridge *b, const char *node)
{
    struct mqlink_params p = {0};

    if (dr.phase != IDLE)
        return 0;
    memset(&dr.node, 0, sizeof(dr.node));
    snprintf(dr.node, sizeof(dr.node), "%s", node);
    dr.b = b;
    dr.taken = 0;
    p.host = b->cfg->broker_host;
    p.port = b->cfg->broker_port;
    p.client_id = node;
    p.keepalive_s = b->cfg->broker_keepalive_s;
    /* The session ends a second after this connection does (MQTT 5 3.1.2.11.2). */
    p.session_expiry_s = 1;
    p.get_token = token;
    p.backoff_min_ms = 250;
    p.backoff_max_ms = 2000;
    if (mqlink_new(b->loop, &p, &ops, b, &dr.l) != 0)
        goto fail;
    collect_filters();
    /* Held (and so unsubscribed at the end) without a SUBSCRIBE while the session has them:
     * mqlink subscribes only on connect, which replaces the same subscriptions (3.8.4). */
    for (size_t i = 0; i < dr.n_filters; i++)
        mqlink_subscribe(dr.l, dr.filters[i]);
    if (!dr.timer_open) {
        uv_timer_init(b->loop, &dr.timer);
        dr.timer.data = b;
        dr.timer_open = true;
    }
    dr.phase = DRAINING;
    dr.started_ms = dr.last_ms = bridge_now_ms(b);
    uv_timer_start(&dr.timer, on_timer, 250, 250);
    if (mqlink_start(dr.l) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "mqpush-bridge: cluster: cannot drain the broker session of %s\n", node);
    if (dr.l && dr.phase == DRAINING) {
        finish("not drained");
        return -1;
    }
    mqlink_free(dr.l);
    dr.l = NULL;
    free_filters();
    dr.phase = IDLE;
    return -1;
}

bool cluster_drain_running(void)
{
    return dr.phase != IDLE;
}

void cluster_drain_stop(struct bridge *b)
{
    (void)b;
    if (dr.phase == DRAINING || dr.phase == LEAVING)
        finish("left (the bridge is stopping)");
    if (dr.timer_open) {
        dr.timer_open = false;
        uv_timer_stop(&dr.timer);
        uv_close((uv_handle_t *)&dr.timer, NULL);
    }
}
