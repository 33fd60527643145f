/* The command-line options sseload and sioload share. */
#include <stdlib.h>

#include "loadopts.h"

/* Bounds that keep a typo from exhausting the machine. */
#define MAX_CLIENTS 200000
#define MAX_SECONDS 3600.0
#define MAX_SIZE (256 * 1024)

void load_opts_defaults(struct load_opts *o, const char *prog, const char *user)
{
    *o = (struct load_opts){.prog = prog,
                            .host = "127.0.0.1",
                            .clients = 1000,
                            .batch = 256,
                            .connect_timeout = 120,
                            .load_cpu = -1,
                            .user = user,
                            .qos = 1,
                            .window = 200,
                            .size = 200,
                            .warmup = 2,
                            .duration = 10,
                            .drain = 5,
                            .label = ""};
}

const char *load_opt_name(const struct option *table, int c)
{
    for (; table->name != NULL; table++)
        if (table->flag == NULL && table->val == c)
            return table->name;
    return "";
}

int load_num(const struct load_opts *o, const char *name, const char *s, double lo, double hi,
             double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "%s: --%s wants a number in [%g, %g], not '%s'\n", o->prog, name, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static int string_opt(struct load_opts *o, int c, const char *arg)
{
    switch (c) {
    case LOAD_O_HOST:
        o->host = arg;
        return 1;
    case LOAD_O_PATH:
        o->path = arg;
        return 1;
    case LOAD_O_TOPIC:
        o->topic = arg;
        return 1;
    case LOAD_O_USER:
        o->user = arg;
        return 1;
    case LOAD_O_TOKEN:
        o->token = arg;
        return 1;
    case LOAD_O_LABEL:
        o->label = arg;
        return 1;
    case LOAD_O_IDLE:
        o->idle = 1;
        return 1;
    }
    return 0;
}

int load_opts_set(struct load_opts *o, const struct option *table, int c, const char *arg)
{
    const char *name = load_opt_name(table, c);
    double v = 0;
    int rc = 0;

    if (string_opt(o, c, arg))
        return 0;
    switch (c) {
    case LOAD_O_PORT:
    case LOAD_O_MQTT_PORT:
        rc = load_num(o, name, arg, 1, 65535, &v);
        *(c == LOAD_O_PORT ? &o->port : &o->mqtt_port) = (int)v;
        break;
    case LOAD_O_CLIENTS:
    case LOAD_O_BATCH:
        rc = load_num(o, name, arg, 1, MAX_CLIENTS, &v);
        *(c == LOAD_O_CLIENTS ? &o->clients : &o->batch) = (int)v;
        break;
    case LOAD_O_BROKER_PID:
        rc = load_num(o, name, arg, 1, 1 << 30, &v);
        o->broker_pid = (int)v;
        break;
    case LOAD_O_LOAD_CPU:
        rc = load_num(o, name, arg, 0, 4095, &v);
        o->load_cpu = (int)v;
        break;
    case LOAD_O_QOS:
        rc = load_num(o, name, arg, 0, 1, &v);
        o->qos = (int)v;
        break;
    case LOAD_O_RATE:
        rc = load_num(o, name, arg, 0, 1e7, &o->rate);
        break;
    case LOAD_O_WINDOW:
        rc = load_num(o, name, arg, 1, 1e6, &v);
        o->window = (int)v;
        break;
    case LOAD_O_SIZE:
        rc = load_num(o, name, arg, 64, MAX_SIZE, &v);
        o->size = (size_t)v;
        break;
    case LOAD_O_CONNECT_TIMEOUT:
        rc = load_num(o, name, arg, 1, MAX_SECONDS, &o->connect_timeout);
        break;
    case LOAD_O_WARMUP:
        rc = load_num(o, name, arg, 0, MAX_SECONDS, &o->warmup);
        break;
    case LOAD_O_DURATION:
        rc = load_num(o, name, arg, 0.1, MAX_SECONDS, &o->duration);
        break;
    case LOAD_O_DRAIN:
        rc = load_num(o, name, arg, 0, MAX_SECONDS, &o->drain);
        break;
    default:
        return 1;
    }
    return rc;
}

int load_opts_check(const struct load_opts *o)
{
    if (!o->idle && (o->mqtt_port == 0 || o->topic == NULL)) {
        fprintf(stderr, "%s: publishing needs --mqtt-port and --topic (or use --idle)\n", o->prog);
        return -1;
    }
    return 0;
}

void load_usage_publishing(FILE *f)
{
    fprintf(f, "Publishing (MQTT 5, libmosquitto):\n"
               "  --mqtt-port P        the broker's port\n"
               "  --topic T            <tenant>/events/<namespace>/<name>\n"
               "  --user U --token T   username (ignored by the plugin) and publisher token\n"
               "  --qos Q              0 or 1 (1)\n"
               "  --rate R             events/s; 0 = flat out within --window (0)\n"
               "  --window W           flat out: most events the slowest client may lag (200)\n"
               "  --size B             payload bytes (200)\n"
               "Measuring:\n"
               "  --warmup S --duration S  unmeasured, then measured seconds (2, 10)\n"
               "  --drain S            after publishing, wait up to S s for the rest (5)\n");
}
