/*
 * sseload: the load client of the SSE benchmark (bench/sse/run.sh). One epoll thread holds
 * many Server-Sent Events connections to mqpush-bridge and parses them incrementally
 * (sse_parse.c); a second thread publishes the events into Mosquitto (publisher.c). Every
 * event carries its publish time and sequence number, so the client measures
 * publish-to-client latency and checks, per connection, that nothing is lost, duplicated or
 * reordered. It prints one JSON line of results.
 *
 *   sseload --port P --path PATH --clients N --idle --bridge-pid PID
 *       connect N clients, wait until every stream said mqpush:ready, report the bridge's RSS
 *       before and after
 *   sseload --port P --path PATH --clients N --mqtt-port M --topic T --token TOK
 *           [--rate R] [--window W] [--warmup S] [--duration S] ...
 *       connect, then publish at R events/s (R = 0: flat out) and measure a window
 *
 * See --help and bench/README.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <mosquitto.h>

#include "hist.h"
#include "loadrun.h"
#include "proc.h"
#include "publisher.h"
#include "sseload.h"

/* How often, flat out, the lowest progress over all clients is recomputed for the publisher. */
#define PROGRESS_EVERY_NS 200000ull

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Busy fraction source for one CPU: ticks since boot, or zeros when unknown. */
struct cpu_mark {
    double bridge, broker, self;
    unsigned long long busy, total;
    uint64_t t;
};

static void mark(const struct sl_opts *o, struct cpu_mark *m)
{
    m->t = load_now();
    m->bridge = o->bridge_pid > 0 ? proc_cpu_seconds(o->bridge_pid) : -1;
    m->broker = o->lo.broker_pid > 0 ? proc_cpu_seconds(o->lo.broker_pid) : -1;
    m->self = load_self_cpu();
    m->busy = m->total = 0;
    if (o->lo.load_cpu >= 0)
        proc_cpu_ticks(o->lo.load_cpu, &m->busy, &m->total);
}

/* The lowest seq every live client has reached; dead ones no longer hold the publisher. */
static uint64_t lowest_progress(const struct sl_run *r)
{
    uint64_t low = UINT64_MAX;

    for (int i = 0; i < r->o->lo.clients; i++)
        if (r->conns[i].state != SL_DEAD && r->conns[i].last_seq < low)
            low = r->conns[i].last_seq;
    return low == UINT64_MAX ? 0 : low;
}

/* Every live client has every event published so far. */
static int all_caught_up(const struct sl_run *r, uint64_t published)
{
    for (int i = 0; i < r->o->lo.clients; i++)
        if (r->conns[i].state != SL_DEAD && r->conns[i].last_seq < published)
            return 0;
    return 1;
}

static void print_result(struct sl_run *r, const struct cpu_mark *m0, const struct cpu_mark *m1,
                         const struct pub_stats *ps, long rss0, long rss1)
{
    const struct sl_opts *o = r->o;
    double win = m1 && m1->t > m0->t ? (double)(m1->t - m0->t) / 1e9 : 0;
    uint64_t lost = 0, min_rx = UINT64_MAX, max_rx = 0;

    printf("{\"label\":\"%s\",\"clients\":%d,\"ready\":%llu,\"refused\":%llu,\"closed\":%llu,"
           "\"connect_errors\":%llu,\"connect_s\":%.3f,\"rss_before_kib\":%ld,"
           "\"rss_after_kib\":%ld",
           o->lo.label, o->lo.clients, (unsigned long long)r->ready, (unsigned long long)r->refused,
           (unsigned long long)r->closed, (unsigned long long)r->connect_errors,
           r->t_ready ? (double)(r->t_ready - r->t_start) / 1e9 : -1.0, rss0, rss1);
    if (r->first_error[0])
        printf(",\"error\":\"%s\"", r->first_error);
    if (ps == NULL || m1 == NULL) {
        printf("}\n");
        return;
    }
    for (int i = 0; i < o->lo.clients; i++) {
        const struct sl_conn *c = &r->conns[i];

        /* gaps inside the sequence, and the tail that never came */
        lost += c->gaps + (c->last_seq < ps->published ? ps->published - c->last_seq : 0);
        if (c->received < min_rx)
            min_rx = c->received;
        if (c->received > max_rx)
            max_rx = c->received;
    }
    printf(",\"rate\":%g,\"window\":%llu,\"qos\":%d,\"size\":%zu,\"published\":%llu,"
           "\"acked\":%llu,\"pub_refused\":%llu,\"late_sends\":%llu,\"pub_failed\":%d,"
           "\"window_s\":%.3f,\"delivered\":%llu,\"deliveries_per_s\":%.1f,"
           "\"events_per_s\":%.1f,\"received\":%llu,\"expected\":%llu,\"lost\":%llu,"
           "\"duplicates\":%llu,\"id_out_of_order\":%llu,\"no_seq\":%llu,\"other_events\":%llu,"
           "\"per_conn_min\":%llu,\"per_conn_max\":%llu,\"data_bytes_avg\":%.1f,"
           "\"wire_bytes_avg\":%.1f,\"drained\":%s,",
           o->lo.rate, (unsigned long long)o->lo.window, o->lo.qos, o->lo.size,
           (unsigned long long)ps->published, (unsigned long long)ps->acked,
           (unsigned long long)ps->refused, (unsigned long long)ps->late, ps->failed, win,
           (unsigned long long)r->measured, win > 0 ? (double)r->measured / win : 0.0,
           win > 0 ? (double)(r->seq_at_end - r->seq_at_start) / win : 0.0,
           (unsigned long long)r->events,
           (unsigned long long)ps->published * (uint64_t)o->lo.clients, (unsigned long long)lost,
           (unsigned long long)r->duplicates, (unsigned long long)r->id_out_of_order,
           (unsigned long long)r->no_seq, (unsigned long long)r->other_events,
           (unsigned long long)(min_rx == UINT64_MAX ? 0 : min_rx), (unsigned long long)max_rx,
           r->events ? (double)r->data_bytes / (double)r->events : 0.0,
           r->events ? (double)r->wire_bytes / (double)r->events : 0.0,
           r->drained ? "true" : "false");
    /* CPU: seconds in the window; *_busy as a fraction of the window (1.0 = a whole core) */
    if (m0->bridge >= 0 && m1->bridge >= 0)
        printf("\"bridge_cpu_s\":%.3f,\"bridge_busy\":%.3f,\"cpu_us_per_delivery\":%.3f,",
               m1->bridge - m0->bridge, win > 0 ? (m1->bridge - m0->bridge) / win : 0.0,
               r->measured ? (m1->bridge - m0->bridge) * 1e6 / (double)r->measured : 0.0);
    if (m0->broker >= 0 && m1->broker >= 0)
        printf("\"broker_busy\":%.3f,", win > 0 ? (m1->broker - m0->broker) / win : 0.0);
    if (m1->total > m0->total)
        printf("\"load_cpu_busy\":%.3f,",
               (double)(m1->busy - m0->busy) / (double)(m1->total - m0->total));
    printf("\"client_busy\":%.3f,", win > 0 ? (m1->self - m0->self) / win : 0.0);
    load_print_latency(&r->lat);
    printf("}\n");
}

/* Connect every client, at most o->lo.batch of them not yet ready at any time. 0 once all are. */
static int connect_all(struct sl_run *r)
{
    const struct sl_opts *o = r->o;
    uint64_t deadline = load_now() + (uint64_t)(o->lo.connect_timeout * 1e9);

    while (!interrupted) {
        uint64_t settled = r->ready + r->refused + r->closed + r->connect_errors;

        while (r->opened < o->lo.clients && (uint64_t)r->opened - settled < (uint64_t)o->lo.batch) {
            if (sl_conn_open(r, r->opened) != 0)
                return -1;
            r->opened++;
        }
        if (r->ready == (uint64_t)o->lo.clients)
            return 0;
        if (settled > r->ready) {
            sl_error(r, "%llu of %d streams refused or closed while connecting (first: %s)",
                     (unsigned long long)(settled - r->ready), o->lo.clients, r->first_conn_error);
            return -1;
        }
        if (load_now() > deadline) {
            sl_error(r, "only %llu of %d streams ready after %.0f s", (unsigned long long)r->ready,
                     o->lo.clients, o->lo.connect_timeout);
            return -1;
        }
        if (sl_poll(r, 10) != 0)
            return -1;
    }
    return -1;
}

/* Publish, measure the window, stop, drain. */
static int load_run(struct sl_run *r, struct cpu_mark *m0, struct cpu_mark *m1,
                    struct pub_stats *ps)
{
    const struct sl_opts *o = r->o;
    struct pub_config pc;
    struct publisher *pub = NULL;
    char err[256];
    uint64_t t_pub, t_measure, t_end, t_drain, last_progress = 0;
    int rc = -1;

    load_pub_config(&o->lo, &pc);
    if (publisher_connect(&pc, &pub, err, sizeof(err)) != 0) {
        sl_error(r, "%s", err);
        goto out;
    }
    if (publisher_start(pub, &r->progress) != 0) {
        sl_error(r, "cannot start the publisher thread");
        goto out;
    }
    t_pub = load_now();
    t_measure = t_pub + (uint64_t)(o->lo.warmup * 1e9);
    t_end = t_measure + (uint64_t)(o->lo.duration * 1e9);
    while (!interrupted) {
        uint64_t t = load_now();

        if (!r->measuring && t >= t_measure) {
            mark(o, m0);
            publisher_stats(pub, ps);
            r->seq_at_start = ps->published;
            r->measuring = 1;
        }
        if (r->measuring && t >= t_end)
            break;
        if (o->lo.rate <= 0 && t - last_progress >= PROGRESS_EVERY_NS) {
            atomic_store(&r->progress, lowest_progress(r));
            last_progress = t;
        }
        publisher_stats(pub, ps);
        if (ps->failed || ps->refused) {
            sl_error(r,
                     ps->refused ? "the broker refused %llu events (PUBACK >= 0x80)"
                                 : "the publisher lost its connection",
                     (unsigned long long)ps->refused);
            break;
        }
        if (sl_poll(r, 1) != 0)
            goto out;
    }
    mark(o, m1);
    r->measuring = 0;
    publisher_halt(pub);
    publisher_stats(pub, ps);
    r->seq_at_end = ps->published;
    /* Drain: wait for the broker's acknowledgements and for every client to get the rest. */
    t_drain = load_now() + (uint64_t)(o->lo.drain * 1e9);
    while (!interrupted && load_now() < t_drain) {
        publisher_stats(pub, ps);
        if (ps->acked >= ps->published && all_caught_up(r, ps->published)) {
            r->drained = 1;
            break;
        }
        if (sl_poll(r, 5) != 0)
            goto out;
    }
    publisher_stats(pub, ps);
    rc = r->first_error[0] ? -1 : 0;
out:
    publisher_free(pub);
    return rc;
}

int main(int argc, char **argv)
{
    static struct sl_run run;
    struct sl_opts o;
    struct cpu_mark m0 = {0}, m1 = {0};
    struct pub_stats ps = {0};
    long rss0 = -1, rss1 = -1;
    int rc;

    rc = sl_opts_parse(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (load_raise_nofile(o.lo.prog, o.lo.clients) != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    mosquitto_lib_init();
    if (sl_run_init(&run, &o) != 0) {
        fprintf(stderr, "sseload: out of memory\n");
        return 1;
    }
    if (o.bridge_pid > 0)
        rss0 = proc_rss_kib(o.bridge_pid);
    rc = connect_all(&run);
    if (rc == 0) {
        run.t_ready = load_now();
        if (o.bridge_pid > 0)
            rss1 = proc_rss_kib(o.bridge_pid);
        if (!o.lo.idle)
            rc = load_run(&run, &m0, &m1, &ps);
    }
    if (interrupted && !run.first_error[0])
        sl_error(&run, "interrupted");
    print_result(&run, &m0, o.lo.idle || !m1.t ? NULL : &m1, o.lo.idle ? NULL : &ps, rss0, rss1);
    sl_run_free(&run);
    mosquitto_lib_cleanup();
    return rc == 0 ? 0 : 1;
}
