/*
 * The broker link: libmosquitto on the bridge's libuv loop.
 *
 * libmosquitto's callbacks run inside mosquitto_loop_read() (and loop_write/loop_misc); they
 * only record what happened, and the caller acts on it afterwards, so that no handle is closed
 * and no reconnect starts while libmosquitto is still inside its own code.
 *
 * States: down (retry timer armed, no poll handle), connecting (poll handle, CONNECT sent,
 * no CONNACK yet), up (CONNACK accepted). Every way out of connecting or up goes through
 * link_down().
 */
#include "broker/link.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <uthash.h>

#define MISC_INTERVAL_MS 1000
/* Packets read in one loop turn at most, so that a flood cannot starve the clients' writes. */
#define READ_BATCH_MAX 1024
#define DEFAULT_SESSION_EXPIRY_S 3600
#define DEFAULT_BACKOFF_MIN_MS 250
#define DEFAULT_KEEPALIVE_S 30

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
    uv_poll_t *poll; /* heap: closing is asynchronous and may outlive a reconnect */
    int poll_events;
    uv_timer_t misc, retry;
    bool started, up, stopping, resumed_logged;
    /* Set from libmosquitto's callbacks, acted on once they returned. */
    bool failed;       /* CONNACK refused, or the connection closed */
    int refused;       /* CONNACK reason code when not 0 */
    int disconnect_rc; /* what on_disconnect was told */
    unsigned attempt;  /* failed connects since the last accepted one */
    uint64_t connects;
    struct sub *subs;
    int open_handles;
    void (*stop_done)(void *);
    void *stop_arg;
};

static void connect_now(struct mqlink *l);

static void on_retry(uv_timer_t *t)
{
    connect_now(t->data);
}

unsigned mqlink_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double r)
{
    double cap = min_ms;
    unsigned i;

    if (max_ms < min_ms)
        max_ms = min_ms;
    for (i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    if (r < 0)
        r = 0;
    if (r >= 1)
        r = 0.999999;
    /* Full jitter over the window (so that bridges that lost the broker together do not come
     * back together), shifted to start at the floor. */
    return min_ms + (unsigned)((cap - min_ms) * r);
}

__attribute__((format(printf, 1, 2))) static void log_line(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("mqpush-bridge: broker: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* rc from a libmosquitto call as text; err is errno taken right after that call. */
static const char *rc_text(int rc, int err)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc);
}

static double random_unit(void)
{
    uint32_t v;

    /* Bridges started from one image must not share a sequence, so not rand(). */
    if (uv_random(NULL, NULL, &v, sizeof(v), 0, NULL) != 0)
        v = (uint32_t)rand();
    return v / 4294967296.0;
}

static void send_subscribe(struct mqlink *l, struct sub *s)
{
    int rc = mosquitto_subscribe_v5(l->mosq, &s->mid, s->filter, 1, 0, NULL);

    if (rc != MOSQ_ERR_SUCCESS)
        log_line("SUBSCRIBE %s not sent: %s", s->filter, mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    struct mqlink *l = obj;
    struct sub *s, *tmp;
    bool ok;

    (void)m;
    (void)props;
    HASH_ITER(hh, l->subs, s, tmp)
    {
        if (s->mid != mid)
            continue;
        s->mid = 0;
        /* SUBACK reason codes of 0x80 and above refuse the filter (MQTT 5 3.9.3). */
        ok = n >= 1 && granted[0] < 0x80;
        if (!ok)
            log_line("subscription %s refused: %s", s->filter,
                     n >= 1 ? mosquitto_reason_string(granted[0]) : "empty SUBACK");
        if (l->ops->on_subscribed)
            l->ops->on_subscribed(l->ud, s->filter, ok);
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
    if (rc != MQTT_RC_SUCCESS) {
        l->refused = rc;
        l->failed = true;
        return;
    }
    l->up = true;
    l->attempt = 0;
    l->connects++;
    if (!l->resumed_logged && (flags & 1))
        log_line("the broker kept this client id's session from an earlier connection");
    l->resumed_logged = true;
    /* The broker may have lost the session (restart without persistence): subscribe again
     * whatever the session-present flag says; a repeated SUBSCRIBE replaces the subscription
     * (MQTT 5 3.8.4), it never doubles deliveries. */
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
    /* Any end we did not ask for, including a broker's DISCONNECT with reason 0. */
    if (!l->stopping) {
        l->failed = true;
        l->disconnect_rc = rc;
    }
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    struct mqlink *l = obj;

    (void)m;
    (void)props;
    l->ops->on_message(l->ud, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
    (void)m;
    (void)obj;
    (void)props;
    /* MQTT 5 3.4.2.1: 0x10 "no matching subscribers" is a success; 0x80 and above refuse. */
    if (reason >= 0x80)
        log_line("PUBLISH %d refused: %s", mid, mosquitto_reason_string(reason));
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

static void schedule_retry(struct mqlink *l, const char *why)
{
    unsigned d;

    if (l->stopping)
        return;
    d = mqlink_backoff_ms(l->attempt, l->p.backoff_min_ms, l->p.backoff_max_ms, random_unit());
    if (l->attempt < 32) /* the window stops growing long before */
        l->attempt++;
    log_line("%s (next attempt in %u ms)", why, d);
    uv_timer_start(&l->retry, on_retry, d, 0);
}

/* The connection is gone or never came up: tell, stop watching, try again later. */
static void link_down(struct mqlink *l, const char *why)
{
    bool was_up = l->up;
    char text[192];

    l->up = false;
    l->failed = false;
    unwatch(l);
    snprintf(text, sizeof(text), "%s %s", was_up ? "connection lost:" : "connect failed:", why);
    if (was_up)
        l->ops->on_state(l->ud, false);
    schedule_retry(l, text);
}

static void on_poll(uv_poll_t *h, int status, int events);

static void update_poll(struct mqlink *l)
{
    int want;

    if (l->poll == NULL)
        return;
    want = UV_READABLE | (mosquitto_want_write(l->mosq) ? UV_WRITABLE : 0);
    if (want != l->poll_events) {
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

    for (i = 0; i < READ_BATCH_MAX && !l->failed; i++) {
        rc = mosquitto_loop_read(l->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(l->mosq) != fd ||
            ioctl(fd, FIONREAD, &pending) != 0 || pending <= 0)
            break;
    }
    return rc;
}

/* After a libmosquitto call returned rc (err: its errno): down if the connection ended. */
static bool ended(struct mqlink *l, int rc, int err)
{
    char why[160];

    if (rc == MOSQ_ERR_SUCCESS && !l->failed && mosquitto_socket(l->mosq) >= 0)
        return false;
    if (l->refused)
        /* MQTT 5 CONNACK reason code (3.2.2.2); Mosquitto answers a bad password with 0x87. */
        snprintf(why, sizeof(why), "CONNACK refused: %s", mosquitto_reason_string(l->refused));
    else if (rc != MOSQ_ERR_SUCCESS)
        snprintf(why, sizeof(why), "%s", rc_text(rc, err));
    else if (l->disconnect_rc != 0)
        /* The broker sent DISCONNECT; rc is its reason code (MQTT 5 3.14.2.1). */
        snprintf(why, sizeof(why), "DISCONNECT from the broker: %s",
                 mosquitto_reason_string(l->disconnect_rc));
    else
        snprintf(why, sizeof(why), "connection closed");
    link_down(l, why);
    return true;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct mqlink *l = h->data;
    int rc = MOSQ_ERR_SUCCESS, err = 0;

    if (status < 0) {
        /* libuv reports POLLERR as UV_EBADF; the socket knows the real cause (a reset, or a
         * refused asynchronous connect). */
        socklen_t len = sizeof(err);

        if (getsockopt(mosquitto_socket(l->mosq), SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
            err == 0)
            link_down(l, uv_strerror(status));
        else
            link_down(l, strerror(err));
        return;
    }
    l->disconnect_rc = 0;
    if (events & UV_WRITABLE) {
        rc = mosquitto_loop_write(l->mosq, 1);
        err = errno;
    }
    if (rc == MOSQ_ERR_SUCCESS && !l->failed && (events & UV_READABLE)) {
        rc = read_all(l);
        err = errno;
    }
    if (!ended(l, rc, err))
        update_poll(l);
}

/* Keepalive: libmosquitto sends PINGREQ and notices a silent broker from here. */
static void on_misc(uv_timer_t *t)
{
    struct mqlink *l = t->data;
    int rc;

    if (l->poll == NULL)
        return;
    l->disconnect_rc = 0;
    rc = mosquitto_loop_misc(l->mosq);
    if (!ended(l, rc, errno))
        update_poll(l);
}

static void watch(struct mqlink *l)
{
    int fd = mosquitto_socket(l->mosq);

    l->poll = fd < 0 ? NULL : malloc(sizeof(*l->poll));
    if (l->poll == NULL || uv_poll_init(l->loop, l->poll, fd) != 0) {
        free(l->poll);
        l->poll = NULL;
        schedule_retry(l, "cannot watch the socket");
        return;
    }
    l->poll->data = l;
    l->poll_events = 0;
    update_poll(l);
}

/*
 * libmosquitto takes CONNECT properties only in mosquitto_connect_bind_v5(), whose TCP connect
 * blocks; it keeps them on the handle and sends them on every later connect, asynchronous ones
 * included. mosquitto_connect_bind_v5() stores them before it checks host, port and keepalive
 * (lib/connect.c, 2.0.11 as through 2.0.19), so hand them over with a port it refuses: it returns
 * MOSQ_ERR_INVAL having opened nothing. The unit test fails if the property stops reaching
 * the broker: the session would then end with the connection (MQTT 5 3.1.2.11.2).
 */
static int keep_connect_properties(struct mqlink *l)
{
    mosquitto_property *props = NULL;
    int rc;

    rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                      l->p.session_expiry_s);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_bind_v5(l->mosq, l->host, -1, l->p.keepalive_s, NULL, props);
    mosquitto_property_free_all(&props);
    return rc == MOSQ_ERR_INVAL ? 0 : -1;
}

static void connect_now(struct mqlink *l)
{
    char *token = l->p.get_token ? l->p.get_token(l->ud) : NULL;
    int rc, err;

    if (token == NULL) {
        schedule_retry(l, "no token");
        return;
    }
    rc = mosquitto_username_pw_set(l->mosq, l->client_id, token);
    memset(token, 0, strlen(token));
    free(token);
    if (rc != MOSQ_ERR_SUCCESS) {
        schedule_retry(l, mosquitto_strerror(rc));
        return;
    }
    l->failed = false;
    l->refused = 0;
    /* Non-blocking TCP connect; CONNECT goes out once the socket is writable. The host is an
     * IP literal or localhost (the config insists), so the name lookup inside does not wait. */
    rc = mosquitto_connect_bind_async(l->mosq, l->host, l->p.port, l->p.keepalive_s, NULL);
    err = errno;
    if (rc != MOSQ_ERR_SUCCESS) {
        char why[160];

        snprintf(why, sizeof(why), "connect failed: %s", rc_text(rc, err));
        schedule_retry(l, why);
        return;
    }
    watch(l);
}

int mqlink_new(uv_loop_t *loop, const struct mqlink_params *p, const struct mqlink_ops *ops,
               void *ud, struct mqlink **out)
{
    struct mqlink *l;

    *out = NULL;
    if (p->host == NULL || p->client_id == NULL)
        return -1;
    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -1;
    l->loop = loop;
    l->p = *p;
    l->ops = ops;
    l->ud = ud;
    l->host = strdup(p->host);
    l->client_id = strdup(p->client_id);
    if (l->p.session_expiry_s == 0)
        l->p.session_expiry_s = DEFAULT_SESSION_EXPIRY_S;
    if (l->p.backoff_min_ms == 0)
        l->p.backoff_min_ms = DEFAULT_BACKOFF_MIN_MS;
    if (l->p.backoff_max_ms < l->p.backoff_min_ms)
        l->p.backoff_max_ms = l->p.backoff_min_ms;
    if (l->p.keepalive_s <= 0)
        l->p.keepalive_s = DEFAULT_KEEPALIVE_S;
    if (l->p.keepalive_s < 5) /* libmosquitto's floor */
        l->p.keepalive_s = 5;
    l->p.host = l->p.client_id = NULL; /* the copies above are used */
    if (l->host == NULL || l->client_id == NULL || p->port < 1 || p->port > 65535 ||
        l->p.keepalive_s > 65535)
        goto fail;
    /* clean_session false: with the session expiry given at connect, the broker keeps the
     * subscriptions and queues QoS 1 messages while the link is down (MQTT 5 3.1.2.4). */
    l->mosq = mosquitto_new(l->client_id, false, l);
    if (l->mosq == NULL)
        goto fail;
    if (mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5) !=
            MOSQ_ERR_SUCCESS ||
        keep_connect_properties(l) != 0)
        goto fail;
    mosquitto_connect_v5_callback_set(l->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(l->mosq, on_disconnect);
    mosquitto_message_v5_callback_set(l->mosq, on_message);
    mosquitto_subscribe_v5_callback_set(l->mosq, on_subscribe);
    mosquitto_publish_v5_callback_set(l->mosq, on_publish);
    *out = l;
    return 0;
fail:
    if (l->mosq)
        mosquitto_destroy(l->mosq);
    free(l->host);
    free(l->client_id);
    free(l);
    return -1;
}

int mqlink_start(struct mqlink *l)
{
    if (l->started || l->stopping)
        return -1;
    l->started = true;
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
            log_line("out of memory: %s not subscribed", filter);
            return;
        }
        HASH_ADD_KEYPTR(hh, l->subs, s->filter, strlen(s->filter), s);
    }
    s->refs++;
    /* Each new holder waits for a SUBACK before it tells its clients they are live: ask again
     * unless one is on its way (a repeated SUBSCRIBE replaces the subscription, MQTT 5 3.8.4). */
    if (l->up && s->mid == 0) {
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
    if (--s->refs > 0)
        return;
    if (l->up) {
        mosquitto_unsubscribe_v5(l->mosq, NULL, filter, NULL);
        update_poll(l);
    }
    /* While down nothing is sent: the next connect subscribes only what is referenced, and a
     * subscription the session still holds shows up as a stale message (mqlink_drop_stale). */
    HASH_DEL(l->subs, s);
    free(s->filter);
    free(s);
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

int mqlink_publish(struct mqlink *l, const char *topic, const void *payload, size_t len)
{
    int rc;

    if (!l->up || len > (size_t)MQTT_MAX_PAYLOAD)
        return -1;
    rc = mosquitto_publish_v5(l->mosq, NULL, topic, (int)len, payload, 1, false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        log_line("PUBLISH to %s not sent: %s", topic, mosquitto_strerror(rc));
        return -1;
    }
    update_poll(l);
    return 0;
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
    if (l->stopping)
        return;
    l->stopping = true;
    l->stop_done = done;
    l->stop_arg = arg;
    if (!l->started) {
        done(arg);
        return;
    }
    /* Stop polling first: libmosquitto closes the socket once DISCONNECT is written, and a
     * descriptor must not be closed under an active uv_poll_t. */
    unwatch(l);
    if (l->up) {
        /* Reason 0 keeps the session for its expiry (MQTT 5 3.14.2.1). DISCONNECT is two
         * bytes and queueing it writes it at once; should the send buffer be full, closing
         * without it in mqlink_free() keeps the session all the same. */
        mosquitto_disconnect_v5(l->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
        l->up = false;
    }
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
