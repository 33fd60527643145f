/*
 * Command line of mqload. Strings point into argv (borrowed) except the sub_topics array,
 * which is owned by the options and freed with options_free().
 */
#ifndef MQLOAD_OPTIONS_H
#define MQLOAD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OPT_DEFAULT_PAYLOAD "{\"ts\":\"%T\",\"pad\":\"%P\"}"

struct options {
    const char *host;
    int port;
    size_t pubs;
    size_t subs;
    size_t idle;
    int qos;         /* QoS of publishes */
    int sub_qos;     /* QoS of subscriptions; -1 until parsed: same as qos */
    double rate;     /* events per second over all publishers; 0 = as fast as allowed */
    double warmup;   /* seconds before the measurement window */
    double duration; /* seconds of the measurement window */
    double drain;    /* seconds to wait for stragglers after publishing stops */
    double settle;   /* idle runs: seconds to wait after the last connect before reading RSS */
    double phase;    /* rate mode: seconds before the first send */
    const char *pub_topic;
    const char **sub_topics;
    size_t n_sub_topics;
    size_t copies; /* deliveries per event per subscriber; 0 = number of sub topics */
    const char *pub_user, *pub_pass;
    const char *sub_user, *sub_pass;
    const char *payload; /* template: %T timestamp token, %P padding, %% percent */
    size_t size;         /* pad the payload to this many bytes; 0 = no padding */
    size_t window;       /* saturation: most copies a subscriber may be behind */
    size_t inflight;     /* most unacknowledged QoS 1 publishes per publisher */
    size_t connect_batch;
    bool idle_subscribe; /* idle clients subscribe to the sub topics too */
    const char *id_prefix;
    const char *label;
    int broker_pid; /* 0: no broker figures */
    int broker_cpu; /* CPU the broker is pinned to, -1: unknown */
    bool free_port;
};

/*
 * Parse argv. Returns 0 and fills o (release with options_free()), 1 when --help was asked
 * (usage printed), -1 on a usage error (message printed to stderr).
 */
int options_parse(int argc, char **argv, struct options *o);
void options_free(struct options *o);

#endif
