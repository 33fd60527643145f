/* sioload's command line: the shared options (loadopts.c) and the socket.io ones. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sioload.h"

enum {
    O_NSP = LOAD_O_OWN,
    O_AUTH,
    O_EVENT,
    O_SETTLE,
    O_GC_SIGNAL,
    O_SERVER_PID,
    O_SERVER_CPU,
};

static const struct option long_opts[] = {
    LOAD_LONG_OPTS,
    {"nsp", required_argument, NULL, O_NSP},
    {"auth", required_argument, NULL, O_AUTH},
    {"event", required_argument, NULL, O_EVENT},
    {"settle", required_argument, NULL, O_SETTLE},
    {"gc-signal", no_argument, NULL, O_GC_SIGNAL},
    {"server-pid", required_argument, NULL, O_SERVER_PID},
    {"server-cpu", required_argument, NULL, O_SERVER_CPU},
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
               "  --gc-signal          send SIGUSR2 to the server before each RSS reading\n");
    load_usage_publishing(f);
    fprintf(f, "  --server-pid PID     read the server's RSS and CPU time from /proc\n"
               "  --broker-pid PID     read the broker's CPU time\n"
               "  --load-cpu N         report how busy CPU N (where the load runs) was\n"
               "  --server-cpu N       report how busy CPU N (where the server runs) was\n"
               "  --label L            copied into the result line\n");
}

/* sioload's own options. 0 when set, 1 when c is not one of them, -1 on a bad value. */
static int own_opt(struct sio_opts *o, int c, const char *arg)
{
    const char *name = load_opt_name(long_opts, c);
    double v = 0;
    int rc = 0;

    switch (c) {
    case O_NSP:
        o->nsp = arg;
        return 0;
    case O_AUTH:
        o->auth = *arg ? arg : NULL;
        return 0;
    case O_EVENT:
        o->event = arg;
        return 0;
    case O_GC_SIGNAL:
        o->gc_signal = 1;
        return 0;
    case O_SETTLE:
        return load_num(&o->lo, name, arg, 0, 60, &o->settle);
    case O_SERVER_PID:
        rc = load_num(&o->lo, name, arg, 1, 1 << 30, &v);
        o->server_pid = (int)v;
        return rc;
    case O_SERVER_CPU:
        rc = load_num(&o->lo, name, arg, 0, 4095, &v);
        o->server_cpu = (int)v;
        return rc;
    }
    return load_opts_set(&o->lo, long_opts, c, arg);
}

int sio_opts_parse(int argc, char **argv, struct sio_opts *o)
{
    int c, idx;

    *o = (struct sio_opts){
        .nsp = "/bench", .auth = "{\"stream\":\"s\"}", .event = "app:tick", .server_cpu = -1};
    load_opts_defaults(&o->lo, "sioload", "sioload");
    o->lo.path = "/socket.io/?EIO=4&transport=websocket&stream=s";
    while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        int rc;

        if (c == LOAD_O_HELP) {
            usage(stdout);
            return 1;
        }
        rc = own_opt(o, c, optarg);
        if (rc > 0)
            usage(stderr);
        if (rc != 0)
            return -1;
    }
    if (optind < argc || o->lo.port == 0) {
        fprintf(stderr, "sioload: --port is needed%s\n",
                optind < argc ? ", and no other arguments" : "");
        return -1;
    }
    if (o->nsp[0] != '/') {
        fprintf(stderr, "sioload: --nsp must start with '/'\n");
        return -1;
    }
    return load_opts_check(&o->lo);
}
