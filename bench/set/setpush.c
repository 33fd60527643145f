/*
 * setpush: the end-to-end phase of the SET benchmark. It publishes events flat out into
 * Mosquitto with the mqpush plugin (bench/sse/publisher.c), the bridge's SSF transmitter makes,
 * signs and pushes one SET per event to one RFC 8935 push stream, and setpush's own receiver
 * (setrx.c) takes them on 127.0.0.1. The publisher stays at most --window events ahead of the
 * SETs received, below the bridge's max_pending, so nothing is dropped for being late.
 * Measured over --duration after --warmup: SETs received per second, the bridge's CPU time per
 * SET (/proc/<pid>/stat), and after a drain that every event arrived, once (by jti).
 * Prints one JSON line; bench/set/run.sh starts the broker and the bridge and creates the stream.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwk.h"
#include "proc.h"
#include "publisher.h"
#include "setrx.h"

struct opts {
    int port, mqtt_port, qos, bridge_pid;
    const char *topic, *token, *type, *aud, *jwks, *label;
    double warmup, duration, drain;
    unsigned window, verify_every;
    size_t size;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

    nanosleep(&ts, NULL);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option long_opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"mqtt-port", required_argument, NULL, 'm'},
        {"topic", required_argument, NULL, 't'},
        {"token", required_argument, NULL, 'k'},
        {"qos", required_argument, NULL, 'q'},
        {"size", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'W'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"drain", required_argument, NULL, 'D'},
        {"bridge-pid", required_argument, NULL, 'b'},
        {"type", required_argument, NULL, 'T'},
        {"aud", required_argument, NULL, 'a'},
        {"jwks", required_argument, NULL, 'j'},
        {"verify-every", required_argument, NULL, 'v'},
        {"label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct opts){.qos = 1,
                       .warmup = 1,
                       .duration = 5,
                       .drain = 10,
                       .window = 500,
                       .verify_every = 100,
                       .size = 200,
                       .label = ""};
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'm':
            o->mqtt_port = atoi(optarg);
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'k':
            o->token = optarg;
            break;
        case 'q':
            o->qos = atoi(optarg);
            break;
        case 's':
            o->size = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'W':
            o->window = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'w':
            o->warmup = strtod(optarg, NULL);
            break;
        case 'd':
            o->duration = strtod(optarg, NULL);
            break;
        case 'D':
            o->drain = strtod(optarg, NULL);
            break;
        case 'b':
            o->bridge_pid = atoi(optarg);
            break;
        case 'T':
            o->type = optarg;
            break;
        case 'a':
            o->aud = optarg;
            break;
        case 'j':
            o->jwks = optarg;
            break;
        case 'v':
            o->verify_every = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'l':
            o->label = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind < argc || o->mqtt_port <= 0 || !o->topic || !o->token || !o->type || !o->aud ||
        o->window == 0 || o->duration <= 0 || o->bridge_pid <= 0) {
        fprintf(stderr, "usage: setpush --port P --mqtt-port P --topic T --token JWT --type URI\n"
                        "  --aud AUD --bridge-pid PID [--jwks FILE] [--verify-every N] [--qos Q]\n"
                        "  [--size B] [--window N] [--warmup S] [--duration S] [--drain S]\n"
                        "  [--label L]\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct mqp_jwks *jwks = NULL;
    struct setrx *rx = NULL;
    struct publisher *pub = NULL;
    struct setrx_stats s0, s1, sf;
    struct pub_stats ps;
    double t0, t1, c0, c1, deadline;
    char err[256];
    int rc = 1;

    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    if (o.jwks && mqp_jwks_load_file(o.jwks, &jwks, err, sizeof(err)) != 0) {
        fprintf(stderr, "setpush: %s: %s\n", o.jwks, err);
        goto out;
    }
    struct setrx_config rc_cfg = {.port = o.port,
                                  .type = o.type,
                                  .audience = o.aud,
                                  .jwks = jwks,
                                  .verify_every = o.verify_every};
    struct pub_config pc = {.host = "127.0.0.1",
                            .port = o.mqtt_port,
                            .topic = o.topic,
                            .username = "bench-publisher",
                            .password = o.token,
                            .qos = o.qos,
                            .size = o.size,
                            .window = o.window};

    if (setrx_start(&rc_cfg, &rx, err, sizeof(err)) != 0 ||
        publisher_connect(&pc, &pub, err, sizeof(err)) != 0) {
        fprintf(stderr, "setpush: %s\n", err);
        goto out;
    }
    if (publisher_start(pub, setrx_progress(rx)) != 0) {
        fprintf(stderr, "setpush: cannot start the publisher\n");
        goto out;
    }
    nap(o.warmup);
    setrx_stats(rx, &s0);
    c0 = proc_cpu_seconds(o.bridge_pid);
    t0 = now_s();
    nap(o.duration);
    setrx_stats(rx, &s1);
    c1 = proc_cpu_seconds(o.bridge_pid);
    t1 = now_s();
    publisher_halt(pub);
    publisher_stats(pub, &ps);
    /* the SETs of every event published: the receiver has them all, or the drain runs out */
    deadline = now_s() + o.drain;
    do {
        setrx_stats(rx, &sf);
        if (sf.unique >= ps.published)
            break;
        nap(0.02);
    } while (now_s() < deadline);
    nap(0.2); /* a late duplicate would come now */
    setrx_stats(rx, &sf);
    publisher_stats(pub, &ps);
    if (c0 < 0 || c1 < 0) {
        printf("{\"what\":\"push\",\"label\":\"%s\",\"error\":\"no bridge process %d\"}\n", o.label,
               o.bridge_pid);
        goto out;
    }
    {
        double wall = t1 - t0, sets = (double)(s1.unique - s0.unique), cpu = c1 - c0;

        printf("{\"what\":\"push\",\"label\":\"%s\",\"window\":%u,\"qos\":%d,\"size\":%zu,"
               "\"duration_s\":%.3f,\"sets_in_window\":%.0f,\"per_s\":%.1f,"
               "\"bridge_cpu_s\":%.3f,\"bridge_busy\":%.3f,\"cpu_us_per_set\":%.1f,"
               "\"published\":%llu,\"acked\":%llu,\"refused\":%llu,\"received\":%llu,"
               "\"lost\":%lld,\"duplicates\":%llu,\"other_sets\":%llu,\"malformed\":%llu,"
               "\"verified\":%llu,\"verify_failed\":%llu,\"set_avg\":%.1f,\"failed\":%d}\n",
               o.label, o.window, o.qos, o.size, wall, sets, wall > 0 ? sets / wall : 0.0, cpu,
               wall > 0 ? cpu / wall : 0.0, sets > 0 ? cpu * 1e6 / sets : 0.0,
               (unsigned long long)ps.published, (unsigned long long)ps.acked,
               (unsigned long long)ps.refused, (unsigned long long)sf.unique,
               (long long)ps.published - (long long)sf.unique, (unsigned long long)sf.duplicates,
               (unsigned long long)sf.other, (unsigned long long)sf.malformed,
               (unsigned long long)sf.verified, (unsigned long long)sf.verify_failed,
               sf.sets ? (double)sf.bytes / (double)sf.sets : 0.0, ps.failed);
    }
    rc = 0;
out:
    publisher_free(pub);
    setrx_free(rx);
    mqp_jwks_free(jwks);
    return rc;
}
