#include "publisher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#define NS 1000000000ull
#define LATE_NS 1000000ull
/* Flat out with a full window: how long to wait before looking at the clients again. */
#define WINDOW_POLL_NS 20000ull
#define CONNECT_TIMEOUT_NS (10 * NS)

struct publisher {
    struct pub_config cfg;
    struct mosquitto *mosq;
    pthread_t thread;
    int running;
    const _Atomic uint64_t *progress;
    char *buf; /* the payload being built */
    atomic_int stop;
    atomic_int connack; /* -1 until the CONNACK, then its reason code */
    atomic_int failed;
    _Atomic uint64_t published, acked, refused, late;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / NS), .tv_nsec = (long)(t % NS)};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    struct publisher *p = obj;

    atomic_store(&p->connack, rc);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
    struct publisher *p = obj;

    if (!atomic_load(&p->stop))
        atomic_store(&p->failed, 1);
}

/* Runs on libmosquitto's thread: a PUBACK (QoS 1) or the end of a QoS 0 send. */
static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
    struct publisher *p = obj;

    atomic_fetch_add(&p->acked, 1);
    if (reason >= 0x80)
        atomic_fetch_add(&p->refused, 1);
}

/* The payload of event seq, stamped now: exactly cfg.size bytes when size allows. */
static size_t render(struct publisher *p, uint64_t seq)
{
    size_t size = p->cfg.size;
    int n =
        snprintf(p->buf, size + 128,
                 "{\"payload\":{\"t\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"pad\":\"", mono_ns(), seq);
    size_t pad = (size_t)n + 3 < size ? size - (size_t)n - 3 : 0;

    memset(p->buf + n, 'x', pad);
    memcpy(p->buf + (size_t)n + pad, "\"}}", 3);
    return (size_t)n + pad + 3;
}

static void *publish_loop(void *arg)
{
    struct publisher *p = arg;
    uint64_t seq = 0, start = mono_ns();
    double interval = p->cfg.rate > 0 ? (double)NS / p->cfg.rate : 0;

    while (!atomic_load(&p->stop) && !atomic_load(&p->failed)) {
        uint64_t now = mono_ns();
        size_t len;

        if (interval > 0) {
            uint64_t due = start + (uint64_t)((double)seq * interval);

            if (now < due) {
                /* wake at least every 50 ms so that a stop is seen */
                sleep_until(due - now > 50000000ull ? now + 50000000ull : due);
                continue;
            }
            if (now - due > LATE_NS)
                atomic_fetch_add(&p->late, 1);
        } else if (seq - atomic_load(p->progress) >= p->cfg.window) {
            sleep_until(now + WINDOW_POLL_NS);
            continue;
        }
        seq++;
        len = render(p, seq);
        if (mosquitto_publish_v5(p->mosq, NULL, p->cfg.topic, (int)len, p->buf, p->cfg.qos, false,
                                 NULL) != MOSQ_ERR_SUCCESS) {
            atomic_store(&p->failed, 1);
            break;
        }
        atomic_store(&p->published, seq);
    }
    return NULL;
}

int publisher_connect(const struct pub_config *cfg, struct publisher **out, char *err,
                      size_t errlen)
{
    struct publisher *p = calloc(1, sizeof(*p));
    uint64_t deadline = mono_ns() + CONNECT_TIMEOUT_NS;
    int rc = -1, ack;

    *out = NULL;
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    p->cfg = *cfg;
    atomic_init(&p->connack, -1);
    p->buf = malloc(cfg->size + 128);
    p->mosq = mosquitto_new(NULL, true, p);
    if (p->buf == NULL || p->mosq == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(p->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(p->mosq, on_disconnect);
    mosquitto_publish_v5_callback_set(p->mosq, on_publish);
    if (cfg->username || cfg->password)
        mosquitto_username_pw_set(p->mosq, cfg->username, cfg->password);
    if (mosquitto_connect_bind_v5(p->mosq, cfg->host, cfg->port, 60, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(p->mosq) != MOSQ_ERR_SUCCESS) {
        snprintf(err, errlen, "cannot connect to the broker at %s:%d", cfg->host, cfg->port);
        goto out;
    }
    while ((ack = atomic_load(&p->connack)) < 0 && mono_ns() < deadline)
        sleep_until(mono_ns() + 1000000ull);
    if (ack != 0) {
        snprintf(err, errlen, "broker %s the publisher: %s", ack < 0 ? "did not answer" : "refused",
                 ack < 0 ? "no CONNACK in 10 s" : mosquitto_reason_string(ack));
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    publisher_free(p);
    return rc;
}

int publisher_start(struct publisher *p, const _Atomic uint64_t *progress)
{
    p->progress = progress;
    if (pthread_create(&p->thread, NULL, publish_loop, p) != 0)
        return -1;
    p->running = 1;
    return 0;
}

void publisher_halt(struct publisher *p)
{
    atomic_store(&p->stop, 1);
    if (p->running)
        pthread_join(p->thread, NULL);
    p->running = 0;
}

void publisher_stats(struct publisher *p, struct pub_stats *st)
{
    st->published = atomic_load(&p->published);
    st->acked = atomic_load(&p->acked);
    st->refused = atomic_load(&p->refused);
    st->late = atomic_load(&p->late);
    st->failed = atomic_load(&p->failed);
}

void publisher_free(struct publisher *p)
{
    if (p == NULL)
        return;
    publisher_halt(p);
    if (p->mosq) {
        mosquitto_disconnect_v5(p->mosq, 0, NULL);
        mosquitto_loop_stop(p->mosq, false);
        mosquitto_destroy(p->mosq);
    }
    free(p->buf);
    free(p);
}
