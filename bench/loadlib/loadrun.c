/* Pieces of a run that sseload and sioload share. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loadrun.h"

#define NS 1000000000ull

uint64_t load_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

double load_self_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int load_raise_nofile(const char *prog, int clients)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)clients + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max < want && rl.rlim_max != RLIM_INFINITY)
        rl.rlim_max = want; /* needs CAP_SYS_RESOURCE; fails otherwise */
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "%s: %d connections need %lu descriptors: %s (raise ulimit -Hn)\n", prog,
                clients, (unsigned long)want, strerror(errno));
        return -1;
    }
    return 0;
}

void load_json_safe(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '\'';
}

void load_error_vset(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (buf[0])
        return;
    vsnprintf(buf, size, fmt, ap);
    load_json_safe(buf);
}

void load_pub_config(const struct load_opts *o, struct pub_config *pc)
{
    *pc = (struct pub_config){.host = o->host,
                              .port = o->mqtt_port,
                              .topic = o->topic,
                              .username = o->user,
                              .password = o->token,
                              .qos = o->qos,
                              .rate = o->rate,
                              .size = o->size,
                              .window = (uint64_t)o->window};
}

void load_print_latency(const struct hist *lat)
{
    printf("\"latency_us\":{\"n\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
           "\"max\":%.1f}",
           (unsigned long long)lat->n, (double)hist_quantile(lat, 0.5) / 1e3,
           (double)hist_quantile(lat, 0.9) / 1e3, (double)hist_quantile(lat, 0.99) / 1e3,
           (double)hist_quantile(lat, 0.999) / 1e3, (double)lat->max / 1e3);
}
