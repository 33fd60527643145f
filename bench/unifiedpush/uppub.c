/*
 * uppub: publish stream events into Mosquitto for the UnifiedPush benchmark (run.sh), at a
 * fixed rate or flat out, for --duration seconds, and print one JSON line with the counts.
 * Flat out, the publisher (bench/sse/publisher.c) stays at most --window events ahead of the
 * local push provider: every 10 ms this asks provider.mjs for GET /progress (the pushes it has
 * received divided by the registrations, i.e. the events every registration has had), over a
 * blocking loopback socket of this thread only.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "publisher.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET /progress from the provider at 127.0.0.1:port: the number, or -1. */
static long long progress_of(int port)
{
    static const char req[] = "GET /progress HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char buf[1024];
    size_t got = 0;
    ssize_t n;
    long long v = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *body;

    if (fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
        goto out;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    body = strstr(buf, "\r\n\r\n");
    if (body)
        v = strtoll(body + 4, NULL, 10);
out:
    close(fd);
    return v;
}

static void usage(void)
{
    fprintf(stderr, "usage: uppub --mqtt-port P --topic T --token TOK [--qos 1] [--size 200]\n"
                    "             [--rate EVENTS_PER_S | --window N --provider-port P]\n"
                    "             --duration S\n");
}

int main(int argc, char **argv)
{
    struct pub_config cfg = {.host = "127.0.0.1", .qos = 1, .size = 200, .window = 20};
    _Atomic uint64_t progress = 0;
    struct publisher *p = NULL;
    struct pub_stats st;
    double duration = 5, t0, end;
    int provider_port = 0, rc = 1;
    char err[256];

    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (strcmp(k, "--mqtt-port") == 0)
            cfg.port = atoi(v);
        else if (strcmp(k, "--topic") == 0)
            cfg.topic = v;
        else if (strcmp(k, "--token") == 0)
            cfg.password = v;
        else if (strcmp(k, "--qos") == 0)
            cfg.qos = atoi(v);
        else if (strcmp(k, "--size") == 0)
            cfg.size = (size_t)atol(v);
        else if (strcmp(k, "--rate") == 0)
            cfg.rate = atof(v);
        else if (strcmp(k, "--window") == 0)
            cfg.window = (uint64_t)atoll(v);
        else if (strcmp(k, "--provider-port") == 0)
            provider_port = atoi(v);
        else if (strcmp(k, "--duration") == 0)
            duration = atof(v);
        else {
            usage();
            return 2;
        }
    }
    if (cfg.port == 0 || cfg.topic == NULL || cfg.password == NULL ||
        (cfg.rate <= 0 && provider_port == 0)) {
        usage();
        return 2;
    }
    cfg.username = "bench-publisher";
    if (publisher_connect(&cfg, &p, err, sizeof(err)) != 0) {
        printf("{\"error\":\"%s\"}\n", err);
        return 1;
    }
    if (publisher_start(p, &progress) != 0) {
        printf("{\"error\":\"cannot start the publisher\"}\n");
        goto out;
    }
    t0 = now_s();
    end = t0 + duration;
    while (now_s() < end) {
        if (cfg.rate <= 0) {
            long long v = progress_of(provider_port);

            if (v >= 0)
                atomic_store(&progress, (uint64_t)v);
        }
        usleep(10000);
    }
    publisher_halt(p);
    usleep(200000); /* the last PUBACKs */
    publisher_stats(p, &st);
    printf("{\"published\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"refused\":%" PRIu64
           ",\"late\":%" PRIu64 ",\"failed\":%d,\"elapsed_s\":%.3f}\n",
           st.published, st.acked, st.refused, st.late, st.failed, now_s() - t0);
    rc = st.failed ? 1 : 0;
out:
    publisher_free(p);
    return rc;
}
