/* sseload's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sseload.h"

/* Bounds that keep a typo from exhausting the machine. */
#define MAX_CLIENTS 200000
#define MAX_SECONDS 3600.0
#define MAX_SIZE (256 * 1024)

enum {
    O_HOST = 256,
    O_PORT,
    O_PATH,
    O_CLIENTS,
    O_BATCH,
    O_CONNECT_TIMEOUT,
    O_IDLE,
    O_BRIDGE_PID,
    O_BROKER_PID,
    O_LOAD_CPU,
    O_MQTT_PORT,
    O_TOPIC,
    O_USER,
    O_TOKEN,
    O_QOS,
    O_RATE,
    O_WINDOW,
    O_SIZE,
    O_WARMUP,
    O_DURATION,
    O_DRAIN,
    O_LABEL,
    O_HELP,
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"path", required_argument, NULL, O_PATH},
    {"clients", required_argument, NULL, O_CLIENTS},
    {"batch", required_argument, NULL, O_BATCH},
    {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
    {"idle", no_argument, NULL, O_IDLE},
    {"bridge-pid", required_argument, NULL, O_BRIDGE_PID},
    {"broker-pid", required_argument, NULL, O_BROKER_PID},
    {"load-cpu", required_argument, NULL, O_LOAD_CPU},
    {"mqtt-port", required_argument, NULL, O_MQTT_PORT},
    {"topic", required_argument, NULL, O_TOPIC},
    {"user", required_argument, NULL, O_USER},
    {"token", required_argument, NULL, O_TOKEN},
    {"qos", required_argument, NULL, O_QOS},
    {"rate", required_argument, NULL, O_RATE},
    {"window", required_argument, NULL, O_WINDOW},
    {"size", required_argument, NULL, O_SIZE},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"duration", required_argument, NULL, O_DURATION},
    {"drain", required_argument, NULL, O_DRAIN},
    {"label", required_argument, NULL, O_LABEL},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sseload --port P --path PATH [options]\n"
               "SSE streams (the bridge):\n"
               "  --host ADDR          numeric address of the bridge and the broker (127.0.0.1)\n"
               "  --port P             the bridge's port\n"
               "  --path PATH          the stream, e.g. /stream/v1/streams/s?tenant=t\n"
               "  --clients N          SSE connections (1000)\n"
               "  --batch B            most connections open and not yet ready at a time (256)\n"
               "  --connect-timeout S  give up when not all are ready after S seconds (120)\n"
               "  --idle               only connect, wait for mqpush:ready on all, report RSS\n"
               "Publishing (MQTT 5, libmosquitto):\n"
               "  --mqtt-port P        the broker's port\n"
               "  --topic T            <tenant>/events/<namespace>/<name>\n"
               "  --user U --token T   username (ignored by the plugin) and publisher token\n"
               "  --qos Q              0 or 1 (1)\n"
               "  --rate R             events/s; 0 = flat out within --window (0)\n"
               "  --window W           flat out: most events the slowest client may lag (200)\n"
               "  --size B             payload bytes (200)\n"
               "Measuring:\n"
               "  --warmup S --duration S  unmeasured, then measured seconds (2, 10)\n"
               "  --drain S            after publishing, wait up to S s for the rest (5)\n"
               "  --bridge-pid PID     read the bridge's RSS and CPU time from /proc\n"
               "  --broker-pid PID     read the broker's CPU time\n"
               "  --load-cpu N         report how busy CPU N (where the load runs) was\n"
               "  --label L            copied into the result line\n");
}

static int num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "sseload: --%s wants a number in [%g, %g], not '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sl_opts_parse(int argc, char **argv, struct sl_opts *o)
{
    int c, idx;
    double v = 0;

    *o = (struct sl_opts){.host = "127.0.0.1",
                          .clients = 1000,
                          .batch = 256,
                          .connect_timeout = 120,
                          .load_cpu = -1,
                          .user = "sseload",
                          .qos = 1,
                          .window = 200,
                          .size = 200,
                          .warmup = 2,
                          .duration = 10,
                          .drain = 5,
                          .label = ""};
    while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        const char *name = c >= O_HOST && c < O_HELP ? long_opts[c - O_HOST].name : "";
        int rc = 0;

        switch (c) {
        case O_HOST:
            o->host = optarg;
            break;
        case O_PATH:
            o->path = optarg;
            break;
        case O_TOPIC:
            o->topic = optarg;
            break;
        case O_USER:
            o->user = optarg;
            break;
        case O_TOKEN:
            o->token = optarg;
            break;
        case O_LABEL:
            o->label = optarg;
            break;
        case O_IDLE:
            o->idle = 1;
            break;
        case O_HELP:
            usage(stdout);
            return 1;
        case O_PORT:
        case O_MQTT_PORT:
            rc = num(name, optarg, 1, 65535, &v);
            *(c == O_PORT ? &o->port : &o->mqtt_port) = (int)v;
            break;
        case O_CLIENTS:
        case O_BATCH:
            rc = num(name, optarg, 1, MAX_CLIENTS, &v);
            *(c == O_CLIENTS ? &o->clients : &o->batch) = (int)v;
            break;
        case O_BRIDGE_PID:
        case O_BROKER_PID:
            rc = num(name, optarg, 1, 1 << 30, &v);
            *(c == O_BRIDGE_PID ? &o->bridge_pid : &o->broker_pid) = (int)v;
            break;
        case O_LOAD_CPU:
            rc = num(name, optarg, 0, 4095, &v);
            o->load_cpu = (int)v;
            break;
        case O_QOS:
            rc = num(name, optarg, 0, 1, &v);
            o->qos = (int)v;
            break;
        case O_RATE:
            rc = num(name, optarg, 0, 1e7, &o->rate);
            break;
        case O_WINDOW:
            rc = num(name, optarg, 1, 1e6, &v);
            o->window = (int)v;
            break;
        case O_SIZE:
            rc = num(name, optarg, 64, MAX_SIZE, &v);
            o->size = (size_t)v;
            break;
        case O_CONNECT_TIMEOUT:
            rc = num(name, optarg, 1, MAX_SECONDS, &o->connect_timeout);
            break;
        case O_WARMUP:
            rc = num(name, optarg, 0, MAX_SECONDS, &o->warmup);
            break;
        case O_DURATION:
            rc = num(name, optarg, 0.1, MAX_SECONDS, &o->duration);
            break;
        case O_DRAIN:
            rc = num(name, optarg, 0, MAX_SECONDS, &o->drain);
            break;
        default:
            usage(stderr);
            return -1;
        }
        if (rc != 0)
            return -1;
    }
    if (optind < argc || o->port == 0 || o->path == NULL) {
        fprintf(stderr, "sseload: --port and --path are needed%s\n",
                optind < argc ? ", and no other arguments" : "");
        return -1;
    }
    if (!o->idle && (o->mqtt_port == 0 || o->topic == NULL)) {
        fprintf(stderr, "sseload: publishing needs --mqtt-port and --topic (or use --idle)\n");
        return -1;
    }
    return 0;
}
