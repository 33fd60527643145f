/*
 * setbench: how many Security Event Tokens the bridge's SSF transmitter code builds and signs
 * per second (bridge/ssf/set_make.c: ssf_set_make(), ssf_set_sign() over core's JWS), on N
 * threads at once, the way the bridge signs on libuv's thread pool. Per SET: a new stream
 * event, parsed, its subject and event claims, the claims as text, an ES256 signature.
 * Before measuring, one SET is checked with the bridge's receiver code (bridge/ssf/set.c) and
 * core's JWKS reader. Prints one JSON line; bench/set/run.sh puts it beside npm jose and
 * `openssl speed ecdsap256`.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/ec.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwk.h"
#include "setbench.h"
#include "ssf/set.h"

#define MAX_THREADS 64

struct opts {
    int threads;
    int cpus[MAX_THREADS]; /* thread i runs on cpus[i % ncpus]; ncpus 0: not pinned */
    int ncpus;
    double duration, warmup;
    const char *sample; /* write one SET and the JWKS that verifies it, then exit */
    const char *label;
    int sign_only; /* sign claims built beforehand, as the bridge signs what its outbox keeps */
};

struct worker {
    pthread_t tid;
    int idx, cpu;
    const struct opts *o;
    EVP_PKEY *key;
    const char *kid;
    pthread_barrier_t *measure; /* all threads measure the same window */
    char *claims[SETB_CLAIMS];  /* --sign-only: claims text made before measuring */
    uint64_t sets, set_bytes, event_bytes;
    double wall, cpu_s;
    int failed;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct setb_events ev;
    char event[SETB_EVENT_MAX];
    double end, t;
    int measuring = 0;

    if (w->cpu >= 0) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0)
            fprintf(stderr, "setbench: thread %d cannot run on CPU %d: %m\n", w->idx, w->cpu);
    }
    setb_events_init(&ev, (unsigned)w->idx);
    for (int i = 0; w->o->sign_only && i < SETB_CLAIMS; i++) {
        setb_event_next(&ev, event);
        w->claims[i] = setb_claims_from_event(event, (int64_t)time(NULL));
        if (w->claims[i] == NULL) {
            w->failed = 1;
            pthread_barrier_wait(w->measure);
            return NULL;
        }
    }
    end = clock_s(CLOCK_MONOTONIC) + w->o->warmup;
    for (;;) {
        size_t len;
        char *jws;

        t = clock_s(CLOCK_MONOTONIC);
        if (t >= end) {
            if (measuring)
                break;
            pthread_barrier_wait(w->measure);
            measuring = 1;
            w->wall = clock_s(CLOCK_MONOTONIC);
            w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID);
            end = w->wall + w->o->duration;
            w->sets = w->set_bytes = w->event_bytes = 0;
        }
        len = setb_event_next(&ev, event);
        jws = w->o->sign_only ? setb_sign_claims(w->claims[w->sets % SETB_CLAIMS], w->key, w->kid)
                              : setb_set_from_event(event, w->key, w->kid, (int64_t)time(NULL));
        if (jws == NULL) {
            w->failed = 1;
            if (!measuring)
                pthread_barrier_wait(w->measure);
            break;
        }
        w->sets++;
        w->event_bytes += len;
        w->set_bytes += strlen(jws);
        free(jws);
    }
    w->wall = clock_s(CLOCK_MONOTONIC) - w->wall;
    w->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - w->cpu_s;
    return NULL;
}

/* The public key as a JWKS ({"keys": [jwk]}). Caller frees with json_object_put(). */
static json_object *jwks_of(EVP_PKEY *key)
{
    json_object *jwks = json_object_new_object(), *keys = json_object_new_array();
    json_object *jwk = mqp_jwk_from_pkey(key);

    if (jwks == NULL || keys == NULL || jwk == NULL) {
        json_object_put(jwks);
        json_object_put(keys);
        json_object_put(jwk);
        return NULL;
    }
    json_object_array_add(keys, jwk);
    json_object_object_add(jwks, "keys", keys);
    return jwks;
}

/* One SET through the checks a push receiver makes (RFC 8935 section 2): its shape, the
 * signature against the JWKS, the audience. Returns 0, or -1 with a message on stderr. */
static int check_one(EVP_PKEY *key, const char *kid, json_object *jwks_doc)
{
    struct setb_events ev;
    struct mqp_jwks *jwks = NULL;
    struct ssf_set set;
    enum ssf_msg why = SSF_MSG_NONE;
    enum ssf_err e = SSF_INVALID_REQUEST;
    char event[SETB_EVENT_MAX], err[200];
    char *jws = NULL;
    int rc = -1;

    memset(&set, 0, sizeof(set));
    setb_events_init(&ev, 99);
    setb_event_next(&ev, event);
    jws = setb_set_from_event(event, key, kid, (int64_t)time(NULL));
    if (jws == NULL || mqp_jwks_parse(jwks_doc, &jwks, err, sizeof(err)) != 0) {
        fprintf(stderr, "setbench: cannot sign a SET or read its JWKS\n");
        goto out;
    }
    e = ssf_set_parse(jws, strlen(jws), &set, &why);
    if (e == SSF_OK)
        e = ssf_set_verify(&set, jwks, SETB_AUD, (int64_t)time(NULL), &why);
    if (e != SSF_OK || strcmp(set.type, SETB_TYPE) != 0) {
        fprintf(stderr, "setbench: the SET does not verify: %s (message %d)\n",
                ssf_err_code(e) ? ssf_err_code(e) : "wrong event type", (int)why);
        goto out;
    }
    rc = 0;
out:
    ssf_set_clear(&set);
    mqp_jwks_free(jwks);
    free(jws);
    return rc;
}

/* {"set": SET, "jwks": {...}, "aud", "iss"}: for the peer to verify with jose. */
static int write_sample(const char *path, EVP_PKEY *key, const char *kid, json_object *jwks)
{
    struct setb_events ev;
    char event[SETB_EVENT_MAX];
    char *jws;
    json_object *o = json_object_new_object();
    FILE *f = NULL;
    int rc = -1;

    setb_events_init(&ev, 7);
    setb_event_next(&ev, event);
    jws = setb_set_from_event(event, key, kid, (int64_t)time(NULL));
    if (jws == NULL || o == NULL || (f = fopen(path, "w")) == NULL)
        goto out;
    json_object_object_add(o, "set", json_object_new_string(jws));
    json_object_object_add(o, "jwks", json_object_get(jwks));
    json_object_object_add(o, "iss", json_object_new_string(SETB_ISS));
    json_object_object_add(o, "aud", json_object_new_string(SETB_AUD));
    json_object_object_add(o, "event", json_tokener_parse(event));
    if (fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), f) >= 0)
        rc = 0;
out:
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "setbench: cannot write %s\n", path);
    json_object_put(o);
    free(jws);
    return rc;
}

static void print_result(const struct opts *o, const struct worker *ws)
{
    uint64_t sets = 0, bytes = 0, ev_bytes = 0;
    double per_s = 0, wall = 0;
    int i;

    for (i = 0; i < o->threads; i++) {
        sets += ws[i].sets;
        bytes += ws[i].set_bytes;
        ev_bytes += ws[i].event_bytes;
        per_s += ws[i].wall > 0 ? (double)ws[i].sets / ws[i].wall : 0;
        wall = ws[i].wall > wall ? ws[i].wall : wall;
    }
    printf("{\"what\":\"mqpush\",\"label\":\"%s\",\"alg\":\"ES256\",\"threads\":%d,\"cpus\":\"",
           o->label, o->threads);
    for (i = 0; i < o->ncpus; i++)
        printf("%s%d", i ? "," : "", o->cpus[i]);
    printf("\",\"duration_s\":%.3f,\"sets\":%llu,\"per_s\":%.1f,\"thread_busy\":[", wall,
           (unsigned long long)sets, per_s);
    /* a thread's CPU time over its wall time: below 1 when it had to share its CPU */
    for (i = 0; i < o->threads; i++)
        printf("%s%.3f", i ? "," : "", ws[i].wall > 0 ? ws[i].cpu_s / ws[i].wall : 0.0);
    printf("]");
    if (sets > 0)
        printf(",\"event_avg\":%.1f,\"set_avg\":%.1f", (double)ev_bytes / (double)sets,
               (double)bytes / (double)sets);
    printf("}\n");
}

static int number(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(s, &end);

    if (end == s || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "setbench: --%s wants a number from %g to %g, not '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = x;
    return 0;
}

static int cpu_list(const char *s, struct opts *o)
{
    char *end;
    long c;

    for (o->ncpus = 0;; s = end + 1) {
        c = strtol(s, &end, 10);
        if (end == s || c < 0 || c > 4095 || o->ncpus == MAX_THREADS ||
            (*end != '\0' && *end != ',')) {
            fprintf(stderr, "setbench: --cpus wants CPU numbers separated by commas\n");
            return -1;
        }
        o->cpus[o->ncpus++] = (int)c;
        if (*end == '\0')
            return 0;
    }
}

/* Returns 0, 1 after --help, or -1 after a message on stderr. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option long_opts[] = {
        {"threads", required_argument, NULL, 't'},
        {"cpus", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"sample", required_argument, NULL, 's'},
        {"label", required_argument, NULL, 'l'},
        {"sign-only", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double x;
    int c;

    memset(o, 0, sizeof(*o));
    o->threads = 1;
    o->duration = 5;
    o->warmup = 0.5;
    o->label = "";
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (number("threads", optarg, 1, MAX_THREADS, &x) != 0)
                return -1;
            o->threads = (int)x;
            break;
        case 'c':
            if (cpu_list(optarg, o) != 0)
                return -1;
            break;
        case 'd':
            if (number("duration", optarg, 0.1, 3600, &o->duration) != 0)
                return -1;
            break;
        case 'w':
            if (number("warmup", optarg, 0, 3600, &o->warmup) != 0)
                return -1;
            break;
        case 's':
            o->sample = optarg;
            break;
        case 'S':
            o->sign_only = 1;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'h':
            printf("usage: setbench [--threads N] [--cpus LIST] [--duration S] [--warmup S]\n"
                   "                [--label L] [--sample FILE] [--sign-only]\n"
                   "Builds and signs (ES256) SETs with the bridge's SSF transmitter code, flat\n"
                   "out on N threads (thread i pinned to the i-th CPU of LIST), and prints one\n"
                   "JSON line. --sample writes one SET with its JWKS and exits.\n");
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "setbench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct worker *ws = NULL;
    EVP_PKEY *key = NULL;
    json_object *jwks = NULL;
    char *kid = NULL;
    pthread_barrier_t measure;
    int i, rc = 1, failed = 0;

    i = parse_opts(argc, argv, &o);
    if (i != 0)
        return i > 0 ? 0 : 2;
    key = EVP_EC_gen("P-256");
    kid = key ? mqp_jwk_thumbprint(key) : NULL;
    jwks = key ? jwks_of(key) : NULL;
    ws = calloc((size_t)o.threads, sizeof(*ws));
    if (kid == NULL || jwks == NULL || ws == NULL) {
        fprintf(stderr, "setbench: cannot make the key\n");
        goto out;
    }
    if (o.sample) {
        rc = write_sample(o.sample, key, kid, jwks) == 0 ? 0 : 1;
        goto out;
    }
    if (check_one(key, kid, jwks) != 0 ||
        pthread_barrier_init(&measure, NULL, (unsigned)o.threads) != 0)
        goto out;
    for (i = 0; i < o.threads; i++) {
        ws[i] = (struct worker){.idx = i,
                                .cpu = o.ncpus ? o.cpus[i % o.ncpus] : -1,
                                .o = &o,
                                .key = key,
                                .kid = kid,
                                .measure = &measure};
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            /* the others wait at the barrier for a thread that never comes */
            fprintf(stderr, "setbench: cannot start thread %d\n", i);
            exit(1);
        }
    }
    for (i = 0; i < o.threads; i++) {
        pthread_join(ws[i].tid, NULL);
        failed |= ws[i].failed;
        for (int k = 0; k < SETB_CLAIMS; k++)
            free(ws[i].claims[k]);
    }
    pthread_barrier_destroy(&measure);
    if (failed) {
        printf("{\"what\":\"mqpush\",\"label\":\"%s\",\"error\":\"a SET could not be signed\"}\n",
               o.label);
        goto out;
    }
    print_result(&o, ws);
    rc = 0;
out:
    free(ws);
    free(kid);
    json_object_put(jwks);
    EVP_PKEY_free(key);
    return rc;
}
