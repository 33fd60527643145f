/*
 * wpbench: how many Web Push messages the bridge's encoder (bridge/webpush/ece.c) and VAPID
 * signer (bridge/webpush/vapid.c) prepare per second, on N threads at once, the way the bridge
 * runs them on libuv's thread pool. Per message: a new stream event, its encryption for one
 * subscription of a pool and the Authorization header for the subscription's push service.
 * With --keygen it measures instead OpenSSL's own P-256 key generation, which `openssl speed`
 * does not report and which every message needs once (the ephemeral key, RFC 8291 3.1).
 * Prints one JSON line; bench/webpush/run.sh puts it beside npm web-push and `openssl speed`.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wpbench.h"

struct worker {
    pthread_t tid;
    int idx, cpu; /* cpu -1: not pinned */
    const struct wpb_opts *o;
    const struct wpb_sub *subs;
    EVP_PKEY *vapid_key;
    pthread_barrier_t *measure; /* all threads measure the same window */
    uint64_t messages, plain_bytes, body_bytes, auth_bytes;
    double wall, cpu_s;
    int failed;
    char err[256];
};

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread's share: its own signer, since vapid.c's per-origin cache has no lock (the
 * bridge would need one per pool thread, or a lock); the subscriptions are shared, read-only. */
static void run_messages(struct worker *w)
{
    const struct wpb_opts *o = w->o;
    struct webpush_vapid *v = NULL;
    struct wpb_events ev;
    char plain[WPB_EVENT_MAX];
    double end, t;
    size_t len, body, auth = 0;
    int64_t fresh_now = 1800000000;
    int measuring = 0, i = w->idx;

    if (webpush_vapid_new(w->vapid_key, "mailto:ops@example.com", WPB_VAPID_TTL, &v, w->err,
                          sizeof(w->err)) != 0) {
        w->failed = 1;
        pthread_barrier_wait(w->measure);
        return;
    }
    wpb_events_init(&ev, (unsigned)w->idx);
    end = clock_s(CLOCK_MONOTONIC) + o->warmup;
    for (;;) {
        t = clock_s(CLOCK_MONOTONIC);
        if (t >= end) {
            if (measuring)
                break;
            pthread_barrier_wait(w->measure);
            measuring = 1;
            w->wall = clock_s(CLOCK_MONOTONIC);
            w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID);
            end = w->wall + o->duration;
            w->messages = w->plain_bytes = w->body_bytes = w->auth_bytes = 0;
        }
        len = wpb_event_next(&ev, plain);
        /* fresh: each call a whole JWT lifetime later, so that the signer's cache never
         * answers and every message gets its own signature, through the bridge's code */
        if (o->vapid == WPB_VAPID_FRESH)
            fresh_now += WPB_VAPID_TTL;
        body = wpb_message(v, &w->subs[i % o->subs], plain, len,
                           o->vapid == WPB_VAPID_FRESH ? fresh_now : (int64_t)time(NULL), &auth,
                           w->err, sizeof(w->err));
        if (body == 0) {
            w->failed = 1;
            if (!measuring)
                pthread_barrier_wait(w->measure);
            break;
        }
        i += o->threads; /* threads walk the pool in step, never on the same subscription */
        w->messages++;
        w->plain_bytes += len;
        w->body_bytes += body;
        w->auth_bytes += auth;
    }
    w->wall = clock_s(CLOCK_MONOTONIC) - w->wall;
    w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - w->cpu_s;
    webpush_vapid_free(v);
}

/* Key generation as `openssl speed` would time it: one prepared context, keygen in a loop. */
static void run_keygen(struct worker *w)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    double end, t;
    int measuring = 0;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1) {
        snprintf(w->err, sizeof(w->err), "no P-256 key generation context");
        w->failed = 1;
        pthread_barrier_wait(w->measure);
        goto out;
    }
    end = clock_s(CLOCK_MONOTONIC) + w->o->warmup;
    for (;;) {
        t = clock_s(CLOCK_MONOTONIC);
        if (t >= end) {
            if (measuring)
                break;
            pthread_barrier_wait(w->measure);
            measuring = 1;
            w->wall = clock_s(CLOCK_MONOTONIC);
            w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID);
            end = w->wall + w->o->duration;
            w->messages = 0;
        }
        if (EVP_PKEY_keygen(ctx, &k) != 1) {
            snprintf(w->err, sizeof(w->err), "EVP_PKEY_keygen failed");
            w->failed = 1;
            if (!measuring)
                pthread_barrier_wait(w->measure);
            break;
        }
        EVP_PKEY_free(k);
        k = NULL;
        w->messages++;
    }
    w->wall = clock_s(CLOCK_MONOTONIC) - w->wall;
    w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - w->cpu_s;
out:
    EVP_PKEY_CTX_free(ctx);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    if (w->cpu >= 0) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0)
            fprintf(stderr, "wpbench: thread %d cannot run on CPU %d: %m\n", w->idx, w->cpu);
    }
    if (w->o->keygen)
        run_keygen(w);
    else
        run_messages(w);
    return NULL;
}

static void print_result(const struct wpb_opts *o, const struct worker *ws)
{
    uint64_t msgs = 0, plain = 0, body = 0, auth = 0;
    double per_s = 0, wall = 0;
    int i;

    for (i = 0; i < o->threads; i++) {
        msgs += ws[i].messages;
        plain += ws[i].plain_bytes;
        body += ws[i].body_bytes;
        auth += ws[i].auth_bytes;
        per_s += ws[i].wall > 0 ? (double)ws[i].messages / ws[i].wall : 0;
        wall = ws[i].wall > wall ? ws[i].wall : wall;
    }
    printf("{\"what\":\"%s\",\"label\":\"%s\",", o->keygen ? "keygen" : "mqpush", o->label);
    if (!o->keygen)
        printf("\"vapid\":\"%s\",\"subs\":%d,\"origins\":%d,",
               o->vapid == WPB_VAPID_FRESH ? "fresh" : "cached", o->subs, o->origins);
    printf("\"threads\":%d,\"cpus\":\"", o->threads);
    for (i = 0; i < o->ncpus; i++)
        printf("%s%d", i ? "," : "", o->cpus[i]);
    printf("\",\"duration_s\":%.3f,\"%s\":%llu,\"per_s\":%.1f,\"thread_per_s\":[", wall,
           o->keygen ? "keys" : "messages", (unsigned long long)msgs, per_s);
    for (i = 0; i < o->threads; i++)
        printf("%s%.1f", i ? "," : "", ws[i].wall > 0 ? (double)ws[i].messages / ws[i].wall : 0.0);
    /* a thread's CPU time over its wall time: below 1 when it had to share its CPU */
    printf("],\"thread_busy\":[");
    for (i = 0; i < o->threads; i++)
        printf("%s%.3f", i ? "," : "", ws[i].wall > 0 ? ws[i].cpu_s / ws[i].wall : 0.0);
    printf("]");
    if (!o->keygen && msgs > 0)
        printf(",\"plain_avg\":%.1f,\"body_avg\":%.1f,\"auth_header_avg\":%.1f",
               (double)plain / (double)msgs, (double)body / (double)msgs,
               (double)auth / (double)msgs);
    printf("}\n");
}

int main(int argc, char **argv)
{
    struct wpb_opts o;
    struct worker *ws = NULL;
    struct wpb_sub *subs = NULL;
    EVP_PKEY *vapid_key = NULL;
    pthread_barrier_t measure;
    int i, started = 0, rc = 1, failed = 0;

    i = wpb_parse_opts(argc, argv, &o);
    if (i != 0)
        return i > 0 ? 0 : 2;
    subs = wpb_subs_new(o.subs, o.origins);
    vapid_key = EVP_EC_gen("P-256");
    ws = calloc((size_t)o.threads, sizeof(*ws));
    if (subs == NULL || vapid_key == NULL || ws == NULL) {
        fprintf(stderr, "wpbench: cannot make the keys\n");
        goto out;
    }
    if (o.sample) {
        rc = wpb_write_sample(o.sample, &subs[0]) == 0 ? 0 : 1;
        goto out;
    }
    /* light but real: the layout of one body, one JWT verified, the cache doing as told */
    if (!o.keygen && wpb_check(vapid_key, &subs[0], o.vapid) != 0)
        goto out;
    if (pthread_barrier_init(&measure, NULL, (unsigned)o.threads) != 0)
        goto out;
    for (i = 0; i < o.threads; i++) {
        ws[i].idx = i;
        ws[i].cpu = o.ncpus ? o.cpus[i % o.ncpus] : -1;
        ws[i].o = &o;
        ws[i].subs = subs;
        ws[i].vapid_key = vapid_key;
        ws[i].measure = &measure;
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            /* the others wait at the barrier for a thread that never comes */
            fprintf(stderr, "wpbench: cannot start thread %d\n", i);
            exit(1);
        }
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].failed) {
            fprintf(stderr, "wpbench: thread %d: %s\n", i, ws[i].err);
            failed = 1;
        }
    }
    pthread_barrier_destroy(&measure);
    if (failed) {
        printf("{\"what\":\"%s\",\"label\":\"%s\",\"error\":\"a thread failed\"}\n",
               o.keygen ? "keygen" : "mqpush", o.label);
        goto out;
    }
    print_result(&o, ws);
    rc = 0;
out:
    free(ws);
    free(subs);
    EVP_PKEY_free(vapid_key);
    return rc;
}
