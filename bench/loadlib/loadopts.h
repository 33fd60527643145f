/*
 * The options sseload and sioload share: where to connect, how many clients, how to publish
 * and how long to measure. Each client embeds struct load_opts in its own options, puts
 * LOAD_LONG_OPTS in its getopt_long table and numbers its own options from LOAD_O_OWN.
 */
#ifndef LOADOPTS_H
#define LOADOPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct load_opts {
    const char *prog; /* the client's name, for messages */
    const char *host; /* numeric; the server and the broker are both on it */
    int port;         /* the server under test */
    const char *path; /* request target */
    int clients;
    int batch; /* most connections open but not yet ready at any time */
    double connect_timeout;
    int idle;
    int broker_pid; /* 0: not measured */
    int load_cpu;   /* CPU the load runs on, -1: not measured */
    int mqtt_port;
    const char *topic, *user, *token;
    int qos;
    double rate; /* events/s; 0: flat out */
    int window;
    size_t size;
    double warmup, duration, drain;
    const char *label;
};

enum {
    LOAD_O_HOST = 256,
    LOAD_O_PORT,
    LOAD_O_PATH,
    LOAD_O_CLIENTS,
    LOAD_O_BATCH,
    LOAD_O_CONNECT_TIMEOUT,
    LOAD_O_IDLE,
    LOAD_O_BROKER_PID,
    LOAD_O_LOAD_CPU,
    LOAD_O_MQTT_PORT,
    LOAD_O_TOPIC,
    LOAD_O_USER,
    LOAD_O_TOKEN,
    LOAD_O_QOS,
    LOAD_O_RATE,
    LOAD_O_WINDOW,
    LOAD_O_SIZE,
    LOAD_O_WARMUP,
    LOAD_O_DURATION,
    LOAD_O_DRAIN,
    LOAD_O_LABEL,
    LOAD_O_HELP,
    LOAD_O_OWN, /* a client's own options start here */
};

/* The shared entries of a getopt_long table. */
#define LOAD_LONG_OPTS                                                                             \
    {"host", required_argument, NULL, LOAD_O_HOST},                                                \
        {"port", required_argument, NULL, LOAD_O_PORT},                                            \
        {"path", required_argument, NULL, LOAD_O_PATH},                                            \
        {"clients", required_argument, NULL, LOAD_O_CLIENTS},                                      \
        {"batch", required_argument, NULL, LOAD_O_BATCH},                                          \
        {"connect-timeout", required_argument, NULL, LOAD_O_CONNECT_TIMEOUT},                      \
        {"idle", no_argument, NULL, LOAD_O_IDLE},                                                  \
        {"broker-pid", required_argument, NULL, LOAD_O_BROKER_PID},                                \
        {"load-cpu", required_argument, NULL, LOAD_O_LOAD_CPU},                                    \
        {"mqtt-port", required_argument, NULL, LOAD_O_MQTT_PORT},                                  \
        {"topic", required_argument, NULL, LOAD_O_TOPIC},                                          \
        {"user", required_argument, NULL, LOAD_O_USER},                                            \
        {"token", required_argument, NULL, LOAD_O_TOKEN},                                          \
        {"qos", required_argument, NULL, LOAD_O_QOS},                                              \
        {"rate", required_argument, NULL, LOAD_O_RATE},                                            \
        {"window", required_argument, NULL, LOAD_O_WINDOW},                                        \
        {"size", required_argument, NULL, LOAD_O_SIZE},                                            \
        {"warmup", required_argument, NULL, LOAD_O_WARMUP},                                        \
        {"duration", required_argument, NULL, LOAD_O_DURATION},                                    \
        {"drain", required_argument, NULL, LOAD_O_DRAIN},                                          \
        {"label", required_argument, NULL, LOAD_O_LABEL},                                          \
    {                                                                                              \
        "help", no_argument, NULL, LOAD_O_HELP                                                     \
    }

/* Set the shared defaults; prog and user (the MQTT username) are borrowed. */
void load_opts_defaults(struct load_opts *o, const char *prog, const char *user);

/* The long name of option c in table (for messages), or "". */
const char *load_opt_name(const struct option *table, int c);

/* Parse s as a number in [lo, hi] into *out. 0, or -1 (printed, naming --name). */
int load_num(const struct load_opts *o, const char *name, const char *s, double lo, double hi,
             double *out);

/*
 * Apply shared option c with argument arg (borrowed, kept). 0 when set, 1 when c is not a
 * shared option (nor --help), -1 when the value is out of range (printed).
 */
int load_opts_set(struct load_opts *o, const struct option *table, int c, const char *arg);

/* The checks after parsing that both clients make. 0, or -1 (printed). */
int load_opts_check(const struct load_opts *o);

/* The "Publishing" section of --help and the start of "Measuring". */
void load_usage_publishing(FILE *f);

#endif
