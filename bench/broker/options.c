#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds that keep a typo from exhausting the machine. */
#define MAX_CLIENTS 100000
#define MAX_SECONDS 3600.0

enum {
    O_HOST = 256,
    O_PORT,
    O_PUBS,
    O_SUBS,
    O_IDLE,
    O_QOS,
    O_SUB_QOS,
    O_RATE,
    O_WARMUP,
    O_DURATION,
    O_DRAIN,
    O_SETTLE,
    O_PHASE,
    O_PUB_TOPIC,
    O_SUB_TOPIC,
    O_COPIES,
    O_PUB_USER,
    O_PUB_PASS,
    O_SUB_USER,
    O_SUB_PASS,
    O_PAYLOAD,
    O_SIZE,
    O_WINDOW,
    O_INFLIGHT,
    O_CONNECT_BATCH,
    O_IDLE_SUBSCRIBE,
    O_ID_PREFIX,
    O_LABEL,
    O_BROKER_PID,
    O_BROKER_CPU,
    O_FREE_PORT,
    O_HELP,
};

static const struct option long_opts[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"pubs", required_argument, NULL, O_PUBS},
    {"subs", required_argument, NULL, O_SUBS},
    {"idle", required_argument, NULL, O_IDLE},
    {"qos", required_argument, NULL, O_QOS},
    {"sub-qos", required_argument, NULL, O_SUB_QOS},
    {"rate", required_argument, NULL, O_RATE},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"duration", required_argument, NULL, O_DURATION},
    {"drain", required_argument, NULL, O_DRAIN},
    {"settle", required_argument, NULL, O_SETTLE},
    {"phase", required_argument, NULL, O_PHASE},
    {"pub-topic", required_argument, NULL, O_PUB_TOPIC},
    {"sub-topic", required_argument, NULL, O_SUB_TOPIC},
    {"copies", required_argument, NULL, O_COPIES},
    {"pub-user", required_argument, NULL, O_PUB_USER},
    {"pub-pass", required_argument, NULL, O_PUB_PASS},
    {"sub-user", required_argument, NULL, O_SUB_USER},
    {"sub-pass", required_argument, NULL, O_SUB_PASS},
    {"payload", required_argument, NULL, O_PAYLOAD},
    {"size", required_argument, NULL, O_SIZE},
    {"window", required_argument, NULL, O_WINDOW},
    {"inflight", required_argument, NULL, O_INFLIGHT},
    {"connect-batch", required_argument, NULL, O_CONNECT_BATCH},
    {"idle-subscribe", no_argument, NULL, O_IDLE_SUBSCRIBE},
    {"id-prefix", required_argument, NULL, O_ID_PREFIX},
    {"label", required_argument, NULL, O_LABEL},
    {"broker-pid", required_argument, NULL, O_BROKER_PID},
    {"broker-cpu", required_argument, NULL, O_BROKER_CPU},
    {"free-port", no_argument, NULL, O_FREE_PORT},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fputs("usage: mqload [options]\n"
          "MQTT 5 load client: publishers, subscribers and idle clients in one thread.\n"
          "Prints one JSON line of results on stdout.\n\n"
          "  --host ADDR          numeric broker address (127.0.0.1)\n"
          "  --port N             broker port (1883)\n"
          "  --pubs N             publishers (1)\n"
          "  --subs N             subscribers (1)\n"
          "  --idle N             idle clients that only connect (0)\n"
          "  --idle-subscribe     idle clients also subscribe to the --sub-topic filters\n"
          "  --qos 0|1            QoS of publishes (1)\n"
          "  --sub-qos 0|1        QoS of subscriptions (same as --qos)\n"
          "  --rate R             events/s over all publishers; 0 = saturate (0)\n"
          "  --warmup S           seconds before measuring (1)\n"
          "  --duration S         seconds measured (10)\n"
          "  --drain S            seconds allowed for late deliveries (3)\n"
          "  --settle S           idle runs: seconds before reading broker RSS (2)\n"
          "  --phase S            rate mode: seconds before the first send (0), to keep\n"
          "                       runs against several brokers from sending at once\n"
          "  --pub-topic T        topic publishers write\n"
          "  --sub-topic F        filter every subscriber subscribes to (repeatable)\n"
          "  --copies K           deliveries per event per subscriber (number of filters)\n"
          "  --pub-user U --pub-pass P   publisher credentials (a token is a password)\n"
          "  --sub-user U --sub-pass P   subscriber and idle client credentials\n"
          "  --payload TEMPLATE   %T = send timestamp token, %P = padding, %% = '%'\n"
          "                       (" OPT_DEFAULT_PAYLOAD ")\n"
          "  --size B             pad the payload to B bytes with %P (0 = no padding)\n"
          "  --window W           saturation: copies a subscriber may be behind (400)\n"
          "  --inflight N         unacknowledged QoS 1 publishes per publisher (20)\n"
          "  --connect-batch N    connection handshakes in progress at once (100)\n"
          "  --id-prefix S        client id prefix (mqload-<pid>)\n"
          "  --label S            copied into the result line\n"
          "  --broker-pid PID     report the broker's CPU use and RSS\n"
          "  --broker-cpu N       the CPU the broker is pinned to: report how busy it was\n"
          "  --free-port          print a free TCP port on --host and exit\n",
          f);
}

static int parse_size(const char *arg, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_seconds(const char *arg, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > MAX_SECONDS)
        return -1;
    *out = v;
    return 0;
}

static int add_sub_topic(struct options *o, const char *t)
{
    const char **p = realloc(o->sub_topics, (o->n_sub_topics + 1) * sizeof(*p));

    if (!p)
        return -1;
    p[o->n_sub_topics++] = t;
    o->sub_topics = p;
    return 0;
}

/* One option; returns 0, or -1 with a message printed. */
static int apply(struct options *o, int c, const char *arg)
{
    size_t v = 0;
    int bad = 0;

    switch (c) {
    case O_HOST:
        o->host = arg;
        break;
    case O_PORT:
        bad = parse_size(arg, 65535, &v) || v == 0;
        o->port = (int)v;
        break;
    case O_PUBS:
        bad = parse_size(arg, MAX_CLIENTS, &o->pubs);
        break;
    case O_SUBS:
        bad = parse_size(arg, MAX_CLIENTS, &o->subs);
        break;
    case O_IDLE:
        bad = parse_size(arg, MAX_CLIENTS, &o->idle);
        break;
    case O_QOS:
        bad = parse_size(arg, 1, &v);
        o->qos = (int)v;
        break;
    case O_SUB_QOS:
        bad = parse_size(arg, 1, &v);
        o->sub_qos = (int)v;
        break;
    case O_RATE:
        bad = parse_seconds(arg, &o->rate) || o->rate > 1e7;
        break;
    case O_WARMUP:
        bad = parse_seconds(arg, &o->warmup);
        break;
    case O_DURATION:
        bad = parse_seconds(arg, &o->duration) || o->duration <= 0;
        break;
    case O_DRAIN:
        bad = parse_seconds(arg, &o->drain);
        break;
    case O_SETTLE:
        bad = parse_seconds(arg, &o->settle);
        break;
    case O_PHASE:
        bad = parse_seconds(arg, &o->phase);
        break;
    case O_PUB_TOPIC:
        o->pub_topic = arg;
        break;
    case O_SUB_TOPIC:
        bad = add_sub_topic(o, arg);
        break;
    case O_COPIES:
        bad = parse_size(arg, 1000, &o->copies);
        break;
    case O_PUB_USER:
        o->pub_user = arg;
        break;
    case O_PUB_PASS:
        o->pub_pass = arg;
        break;
    case O_SUB_USER:
        o->sub_user = arg;
        break;
    case O_SUB_PASS:
        o->sub_pass = arg;
        break;
    case O_PAYLOAD:
        o->payload = arg;
        break;
    case O_SIZE:
        bad = parse_size(arg, 16u << 20, &o->size);
        break;
    case O_WINDOW:
        bad = parse_size(arg, 1u << 20, &o->window) || o->window == 0;
        break;
    case O_INFLIGHT:
        bad = parse_size(arg, 65535, &o->inflight) || o->inflight == 0;
        break;
    case O_CONNECT_BATCH:
        bad = parse_size(arg, MAX_CLIENTS, &o->connect_batch) || o->connect_batch == 0;
        break;
    case O_IDLE_SUBSCRIBE:
        o->idle_subscribe = true;
        break;
    case O_ID_PREFIX:
        o->id_prefix = arg;
        break;
    case O_LABEL:
        o->label = arg;
        break;
    case O_BROKER_PID:
        bad = parse_size(arg, 1u << 22, &v);
        o->broker_pid = (int)v;
        break;
    case O_BROKER_CPU:
        bad = parse_size(arg, 4095, &v);
        o->broker_cpu = (int)v;
        break;
    case O_FREE_PORT:
        o->free_port = true;
        break;
    default:
        bad = 1;
        break;
    }
    if (bad) {
        fprintf(stderr, "mqload: bad value '%s'\n", arg ? arg : "");
        return -1;
    }
    return 0;
}

/* Combinations that cannot run. */
static int check(const struct options *o)
{
    const char *why = NULL;

    if (o->pubs && !o->pub_topic)
        why = "--pubs needs --pub-topic";
    else if ((o->subs || (o->idle && o->idle_subscribe)) && !o->n_sub_topics)
        why = "subscribers need at least one --sub-topic";
    else if (!o->pubs && !o->subs && !o->idle)
        why = "nothing to do: give --pubs, --subs or --idle";
    else if (o->pubs + o->subs + o->idle > MAX_CLIENTS)
        why = "too many clients";
    else if (!strstr(o->payload, "%T") && o->subs)
        why = "the payload template needs %T so subscribers can measure latency";
    if (why) {
        fprintf(stderr, "mqload: %s\n", why);
        return -1;
    }
    return 0;
}

int options_parse(int argc, char **argv, struct options *o)
{
    int c;

    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 1883;
    o->pubs = 1;
    o->subs = 1;
    o->qos = 1;
    o->sub_qos = -1;
    o->broker_cpu = -1;
    o->warmup = 1;
    o->duration = 10;
    o->drain = 3;
    o->settle = 2;
    o->payload = OPT_DEFAULT_PAYLOAD;
    o->window = 400;
    o->inflight = 20;
    o->connect_batch = 100;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (c == O_HELP) {
            usage(stdout);
            options_free(o);
            return 1;
        }
        if (c == '?') {
            fprintf(stderr, "mqload: unknown or incomplete option '%s'\n", argv[optind - 1]);
            goto fail;
        }
        if (apply(o, c, optarg))
            goto fail;
    }
    if (optind < argc) {
        fprintf(stderr, "mqload: unexpected argument '%s'\n", argv[optind]);
        goto fail;
    }
    if (o->free_port)
        return 0;
    if (check(o))
        goto fail;
    if (o->sub_qos < 0)
        o->sub_qos = o->qos;
    if (!o->copies)
        o->copies = o->n_sub_topics ? o->n_sub_topics : 1;
    return 0;
fail:
    usage(stderr);
    options_free(o);
    return -1;
}

void options_free(struct options *o)
{
    if (!o)
        return;
    free(o->sub_topics);
    o->sub_topics = NULL;
    o->n_sub_topics = 0;
}
