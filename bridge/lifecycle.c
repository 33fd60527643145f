/*
 * Start-up, reload and orderly shutdown of mqpush-bridge.
 */
#include "lifecycle.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "broker/link.h"
#include "cluster.h"
#include "store/health.h"
#include "config.h"
#include "core/config.h"
#include "http/server.h"
#include "net/curl_loop.h"
#include "net/guard.h"
#include "socketio/sio_stream.h"
#include "sse/session.h"
#include "ssf/delivery.h"
#include "ssf/receiver.h"
#include "ssf/transmitter.h"
#include "upprovider/provider.h"
#include "webpush/webpush.h"

/* How long SIGTERM waits for streams to end before leaving the broker anyway. */
#define DRAIN_MS 2000
#define FANOUT_SESSION_EXPIRY_S 300

struct lifecycle {
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_timer_t drain;
    uint64_t drain_started;
    int links_running; /* broker links still stopping */
};

static struct lifecycle lc;

uint64_t bridge_now_ms(const struct bridge *b)
{
    return uv_now(b->loop);
}

static void log_errors(const char *what, const struct mqp_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->n; i++)
        fprintf(stderr, "mqpush-bridge: %s: %s\n", what, errs->msgs[i]);
}

char *bridge_durable_filter(const struct bridge *b, const char *tenant, const char *stream)
{
    const char *g = b->cfg->broker_share_group;
    size_t n = strlen(tenant) + strlen(stream) + (g ? strlen(g) + 8 : 0) + 4;
    char *f = malloc(n);

    if (f && g)
        snprintf(f, n, "$share/%s/%s/%s/#", g, tenant, stream);
    else if (f)
        snprintf(f, n, "%s/%s/#", tenant, stream);
    return f;
}

/*
 * A message from the broker. Through a plain subscription it goes to the hub (SSE, WebSocket,
 * socket.io on every bridge); the outbound push channels take it through their shared
 * subscription when broker.share_group is set (one bridge of the group), else through the
 * plain one. They keep it in their outboxes before this returns 0, which acknowledges it; -1
 * leaves it unacknowledged for the broker to deliver again.
 */
static int dispatch(struct bridge *b, struct mqlink *from, const char *topic, const void *payload,
                    size_t len, unsigned via)
{
    const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    bool shared = b->cfg->broker_share_group != NULL;
    bool plain = via == 0 || (via & MQLINK_VIA_PLAIN);
    bool durable = via == 0 || (via & MQLINK_VIA_SHARED) || (!shared && plain);
    int unknown = plain ? hub_on_message(b->hub, topic, payload, len) : 1, r, rc = 0;
    int durable_unknown = 1;

    if (durable) {
        /* Web Push and UnifiedPush hold their streams' subscriptions for the bridge's life. */
        r = webpush_on_message(b, topic, payload, len);
        if (r <= 0)
            durable_unknown = 0;
        if (r < 0)
            rc = -1;
        /* So does the SSF transmitter: its SETs are in the outbox before the acknowledgement. */
        r = ssf_delivery_on_message(b, topic, payload, len);
        if (r <= 0)
            durable_unknown = 0;
        if (r < 0)
            rc = -1;
    }
    if (rc != 0)
        store_health_failed(b, "an event could not be written to an outbox");
    else if (durable && durable_unknown == 0)
        store_health_ok(b);
    if (s2 && ((plain && unknown == 1 && (shared || durable_unknown)) ||
               (shared && (via & MQLINK_VIA_SHARED) && durable_unknown))) {
        char filter[2 * 130 + 80];

        if (plain && unknown == 1 && (shared || durable_unknown)) {
            snprintf(filter, sizeof(filter), "%.*s/#", (int)(s2 - topic), topic);
            mqlink_drop_stale(from, filter);
        }
        if (shared && (via & MQLINK_VIA_SHARED) && durable_unknown) {
            snprintf(filter, sizeof(filter), "$share/%s/%.*s/#", b->cfg->broker_share_group,
                     (int)(s2 - topic), topic);
            mqlink_drop_stale(from, filter);
        }
    }
    return rc;
}

static int on_link_message(void *ud, const char *topic, const void *payload, size_t len,
                           unsigned via)
{
    struct bridge *b = ud;

    return dispatch(b, b->link, topic, payload, len, via);
}

static int on_fanout_message(void *ud, const char *topic, const void *payload, size_t len,
                             unsigned via)
{
    struct bridge *b = ud;

    /* Only plain subscriptions live here; nothing of it is for the outboxes. */
    return dispatch(b, b->fanout, topic, payload, len, via ? via : MQLINK_VIA_PLAIN);
}

static void on_link_state(void *ud, bool up)
{
    (void)ud;
    fprintf(stderr, "mqpush-bridge: broker link %s\n", up ? "up" : "down");
}

static char *link_token(void *ud)
{
    struct bridge *b = ud;
    char err[256], *tok = NULL;

    if (bridge_config_read_token(b->cfg, &tok, err, sizeof(err)) != 0) {
        fprintf(stderr, "mqpush-bridge: broker token: %s\n", err);
        return NULL;
    }
    return tok;
}

static void on_link_subscribed(void *ud, const char *filter, bool granted)
{
    struct bridge *b = ud;

    if (granted)
        hub_on_subscribed(b->hub, filter);
}

static void on_fanout_state(void *ud, bool up)
{
    (void)ud;
    fprintf(stderr, "mqpush-bridge: broker fan-out link %s\n", up ? "up" : "down");
}

static const struct mqlink_ops link_ops = {on_link_message, on_link_state, on_link_subscribed};
static const struct mqlink_ops fanout_ops = {on_fanout_message, on_fanout_state,
                                             on_link_subscribed};
static const struct hub_link_ops hub_link = {mqlink_subscribe, mqlink_unsubscribe};

static bool stream_exists(void *ctx, const char *tenant, const char *stream)
{
    struct bridge *b = ctx;
    const struct mqp_tenant *t = mqp_config_tenant(b->streams, tenant, strlen(tenant));

    return t && mqp_tenant_stream(t, stream, strlen(stream));
}

int bridge_reload(struct bridge *b)
{
    struct mqp_errors errs = {0};
    struct mqp_config *next = NULL;

    /* The transmitters' keys are bridge.json's, not the streams file's: read them either way. */
    ssf_receiver_reload(b);
    if (mqp_config_load_file(b->cfg->streams_file, &next, &errs) != 0) {
        fprintf(stderr, "mqpush-bridge: reload: %s refused, the previous streams stay\n",
                b->cfg->streams_file);
        log_errors("reload", &errs);
        mqp_errors_clear(&errs);
        return -1;
    }
    mqp_errors_clear(&errs);
    mqp_config_free(b->streams);
    b->streams = next;
    sessions_recheck(b);
    sio_stream_recheck(b);
    hub_prune(b->hub, stream_exists, b);
    fprintf(stderr, "mqpush-bridge: reload: %s loaded (%zu tenants)\n", b->cfg->streams_file,
            next->n_tenants);
    return 0;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The parts whose handles close on the loop (and the store). */
static void close_parts(struct bridge *b)
{
    cluster_close(b);
    webpush_close(b);
    up_provider_close(b);
    ssf_receiver_close(b);
    ssf_delivery_close(b);
    sio_stream_free(b);
    curl_loop_close(b->curl);
    b->curl = NULL;
    hub_free(b->hub);
    b->hub = NULL;
    store_close(b->store);
    b->store = NULL;
}

/* What may only go once the loop has run the close callbacks. */
static void free_rest(struct bridge *b)
{
    http_server_free(b->http);
    b->http = NULL;
    up_provider_free(b); /* after the server: its SSE connections close with it */
    mqlink_free(b->link);
    b->link = NULL;
    mqlink_free(b->fanout);
    b->fanout = NULL;
    mqp_config_free(b->streams);
    b->streams = NULL;
    webpush_free(b);
    ssf_receiver_free(b);
    ssf_transmitter_free(b);
    guard_free(b->guard);
    b->guard = NULL;
}

static void on_link_stopped(void *arg)
{
    struct bridge *b = arg;

    if (--lc.links_running > 0)
        return;
    http_server_close(b->http);
    sessions_fini(b);
    sio_stream_free(b);
    close_parts(b);
    close_handle((uv_handle_t *)&lc.sig_hup);
    close_handle((uv_handle_t *)&lc.sig_term);
    close_handle((uv_handle_t *)&lc.sig_int);
    close_handle((uv_handle_t *)&lc.drain);
    fprintf(stderr, "mqpush-bridge: stopped\n");
}

static void on_drain(uv_timer_t *t)
{
    struct bridge *b = t->data;

    if (sessions_count(b) + sio_stream_sessions(b) > 0 &&
        uv_now(b->loop) - lc.drain_started < DRAIN_MS)
        return;
    uv_timer_stop(t);
    lc.links_running = 1 + (b->fanout != NULL);
    if (b->fanout)
        mqlink_stop(b->fanout, on_link_stopped, b);
    if (b->link)
        mqlink_stop(b->link, on_link_stopped, b);
    else
        on_link_stopped(b);
}

void bridge_stop(struct bridge *b)
{
    if (b->stopping)
        return;
    b->stopping = true;
    fprintf(stderr, "mqpush-bridge: stopping\n");
    http_server_shutdown(b->http);
    lc.drain_started = uv_now(b->loop);
    uv_timer_start(&lc.drain, on_drain, 10, 10);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct bridge *b = h->data;

    if (signum == SIGHUP)
        bridge_reload(b);
    else
        bridge_stop(b);
}

int bridge_start(struct bridge *b, uv_loop_t *loop, struct bridge_config *cfg)
{
    struct mqp_errors errs = {0};
    struct hub_params hp;
    struct mqlink_params lp;
    char *fanout_id = NULL;
    char err[256];

    memset(b, 0, sizeof(*b));
    b->loop = loop;
    b->cfg = cfg;
    if (mqp_config_load_file(cfg->streams_file, &b->streams, &errs) != 0) {
        fprintf(stderr, "mqpush-bridge: %s: invalid streams file\n", cfg->streams_file);
        log_errors("streams", &errs);
        mqp_errors_clear(&errs);
        goto fail;
    }
    mqp_errors_clear(&errs);
    if (store_open(cfg->store_url, &b->store, err, sizeof(err)) != 0) {
        fprintf(stderr, "mqpush-bridge: store: %s\n", err);
        goto fail;
    }
    /* Outbox rows are the bridge's by its client id, which is unique among the bridges on one
     * broker (the broker keeps one session per id). */
    store_set_node(b->store, cfg->broker_client_id);
    memset(&lp, 0, sizeof(lp));
    lp.host = cfg->broker_host;
    lp.port = cfg->broker_port;
    lp.client_id = cfg->broker_client_id;
    lp.keepalive_s = cfg->broker_keepalive_s;
    lp.get_token = link_token;
    lp.backoff_min_ms = 250;
    lp.backoff_max_ms = 30000;
    if (mqlink_new(loop, &lp, &link_ops, b, &b->link) != 0)
        goto fail;
    if (cfg->broker_share_group) {
        size_t n = strlen(cfg->broker_client_id) + sizeof("-fanout");

        fanout_id = malloc(n);
        if (fanout_id == NULL)
            goto fail;
        snprintf(fanout_id, n, "%s-fanout", cfg->broker_client_id);
        lp.client_id = fanout_id;
        /* Enough to ride out a drop; a bridge that died leaves nothing worth keeping here. */
        lp.session_expiry_s = FANOUT_SESSION_EXPIRY_S;
        if (mqlink_new(loop, &lp, &fanout_ops, b, &b->fanout) != 0)
            goto fail;
        free(fanout_id);
        fanout_id = NULL;
    }
    hp.replay_max_events = cfg->sse.replay_max_events;
    hp.replay_max_age_s = cfg->sse.replay_max_age_s;
    hp.send_queue_bytes = cfg->limits.send_queue_bytes;
    if (hub_new(loop, &hp, &hub_link, b->fanout ? b->fanout : b->link, &b->hub) != 0)
        goto fail;
    if (curl_loop_new(loop, &b->curl) != 0)
        goto fail;
    if (guard_new((const char *const *)cfg->outbound_allow, cfg->n_outbound_allow, &b->guard, err,
                  sizeof(err)) != 0) {
        fprintf(stderr, "mqpush-bridge: outbound.allow: %s\n", err);
        goto fail;
    }
    if (webpush_start(b) != 0)
        goto fail;
    if (up_provider_start(b) != 0)
        goto fail;
    if (sio_stream_start(b) != 0)
        goto fail;
    if (ssf_receiver_start(b) != 0)
        goto fail;
    if (ssf_transmitter_start(b) != 0)
        goto fail;
    if (cluster_start(b) != 0)
        goto fail;
    if (http_server_start(b) != 0)
        goto fail;
    if (mqlink_start(b->link) != 0 || (b->fanout && mqlink_start(b->fanout) != 0))
        goto fail;
    uv_signal_init(loop, &lc.sig_hup);
    uv_signal_init(loop, &lc.sig_term);
    uv_signal_init(loop, &lc.sig_int);
    uv_timer_init(loop, &lc.drain);
    lc.sig_hup.data = lc.sig_term.data = lc.sig_int.data = lc.drain.data = b;
    uv_signal_start(&lc.sig_hup, on_signal, SIGHUP);
    uv_signal_start(&lc.sig_term, on_signal, SIGTERM);
    uv_signal_start(&lc.sig_int, on_signal, SIGINT);
    fprintf(stderr, "mqpush-bridge: listening on %s:%d\n", cfg->listen_host, cfg->listen_port);
    return 0;
fail:
    free(fanout_id);
    close_parts(b);
    /* Encryption queued on the thread pool by a start that got this far, and the close
     * callbacks of the parts' handles, run before their state is freed. */
    for (int i = 0; i < 500 && webpush_busy(b); i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        uv_sleep(10);
    }
    uv_run(loop, UV_RUN_NOWAIT);
    free_rest(b);
    b->cfg = NULL;
    return -1;
}

void bridge_cleanup(struct bridge *b)
{
    free_rest(b);
    bridge_config_free(b->cfg);
    b->cfg = NULL;
}
