/* sioload's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sioload.h"

/* Bounds that keep a typo from exhausting the machine. */
#define MAX_CLIENTS 200000
#define MAX_SECONDS 3600.0
#define MAX_SIZE (256 * 1024)

enum {
    O_HOST = 256,
    O_PORT,
    O_PATH,
    O_NSP,
    O_AUTH,
    O_EVENT,
    O_CLIENTS,
    O_BATCH,
    O_CONNECT_TIMEOUT,
    O_IDLE,
    O_SETTLE,
    O_GC_SIGNAL,
    O_SERVER_PID,
    O_BROKER_PID,
    O_LOAD_CPU,
    O_SERVER_CPU,
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
    {"nsp", required_argument, NULL, O_NSP},
    {"auth", required_argument, NULL, O_AUTH},
    {"event", required_argument, NULL, O_EVENT},
    {"clients", required_argument, NULL, O_CLIENTS},
    {"batch", required_argument, NULL, O_BATCH},
    {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
    {"idle", no_argument, NULL, O_IDLE},
    {"settle", required_argument, NULL, O_SETTLE},
    {"gc-signal", no_argument, NULL, O_GC_SIGNAL},
    {"server-pid", required_argument, NULL, O_SERVER_PID},
    {"broker-pid", required_argument, NULL, O_BROKER_PID},
    {"load-cpu", required_argument, NULL, O_LOAD_CPU},
    {"server-cpu", required_argument, NULL, O_SERVER_CPU},
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
    fprintf(f, "usage: sioload --port P [options]\n"
               "socket.io clients (WebSocket transport, Engine.IO v4, Socket.IO v5):\n"
               "  --host ADDR          IPv4 address of the server and the broker (127.0.0.1)\n"
               "  --port P             the socket.io server's port\n"
               "  --path PATH          request target\n"
               "                       (/socket.io/?EIO=4&transport=websocket&stream=s)\n"
               "  --nsp NSP            namespace to join (/bench)\n"
               "  --auth JSON          auth object of the namespace CONNECT ({\"stream\":\"s\"})\n"
               "  --event NAME         name of the stream events (app:tick)\n"
               "  --clients N          connections (1000)\n"
               "  --batch B            most connections open and not yet joined at a time (256)\n"
               "  --connect-timeout S  give up when not all joined after S seconds (120)\n"
               "  --idle               only connect and join, report the server's RSS\n"
               "  --settle S           wait S seconds before each RSS reading (0)\n"
               "  --gc-signal          send SIGUSR2 to the server before each RSS reading\n"
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
               "  --server-pid PID     read the server's RSS and CPU time from /proc\n"
               "  --broker-pid PID     read the broker's CPU time\n"
               "  --load-cpu N         report how busy CPU N (where the load runs) was\n"
               "  --server-cpu N       report how busy CPU N (where the server runs) was\n"
               "  --label L            copied into the result line\n");
}

static int num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "sioload: --%s wants a number in [%g, %g], not '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int string_opt(struct sio_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_HOST:
        o->host = arg;
        return 1;
    case O_PATH:
        o->path = arg;
        return 1;
    case O_NSP:
        o->nsp = arg;
        return 1;
    case O_AUTH:
        o->auth = *arg ? arg : NULL;
        return 1;
    case O_EVENT:
        o->event = arg;
        return 1;
    case O_TOPIC:
        o->topic = arg;
        return 1;
    case O_USER:
        o->user = arg;
        return 1;
    case O_TOKEN:
        o->token = arg;
        return 1;
    case O_LABEL:
        o->label = arg;
        return 1;
    }
    return 0;
}

static int number_opt(struct sio_opts *o, int c, const char *name, const char *arg)
{
    double v = 0;
    int rc = 0;

    switch (c) {
    case O_PORT:
    case O_MQTT_PORT:
        rc = num(name, arg, 1, 65535, &v);
        *(c == O_PORT ? &o->port : &o->mqtt_port) = (int)v;
        break;
    case O_CLIENTS:
    case O_BATCH:
        rc = num(name, arg, 1, MAX_CLIENTS, &v);
        *(c == O_CLIENTS ? &o->clients : &o->batch) = (int)v;
        break;
    case O_SERVER_PID:
    case O_BROKER_PID:
        rc = num(name, arg, 1, 1 << 30, &v);
        *(c == O_SERVER_PID ? &o->server_pid : &o->broker_pid) = (int)v;
        break;
    case O_LOAD_CPU:
    case O_SERVER_CPU:
        rc = num(name, arg, 0, 4095, &v);
        *(c == O_LOAD_CPU ? &o->load_cpu : &o->server_cpu) = (int)v;
        break;
    case O_QOS:
        rc = num(name, arg, 0, 1, &v);
        o->qos = (int)v;
        break;
    case O_RATE:
        rc = num(name, arg, 0, 1e7, &o->rate);
        break;
    case O_WINDOW:
        rc = num(name, arg, 1, 1e6, &v);
        o->window = (int)v;
        break;
    case O_SIZE:
        rc = num(name, arg, 64, MAX_SIZE, &v);
        o->size = (size_t)v;
        break;
    case O_CONNECT_TIMEOUT:
        rc = num(name, arg, 1, MAX_SECONDS, &o->connect_timeout);
        break;
    case O_SETTLE:
        rc = num(name, arg, 0, 60, &o->settle);
        break;
    case O_WARMUP:
        rc = num(name, arg, 0, MAX_SECONDS, &o->warmup);
        break;
    case O_DURATION:
        rc = num(name, arg, 0.1, MAX_SECONDS, &o->duration);
        break;
    case O_DRAIN:
        rc = num(name, arg, 0, MAX_SECONDS, &o->drain);
        break;
    default:
        return -2;
    }
    return rc;
}

int sio_opts_parse(int argc, char **argv, struct sio_opts *o)
{
    int c, idx;

    *o = (struct sio_opts){.host = "127.0.0.1",
                           .path = "/socket.io/?EIO=4&transport=websocket&stream=s",
                           .nsp = "/bench",
                           .auth = "{\"stream\":\"s\"}",
                           .event = "app:tick",
                           .clients = 1000,
                           .batch = 256,
                           .connect_timeout = 120,
                           .load_cpu = -1,
                           .server_cpu = -1,
                           .user = "sioload",
                           .qos = 1,
                           .window = 200,
                           .size = 200,
                           .warmup = 2,
                           .duration = 10,
                           .drain = 5,
                           .label = ""};
    while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        const char *name = c >= O_HOST && c < O_HELP ? long_opts[c - O_HOST].name : "";
        int rc;

        if (c == O_HELP) {
            usage(stdout);
            return 1;
        }
        if (c == O_IDLE) {
            o->idle = 1;
            continue;
        }
        if (c == O_GC_SIGNAL) {
            o->gc_signal = 1;
            continue;
        }
        if (string_opt(o, c, optarg))
            continue;
        rc = number_opt(o, c, name, optarg);
        if (rc == -2)
            usage(stderr);
        if (rc != 0)
            return -1;
    }
    if (optind < argc || o->port == 0) {
        fprintf(stderr, "sioload: --port is needed%s\n",
                optind < argc ? ", and no other arguments" : "");
        return -1;
    }
    if (o->nsp[0] != '/') {
        fprintf(stderr, "sioload: --nsp must start with '/'\n");
        return -1;
    }
    if (!o->idle && (o->mqtt_port == 0 || o->topic == NULL)) {
        fprintf(stderr, "sioload: publishing needs --mqtt-port and --topic (or use --idle)\n");
        return -1;
    }
    return 0;
}
