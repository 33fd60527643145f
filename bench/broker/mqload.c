/*
 * mqload: an MQTT 5 load client for the broker benchmark. Publishers, subscribers and idle
 * clients all live in one thread driven by ppoll(). The protocol code is our own small subset
 * (wire.c) rather than libmosquitto's client, because libmosquitto reads every packet with
 * three read() calls and writes every PUBACK on its own: on a two-core machine the client
 * would then spend as much CPU per delivered message as the broker and measure itself.
 * Here a subscriber takes whatever one read() returns and answers it with one write().
 */
#include "mqload.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mqtt_protocol.h>
#include "proc.h"

#define NS 1000000000LL
#define CONNECT_TIMEOUT_NS (120 * NS)
#define TICK_NS (10 * 1000000LL)
/* Rate mode: a send more than this late counts as late (the client fell behind). */
#define LATE_NS 1000000LL

static volatile sig_atomic_t interrupted;

int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

double self_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void publish_one(struct run *r, struct client *c)
{
    const struct options *o = r->o;
    uint16_t pid = 0;

    if (o->qos > 0) {
        pid = c->next_pid++;
        if (c->next_pid == 0)
            c->next_pid = 1;
    }
    payload_stamp(&r->payload, (uint64_t)mono_ns());
    if (wire_put_publish(&c->out, o->pub_topic, pid, o->qos, r->payload.data, r->payload.len)) {
        run_fail(r, "%s: cannot encode PUBLISH", c->id);
        return;
    }
    if (o->qos > 0)
        c->inflight++;
    r->published++;
    if (run_in_window(r))
        r->published_in_window++;
}

static bool can_publish(const struct run *r, const struct client *c)
{
    if (c->state != CS_READY)
        return false;
    if (r->o->qos > 0)
        return c->inflight < c->inflight_max;
    return c->out.len < MQLOAD_QOS0_BACKLOG;
}

/*
 * Saturation: publish while every subscriber is at most `window` copies behind, so the broker
 * always has work queued but never overflows its per-client queue (max_queued_messages, 1000
 * by default) and drops messages: what is measured is what the broker delivers.
 */
static void publish_saturate(struct run *r, int64_t now)
{
    const struct options *o = r->o;
    uint64_t min_rx = UINT64_MAX;
    size_t i, idle_rounds = 0, k = 0;

    (void)now;
    if (!o->pubs)
        return;
    for (i = o->pubs; i < o->pubs + o->subs; i++)
        if (r->clients[i].received < min_rx)
            min_rx = r->clients[i].received;
    while (idle_rounds < o->pubs && r->phase == PH_RUN) {
        struct client *c = &r->clients[k++ % o->pubs];
        if (o->subs && (r->published + 1) * o->copies > min_rx + o->window)
            break;
        if (!can_publish(r, c)) {
            idle_rounds++;
            continue;
        }
        idle_rounds = 0;
        publish_one(r, c);
    }
}

/* Fixed rate: each publisher sends on its own schedule, spread evenly over the period. */
static void publish_rate(struct run *r, int64_t now)
{
    const struct options *o = r->o;
    int64_t period = (int64_t)((double)NS * (double)o->pubs / o->rate);
    size_t i;

    for (i = 0; i < o->pubs && r->phase == PH_RUN; i++) {
        struct client *c = &r->clients[i];
        while (c->next_send <= now && r->phase == PH_RUN) {
            if (!can_publish(r, c))
                break;
            if (now - c->next_send > LATE_NS)
                r->late_sends++;
            publish_one(r, c);
            c->next_send += period;
        }
    }
}

static void begin_run(struct run *r, int64_t now)
{
    const struct options *o = r->o;
    size_t i;

    r->t_all_ready = now;
    if (!o->pubs && !o->subs) {
        r->phase = PH_SETTLE;
        r->t_deadline = now + (int64_t)(o->settle * NS);
        return;
    }
    r->phase = PH_RUN;
    r->t_run = now;
    r->t_meas_start = now + (int64_t)(o->warmup * NS);
    r->t_meas_end = r->t_meas_start + (int64_t)(o->duration * NS);
    for (i = 0; i < o->pubs && o->rate > 0; i++)
        r->clients[i].next_send =
            now + (int64_t)(o->phase * NS) + (int64_t)((double)NS * (double)i / o->rate);
}

static bool all_delivered(const struct run *r)
{
    const struct options *o = r->o;
    size_t i;

    for (i = 0; i < o->pubs; i++)
        if (r->clients[i].inflight)
            return false;
    return r->delivered >= r->published * o->copies * o->subs;
}

static void advance_phase(struct run *r, int64_t now)
{
    const struct options *o = r->o;

    switch (r->phase) {
    case PH_CONNECT:
        while (r->started < r->n_clients && r->handshaking < o->connect_batch &&
               r->phase == PH_CONNECT)
            client_start(r, &r->clients[r->started], now);
        if (r->ready == r->n_clients)
            begin_run(r, now);
        else if (now - r->t_first_connect > CONNECT_TIMEOUT_NS)
            run_fail(r, "only %zu of %zu clients connected within %lld s", r->ready, r->n_clients,
                     CONNECT_TIMEOUT_NS / NS);
        break;
    case PH_RUN:
        if (!r->meas_started && now >= r->t_meas_start) {
            r->meas_started = true;
            r->t_meas_start = now;
            r->client_cpu_start = self_cpu_seconds();
            r->broker_cpu_start = o->broker_pid ? proc_cpu_seconds(o->broker_pid) : -1;
            r->cpu_ticks_ok =
                o->broker_cpu >= 0 &&
                proc_cpu_ticks(o->broker_cpu, &r->cpu_busy_start, &r->cpu_total_start) == 0;
        }
        if (r->meas_started && now >= r->t_meas_end) {
            r->meas_ended = true;
            r->t_meas_end = now;
            r->client_cpu_end = self_cpu_seconds();
            r->broker_cpu_end = o->broker_pid ? proc_cpu_seconds(o->broker_pid) : -1;
            if (r->cpu_ticks_ok)
                r->cpu_ticks_ok =
                    proc_cpu_ticks(o->broker_cpu, &r->cpu_busy_end, &r->cpu_total_end) == 0;
            if (o->idle && o->broker_pid)
                r->rss_after_kib = proc_rss_kib(o->broker_pid);
            r->phase = PH_DRAIN;
            r->t_deadline = now + (int64_t)(o->drain * NS);
        }
        break;
    case PH_DRAIN:
        if (all_delivered(r) || now >= r->t_deadline)
            r->phase = PH_DONE;
        break;
    case PH_SETTLE:
        if (now >= r->t_deadline) {
            if (o->broker_pid)
                r->rss_after_kib = proc_rss_kib(o->broker_pid);
            r->phase = PH_DONE;
        }
        break;
    case PH_DONE:
        break;
    }
}

/* Keep-alive (MQTT 5.0 section 3.1.2.10): ping clients that sent nothing for half of it. */
static void keepalive(struct run *r, int64_t now)
{
    size_t i;

    for (i = 0; i < r->n_clients; i++) {
        struct client *c = &r->clients[i];
        if (c->state == CS_READY && now - c->last_tx > MQLOAD_KEEPALIVE_S * NS / 2 &&
            wire_put_pingreq(&c->out))
            run_fail(r, "%s: out of memory", c->id);
    }
}

static void flush_all(struct run *r, int64_t now)
{
    size_t i;

    for (i = 0; i < r->started; i++) {
        struct client *c = &r->clients[i];
        if (c->out.len == 0 || c->state == CS_TCP || c->state == CS_CLOSED)
            continue;
        if (net_flush(c->fd, &c->out)) {
            run_fail(r, "%s: write: %s", c->id, strerror(errno));
            return;
        }
        c->last_tx = now;
    }
}

static int64_t wait_ns(const struct run *r, int64_t now)
{
    int64_t wait = TICK_NS;
    size_t i;

    if (r->phase == PH_RUN && r->o->rate > 0) {
        for (i = 0; i < r->o->pubs; i++) {
            int64_t d = r->clients[i].next_send - now;
            if (d < wait)
                wait = d;
        }
    }
    return wait < 0 ? 0 : wait;
}

static int loop(struct run *r, struct pollfd *pfds, size_t *owners)
{
    int64_t now = mono_ns(), next_keepalive = now + NS;

    r->t_first_connect = now;
    while (r->phase != PH_DONE) {
        struct timespec ts;
        size_t n = 0, i;
        int64_t wait;
        int rc;

        if (interrupted)
            run_fail(r, "interrupted");
        advance_phase(r, now);
        if (r->phase == PH_RUN)
            (r->o->rate > 0 ? publish_rate : publish_saturate)(r, now);
        if (now >= next_keepalive) {
            keepalive(r, now);
            next_keepalive = now + NS;
        }
        flush_all(r, now);
        if (r->phase == PH_DONE)
            break;
        for (i = 0; i < r->started; i++) {
            struct client *c = &r->clients[i];
            if (c->state == CS_CLOSED)
                continue;
            pfds[n].fd = c->fd;
            pfds[n].events = c->state == CS_TCP ? POLLOUT : POLLIN;
            if (c->out.len)
                pfds[n].events |= POLLOUT;
            pfds[n].revents = 0;
            owners[n++] = i;
        }
        wait = wait_ns(r, now);
        ts.tv_sec = (time_t)(wait / NS);
        ts.tv_nsec = (long)(wait % NS);
        rc = ppoll(pfds, n, &ts, NULL);
        if (rc < 0 && errno != EINTR) {
            run_fail(r, "poll: %s", strerror(errno));
            break;
        }
        for (i = 0; rc > 0 && i < n && r->phase != PH_DONE; i++) {
            struct client *c = &r->clients[owners[i]];
            if (!pfds[i].revents)
                continue;
            if (c->state == CS_TCP)
                client_on_connected(r, c);
            else if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
                client_on_readable(r, c);
        }
        now = mono_ns();
    }
    return r->error[0] ? -1 : 0;
}

static int setup(struct run *r, const struct options *o, char *id_prefix)
{
    char err[256];
    size_t i;

    memset(r, 0, sizeof(*r));
    r->o = o;
    r->rss_before_kib = r->rss_after_kib = -1;
    hist_reset(&r->latency);
    if (net_addr_parse(o->host, o->port, &r->addr)) {
        run_fail(r, "--host must be a numeric address, got '%s'", o->host);
        return -1;
    }
    if (payload_build(o->payload, o->size, &r->payload, err, sizeof(err))) {
        run_fail(r, "%s", err);
        return -1;
    }
    r->n_clients = o->pubs + o->subs + o->idle;
    r->clients = calloc(r->n_clients, sizeof(*r->clients));
    if (!r->clients) {
        run_fail(r, "out of memory");
        return -1;
    }
    for (i = 0; i < r->n_clients; i++) {
        struct client *c = &r->clients[i];
        size_t idx = i;
        char tag = 'p';

        c->role = ROLE_PUB;
        if (i >= o->pubs + o->subs) {
            c->role = ROLE_IDLE;
            idx = i - o->pubs - o->subs;
            tag = 'i';
        } else if (i >= o->pubs) {
            c->role = ROLE_SUB;
            idx = i - o->pubs;
            tag = 's';
        }
        c->fd = -1;
        c->next_pid = 1;
        snprintf(c->id, sizeof(c->id), "%s-%c%zu", id_prefix, tag, idx);
    }
    if (o->idle && o->broker_pid)
        r->rss_before_kib = proc_rss_kib(o->broker_pid);
    return 0;
}

static void teardown(struct run *r)
{
    size_t i;

    for (i = 0; r->clients && i < r->n_clients; i++) {
        struct client *c = &r->clients[i];
        if (c->state == CS_READY && !wire_put_disconnect(&c->out))
            net_flush(c->fd, &c->out);
        if (c->fd >= 0)
            close(c->fd);
        wire_buf_free(&c->in);
        wire_buf_free(&c->out);
    }
    free(r->clients);
    r->clients = NULL;
    payload_free(&r->payload);
}

int main(int argc, char **argv)
{
    struct options o;
    struct run *r = NULL;
    struct pollfd *pfds = NULL;
    size_t *owners = NULL;
    char prefix[64];
    int rc = 2;

    rc = options_parse(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    rc = 1;
    if (o.free_port) {
        int port = net_free_port(o.host);
        if (port > 0) {
            printf("%d\n", port);
            rc = 0;
        }
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    snprintf(prefix, sizeof(prefix), "%s", o.id_prefix ? o.id_prefix : "mqload");
    if (!o.id_prefix)
        snprintf(prefix, sizeof(prefix), "mqload-%ld", (long)getpid());
    r = malloc(sizeof(*r));
    if (!r) {
        fprintf(stderr, "mqload: out of memory\n");
        goto out;
    }
    if (setup(r, &o, prefix) == 0) {
        pfds = calloc(r->n_clients, sizeof(*pfds));
        owners = calloc(r->n_clients, sizeof(*owners));
        if (!pfds || !owners)
            run_fail(r, "out of memory");
        else if (loop(r, pfds, owners) == 0)
            rc = 0;
    }
    result_print(r);
    if (r->error[0])
        fprintf(stderr, "mqload: %s\n", r->error);
    teardown(r);
out:
    free(pfds);
    free(owners);
    free(r);
    options_free(&o);
    return rc;
}
