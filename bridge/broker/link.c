/*
 * The broker link: libmosquitto on the bridge's libuv loop.
 *
 * libmosquitto's callbacks run inside mosquitto_loop_read(); they only record what happened,
 * and the poll callback acts on it afterwards, so that no handle is closed while libmosquitto
 * is still using the socket.
 */
#include "broker/link.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <uthash.h>

#define MISC_INTERVAL_MS 1000
/* Packets read in one loop turn at most, so that a flood cannot starve the clients' writes. */
#define READ_BATCH_MAX 1024

struct sub {
    char *filter;
    unsigned refs;
    int mid; /* of the SUBSCRIBE awaiting its SUBACK, or 0 */
    UT_hash_handle hh;
};

struct mqlink {
    uv_loop_t *loop;
    struct mosquitto *mosq;
    char *host, *client_id;
    struct mqlink_params p;
    const struct mqlink_ops *ops;
    void *ud;
    uv_poll_t *poll; /* heap: closing is asynchronous and outlives a reconnect */
    int poll_events;
    uv_timer_t misc, retry;
    bool started, up, failed, stopping, first_done;
    unsigned attempt;
    uint64_t connects;
    struct sub *subs;
    int open_handles;
    void (*stop_done)(void *);
    void *stop_arg;
};

static void schedule_retry(struct mqlink *l);
static void watch(struct mqlink *l);

unsigned mqlink_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double r)
{
    double cap = min_ms;
    unsigned i, d;

    for (i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    /* Full jitter (spread reconnects of many bridges), but not below the floor. */
    d = (unsigned)(cap * r);
    return d < min_ms ? min_ms : d;
}

static void log_line(const char *fmt, const char *arg)
{
    fprintf(stderr, "mqpush-bridge: broker: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
}

static void send_subscribe(struct mqlink *l, struct sub *s)
{
    int rc = mosquitto_subscribe_v5(l->mosq, &s->mid, s->filter, 1, 0, NULL);

    if (rc != MOSQ_ERR_SUCCESS)
        log_line("subscribe failed: %s", mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    struct mqlink *l = obj;
    struct sub *s, *tmp;

    (void)m;
    (void)props;
    HASH_ITER(hh, l->subs, s, tmp)
    {
        if (s->mid != mid)
            continue;
        s->mid = 0;
        /* SUBACK reason codes of 0x80 and above refuse the filter (MQTT 5 3.9.3). */
        if (n < 1 || granted[0] >= 0x80)
            log_line("subscription refused: %s", s->filter);
        if (l->ops->on_subscribed)
            l->ops->on_subscribed(l->ud, s->filter, n >= 1 && granted[0] < 0x80);
        return;
    }
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    struct mqlink *l = obj;
    struct sub *s, *tmp;

    (void)m;
    (void)props;
    if (rc != 0) {
        log_line("connection refused: %s", mosquitto_reason_string(rc));
        l->failed = true;
        return;
    }
    l->up = true;
    l->attempt = 0;
    l->connects++;
    if (!l->first_done && (flags & 1))
        log_line("%s", "resuming the session an earlier process left");
    l->first_done = true;
    /* The broker may have lost the session (restart without persistence): subscribe again
     * whatever the session-present flag says; a repeated SUBSCRIBE replaces, never doubles. */
    HASH_ITER(hh, l->subs, s, tmp)
    {
        if (s->refs)
            send_subscribe(l, s);
    }
    l->ops->on_state(l->ud, true);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
    struct mqlink *l = obj;

    (void)m;
    (void)props;
    if (!l->stopping && rc != 0)
        l->failed = true;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct mqlink *l = obj;

    (void)m;
    (void)props;
    l->ops->on_message(l->ud, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct mqlink *l = h->data;

    if (h->type == UV_POLL)
        free(h);
    if (--l->open_handles == 0 && l->stop_done)
        l->stop_done(l->stop_arg);
}

static void unwatch(struct mqlink *l)
{
    if (l->poll == NULL)
        return;
    uv_poll_stop(l->poll);
    l->open_handles++;
    uv_close((uv_handle_t *)l->poll, on_handle_closed);
    l->poll = NULL;
}

/* The connection is gone or was refused: tell, stop watching, try again later. */
static void link_down(struct mqlink *l)
{
    bool was_up = l->up;

    l->up = false;
    l->failed = false;
    unwatch(l);
    if (was_up) {
        log_line("%s", "connection lost");
        l->ops->on_state(l->ud, false);
    }
    if (!l->stopping)
        schedule_retry(l);
}

static void on_poll(uv_poll_t *h, int status, int events);

static void update_poll(struct mqlink *l)
{
    int want = UV_READABLE | (mosquitto_want_write(l->mosq) ? UV_WRITABLE : 0);

    if (l->poll && want != l->poll_events) {
        l->poll_events = want;
        uv_poll_start(l->poll, want, on_poll);
    }
}

/*
 * Read every packet the socket holds now. mosquitto_loop_read() reads one packet per call
 * (it sizes its batch by the QoS 2 queue), so one event per loop turn would reach the hub and
 * every client would get one write per event; reading the whole burst lets the clients get it
 * in one write each. libmosquitto reads exactly a packet's bytes, so bytes still in the kernel
 * are the next packets.
 */
static int read_all(struct mqlink *l)
{
    int fd = mosquitto_socket(l->mosq), rc = MOSQ_ERR_SUCCESS, i, pending = 0;

    for (i = 0; i < READ_BATCH_MAX && rc == MOSQ_ERR_SUCCESS && !l->failed; i++) {
        rc = mosquitto_loop_read(l->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS || ioctl(fd, FIONREAD, &pending) != 0 || pending <= 0)
            break;
    }
    return rc;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct mqlink *l = h->data;
    int rc = MOSQ_ERR_SUCCESS;

    if (status < 0) {
        link_down(l);
        return;
    }
    if (events & UV_WRITABLE)
        rc = mosquitto_loop_write(l->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && (events & UV_READABLE))
        rc = read_all(l);
    if (rc != MOSQ_ERR_SUCCESS || l->failed) {
        link_down(l);
        return;
    }
    update_poll(l);
}

static void watch(struct mqlink *l)
{
    int fd = mosquitto_socket(l->mosq);

    if (fd < 0) {
        schedule_retry(l);
        return;
    }
    l->poll = malloc(sizeof(*l->poll));
    if (l->poll == NULL || uv_poll_init(l->loop, l->poll, fd) != 0) {
        free(l->poll);
        l->poll = NULL;
        schedule_retry(l);
        return;
    }
    l->poll->data = l;
    l->poll_events = 0;
    update_poll(l);
}

static void connect_now(struct mqlink *l)
{
    char *token = l->p.get_token ? l->p.get_token(l->ud) : NULL;
    mosquitto_property *props = NULL;
    int rc;

    if (token == NULL) {
        schedule_retry(l);
        return;
    }
    mosquitto_username_pw_set(l->mosq, l->client_id, token);
    memset(token, 0, strlen(token));
    free(token);
    if (!l->started) {
        /* The first connect carries the CONNECT properties, which libmosquitto keeps for
         * every reconnect; only this call connects synchronously. */
        l->started = true;
        mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                     l->p.session_expiry_s);
        rc = mosquitto_connect_bind_v5(l->mosq, l->host, l->p.port, l->p.keepalive_s, NULL, props);
        mosquitto_property_free_all(&props);
    } else {
        rc = mosquitto_reconnect_async(l->mosq);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        log_line("cannot connect: %s", mosquitto_strerror(rc));
        schedule_retry(l);
        return;
    }
    watch(l);
}

static void on_retry(uv_timer_t *t)
{
    connect_now(t->data);
}

static void schedule_retry(struct mqlink *l)
{
    unsigned d = mqlink_backoff_ms(l->attempt++, l->p.backoff_min_ms, l->p.backoff_max_ms,
                                   (double)rand() / ((double)RAND_MAX + 1.0));

    if (!l->stopping)
        uv_timer_start(&l->retry, on_retry, d, 0);
}

/* Keepalive: libmosquitto sends PINGREQ and notices a silent broker from here. */
static void on_misc(uv_timer_t *t)
{
    struct mqlink *l = t->data;

    if (l->poll == NULL)
        return;
    if (mosquitto_loop_misc(l->mosq) != MOSQ_ERR_SUCCESS) {
        link_down(l);
        return;
    }
    update_poll(l);
}

int mqlink_new(uv_loop_t *loop, const struct mqlink_params *p, const struct mqlink_ops *ops,
               void *ud, struct mqlink **out)
{
    struct mqlink *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (l == NULL)
        return -1;
    l->loop = loop;
    l->p = *p;
    l->ops = ops;
    l->ud = ud;
    l->host = strdup(p->host);
    l->client_id = strdup(p->client_id);
    if (l->p.session_expiry_s == 0)
        l->p.session_expiry_s = 3600;
    if (l->p.backoff_min_ms == 0)
        l->p.backoff_min_ms = 250;
    if (l->p.backoff_max_ms < l->p.backoff_min_ms)
        l->p.backoff_max_ms = l->p.backoff_min_ms;
    if (l->p.keepalive_s <= 0)
        l->p.keepalive_s = 30;
    if (l->host == NULL || l->client_id == NULL)
        goto fail;
    /* clean_session false: with the session expiry set at connect, the broker keeps the
     * subscriptions and queues QoS 1 messages while the link is down (MQTT 5 3.1.2.4). */
    l->mosq = mosquitto_new(l->client_id, false, l);
    if (l->mosq == NULL)
        goto fail;
    mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_v5_callback_set(l->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(l->mosq, on_disconnect);
    mosquitto_message_v5_callback_set(l->mosq, on_message);
    mosquitto_subscribe_v5_callback_set(l->mosq, on_subscribe);
    *out = l;
    return 0;
fail:
    free(l->host);
    free(l->client_id);
    free(l);
    return -1;
}

int mqlink_start(struct mqlink *l)
{
    uv_timer_init(l->loop, &l->misc);
    uv_timer_init(l->loop, &l->retry);
    l->misc.data = l->retry.data = l;
    l->open_handles = 2;
    uv_timer_start(&l->misc, on_misc, MISC_INTERVAL_MS, MISC_INTERVAL_MS);
    connect_now(l);
    return 0;
}

void mqlink_subscribe(void *arg, const char *filter)
{
    struct mqlink *l = arg;
    struct sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || (s->filter = strdup(filter)) == NULL) {
            free(s);
            return;
        }
        HASH_ADD_KEYPTR(hh, l->subs, s->filter, strlen(s->filter), s);
    }
    if (s->refs++ == 0 && l->up) {
        send_subscribe(l, s);
        update_poll(l);
    }
}

void mqlink_unsubscribe(void *arg, const char *filter)
{
    struct mqlink *l = arg;
    struct sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if (s == NULL || s->refs == 0)
        return;
    if (--s->refs == 0) {
        if (l->up) {
            mosquitto_unsubscribe_v5(l->mosq, NULL, filter, NULL);
            update_poll(l);
        }
        HASH_DEL(l->subs, s);
        free(s->filter);
        free(s);
    }
}

void mqlink_drop_stale(struct mqlink *l, const char *filter)
{
    struct sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if ((s && s->refs) || !l->up)
        return;
    mosquitto_unsubscribe_v5(l->mosq, NULL, filter, NULL);
    update_poll(l);
}

bool mqlink_is_up(const struct mqlink *l)
{
    return l->up;
}

uint64_t mqlink_connects(const struct mqlink *l)
{
    return l->connects;
}

void mqlink_stop(struct mqlink *l, void (*done)(void *arg), void *arg)
{
    l->stopping = true;
    l->stop_done = done;
    l->stop_arg = arg;
    if (l->up) {
        /* Reason 0 keeps the session for its expiry (MQTT 5 3.14.2.1); the socket is
         * non-blocking and DISCONNECT is two bytes, so one write sends it. */
        mosquitto_disconnect_v5(l->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
        mosquitto_loop_write(l->mosq, 1);
        l->up = false;
    }
    if (l->open_handles == 0) { /* never started */
        done(arg);
        return;
    }
    unwatch(l);
    uv_timer_stop(&l->misc);
    uv_timer_stop(&l->retry);
    uv_close((uv_handle_t *)&l->misc, on_handle_closed);
    uv_close((uv_handle_t *)&l->retry, on_handle_closed);
}

void mqlink_free(struct mqlink *l)
{
    struct sub *s, *tmp;

    if (l == NULL)
        return;
    HASH_ITER(hh, l->subs, s, tmp)
    {
        HASH_DEL(l->subs, s);
        free(s->filter);
        free(s);
    }
    if (l->mosq)
        mosquitto_destroy(l->mosq);
    free(l->host);
    free(l->client_id);
    free(l);
}
