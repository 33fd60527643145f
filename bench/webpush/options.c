/* wpbench's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wpbench.h"

#define MAX_SECONDS 3600.0

enum {
    O_THREADS = 256,
    O_CPUS,
    O_DURATION,
    O_WARMUP,
    O_VAPID,
    O_SUBS,
    O_ORIGINS,
    O_KEYGEN,
    O_SAMPLE,
    O_LABEL,
    O_HELP,
};

static const struct option long_opts[] = {
    {"threads", required_argument, NULL, O_THREADS},
    {"cpus", required_argument, NULL, O_CPUS},
    {"duration", required_argument, NULL, O_DURATION},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"vapid", required_argument, NULL, O_VAPID},
    {"subs", required_argument, NULL, O_SUBS},
    {"origins", required_argument, NULL, O_ORIGINS},
    {"keygen", no_argument, NULL, O_KEYGEN},
    {"sample", required_argument, NULL, O_SAMPLE},
    {"label", required_argument, NULL, O_LABEL},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wpbench [options]\n"
            "Encrypts (RFC 8291, aes128gcm) and signs (VAPID, RFC 8292) Web Push messages with\n"
            "the bridge's code, flat out, and prints one JSON line.\n"
            "  --threads N     threads, each preparing messages on its own (1)\n"
            "  --cpus LIST     pin thread i to the i-th CPU of LIST (\"0,1\"), round robin\n"
            "  --duration S    seconds measured (5)\n"
            "  --warmup S      seconds run before measuring (0.5)\n"
            "  --vapid MODE    cached (default): one JWT per push service, reused as the\n"
            "                  bridge does; fresh: a new ES256 signature per message, as npm\n"
            "                  web-push does\n"
            "  --subs N        subscriptions to send to, round robin (64)\n"
            "  --origins N     push services among their endpoints, 1-5 (5)\n"
            "  --keygen        measure OpenSSL's P-256 key generation (EVP_PKEY_keygen) instead\n"
            "  --sample FILE   write one encrypted message and the keys to decrypt it, and exit\n"
            "  --label L       copied into the result line\n");
}

static int number(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(s, &end);

    if (end == s || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "wpbench: --%s wants a number from %g to %g, not '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = x;
    return 0;
}

static int cpu_list(const char *s, struct wpb_opts *o)
{
    char *end;
    long c;

    o->ncpus = 0;
    for (;;) {
        c = strtol(s, &end, 10);
        if (end == s || c < 0 || c > 4095 || o->ncpus == WPB_MAX_THREADS) {
            fprintf(stderr, "wpbench: --cpus wants CPU numbers separated by commas\n");
            return -1;
        }
        o->cpus[o->ncpus++] = (int)c;
        if (*end == '\0')
            return 0;
        if (*end != ',') {
            fprintf(stderr, "wpbench: --cpus wants CPU numbers separated by commas\n");
            return -1;
        }
        s = end + 1;
    }
}

int wpb_parse_opts(int argc, char **argv, struct wpb_opts *o)
{
    double x;
    int c;

    memset(o, 0, sizeof(*o));
    o->threads = 1;
    o->duration = 5;
    o->warmup = 0.5;
    o->vapid = WPB_VAPID_CACHED;
    o->subs = 64;
    o->origins = 5;
    o->label = "";
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case O_THREADS:
            if (number("threads", optarg, 1, WPB_MAX_THREADS, &x) != 0)
                return -1;
            o->threads = (int)x;
            break;
        case O_CPUS:
            if (cpu_list(optarg, o) != 0)
                return -1;
            break;
        case O_DURATION:
            if (number("duration", optarg, 0.1, MAX_SECONDS, &o->duration) != 0)
                return -1;
            break;
        case O_WARMUP:
            if (number("warmup", optarg, 0, MAX_SECONDS, &o->warmup) != 0)
                return -1;
            break;
        case O_VAPID:
            if (strcmp(optarg, "cached") == 0) {
                o->vapid = WPB_VAPID_CACHED;
            } else if (strcmp(optarg, "fresh") == 0) {
                o->vapid = WPB_VAPID_FRESH;
            } else {
                fprintf(stderr, "wpbench: --vapid is 'cached' or 'fresh'\n");
                return -1;
            }
            break;
        case O_SUBS:
            if (number("subs", optarg, 1, WPB_MAX_SUBS, &x) != 0)
                return -1;
            o->subs = (int)x;
            break;
        case O_ORIGINS:
            if (number("origins", optarg, 1, 5, &x) != 0)
                return -1;
            o->origins = (int)x;
            break;
        case O_KEYGEN:
            o->keygen = 1;
            break;
        case O_SAMPLE:
            o->sample = optarg;
            break;
        case O_LABEL:
            o->label = optarg;
            break;
        case O_HELP:
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wpbench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}
