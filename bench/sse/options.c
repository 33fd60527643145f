/* sseload's command line: the shared options (loadopts.c) and --bridge-pid. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sseload.h"

enum {
    O_BRIDGE_PID = LOAD_O_OWN,
};

static const struct option long_opts[] = {
    LOAD_LONG_OPTS,
    {"bridge-pid", required_argument, NULL, O_BRIDGE_PID},
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
               "  --idle               only connect, wait for mqpush:ready on all, report RSS\n");
    load_usage_publishing(f);
    fprintf(f, "  --bridge-pid PID     read the bridge's RSS and CPU time from /proc\n"
               "  --broker-pid PID     read the broker's CPU time\n"
               "  --load-cpu N         report how busy CPU N (where the load runs) was\n"
               "  --label L            copied into the result line\n");
}

int sl_opts_parse(int argc, char **argv, struct sl_opts *o)
{
    int c, idx;
    double v = 0;

    *o = (struct sl_opts){0};
    load_opts_defaults(&o->lo, "sseload", "sseload");
    while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        int rc;

        if (c == LOAD_O_HELP) {
            usage(stdout);
            return 1;
        }
        if (c == O_BRIDGE_PID) {
            rc = load_num(&o->lo, "bridge-pid", optarg, 1, 1 << 30, &v);
            o->bridge_pid = (int)v;
        } else {
            rc = load_opts_set(&o->lo, long_opts, c, optarg);
        }
        if (rc > 0)
            usage(stderr);
        if (rc != 0)
            return -1;
    }
    if (optind < argc || o->lo.port == 0 || o->lo.path == NULL) {
        fprintf(stderr, "sseload: --port and --path are needed%s\n",
                optind < argc ? ", and no other arguments" : "");
        return -1;
    }
    return load_opts_check(&o->lo);
}
