/*
 * sseload: the SSE load client of the bridge benchmark. One thread, epoll, non-blocking
 * sockets: it opens many Server-Sent Events streams to mqpush-bridge, parses them as they come
 * (frames end at a blank line, HTML 9.2.6), checks that event ids only grow on every
 * connection, and measures publish-to-client latency from the timestamp token the publisher
 * (mqload) puts in each event's payload. It prints one JSON line of results.
 *
 *   sseload --port P --path /stream/v1/streams/s?tenant=t --clients N
 *           [--ready-file F] [--warmup S] [--duration S] [--bridge-pid PID] [--idle]
 *
 * With --idle it only connects, waits until every stream said mqpush:ready, and reports the
 * bridge's RSS before and after. Otherwise, once every stream is ready it writes --ready-file
 * (so that the caller starts publishing), then counts from the first event: warmup seconds
 * unmeasured, then duration seconds measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hist.h"
#include "payload.h"
#include "proc.h"

#define CARRY_MAX (64 * 1024) /* the largest frame we accept */
#define ID_LEN 36

struct conn {
    int fd;
    int state; /* 0 connecting, 1 awaiting status line, 2 streaming, 3 dead */
    int ready;
    char *carry; /* an incomplete frame from the previous read */
    size_t carry_len;
    char last_id[ID_LEN + 1];
    uint64_t events;
};

static struct {
    int port;
    const char *path;
    int clients;
    const char *ready_file;
    double warmup, duration;
    int bridge_pid;
    int idle;
    int batch;
} opt = {0, NULL, 1000, NULL, 2, 10, -1, 0, 200};

static struct {
    uint64_t events, measured, out_of_order, refused, closed, ready;
    struct hist lat;
    int measuring;
} res;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int open_one(int ep, struct conn *c, int idx)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)idx};
    int one = 1;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
        return -1;
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void kill_conn(int ep, struct conn *c)
{
    if (c->state == 3)
        return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = 3;
    free(c->carry);
    c->carry = NULL;
    res.closed++;
}

/* One complete frame (without its blank line). */
static void on_frame(struct conn *c, const char *f, size_t len, uint64_t t)
{
    const char *id = NULL, *data = NULL;
    const char *p = f, *end = f + len;
    int named = 0;
    uint64_t ts;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;

        if (eol - p >= 4 && memcmp(p, "id: ", 4) == 0)
            id = p + 4;
        else if (eol - p >= 6 && memcmp(p, "data: ", 6) == 0)
            data = p + 6;
        else if (eol - p >= 7 && memcmp(p, "event: ", 7) == 0) {
            named = 1;
            if (eol - p >= 19 && memcmp(p + 7, "mqpush:ready", 12) == 0 && !c->ready) {
                c->ready = 1;
                res.ready++;
            }
        }
        p = eol + 1;
    }
    if (named || data == NULL)
        return;
    c->events++;
    res.events++;
    if (id) {
        if (c->last_id[0] && memcmp(id, c->last_id, ID_LEN) <= 0)
            res.out_of_order++;
        memcpy(c->last_id, id, ID_LEN);
    }
    if (res.measuring) {
        res.measured++;
        if (payload_find_ts((const uint8_t *)data, (size_t)(end - data), &ts) == 0 && t > ts)
            hist_add(&res.lat, t - ts);
    }
}

/* Split what arrived into frames; keep an incomplete tail for the next read. */
static int on_data(struct conn *c, const char *buf, size_t n, uint64_t t)
{
    const char *p = buf, *end = buf + n, *sep;
    char *joined = NULL;

    if (c->carry_len) {
        joined = realloc(c->carry, c->carry_len + n);
        if (joined == NULL)
            return -1;
        memcpy(joined + c->carry_len, buf, n);
        p = joined;
        end = joined + c->carry_len + n;
        c->carry = NULL;
        c->carry_len = 0;
    }
    while ((sep = memmem(p, (size_t)(end - p), "\n\n", 2)) != NULL) {
        on_frame(c, p, (size_t)(sep - p), t);
        p = sep + 2;
    }
    if (p < end) {
        size_t tail = (size_t)(end - p);

        c->carry = tail <= CARRY_MAX ? malloc(tail) : NULL;
        if (c->carry == NULL) {
            free(joined);
            return -1;
        }
        memcpy(c->carry, p, tail);
        c->carry_len = tail;
    }
    free(joined);
    return 0;
}

/* The response head: 200, then the stream starts after the blank line. */
static int on_head(struct conn *c, char *buf, size_t n, uint64_t t)
{
    char *body = memmem(buf, n, "\r\n\r\n", 4);

    if (n < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0) {
        res.refused++;
        return -1;
    }
    if (body == NULL)
        return -1; /* a head split across reads: not expected on loopback */
    c->state = 2;
    body += 4;
    return on_data(c, body, n - (size_t)(body - buf), t);
}

static void usage(void)
{
    fprintf(stderr, "usage: sseload --port P --path PATH [--clients N] [--ready-file F] "
                    "[--warmup S] [--duration S] [--bridge-pid PID] [--idle]\n");
}

static int parse(int argc, char **argv)
{
    static const struct option lo[] = {{"port", 1, NULL, 'p'},       {"path", 1, NULL, 'P'},
                                       {"clients", 1, NULL, 'n'},    {"ready-file", 1, NULL, 'r'},
                                       {"warmup", 1, NULL, 'w'},     {"duration", 1, NULL, 'd'},
                                       {"bridge-pid", 1, NULL, 'b'}, {"idle", 0, NULL, 'i'},
                                       {"batch", 1, NULL, 'B'},      {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'P':
            opt.path = optarg;
            break;
        case 'n':
            opt.clients = atoi(optarg);
            break;
        case 'r':
            opt.ready_file = optarg;
            break;
        case 'w':
            opt.warmup = atof(optarg);
            break;
        case 'd':
            opt.duration = atof(optarg);
            break;
        case 'b':
            opt.bridge_pid = atoi(optarg);
            break;
        case 'i':
            opt.idle = 1;
            break;
        case 'B':
            opt.batch = atoi(optarg);
            break;
        default:
            usage();
            return -1;
        }
    }
    if (opt.port <= 0 || opt.path == NULL || opt.clients <= 0 || opt.batch <= 0) {
        usage();
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char buf[256 * 1024];
    struct epoll_event evs[512];
    struct rlimit rl;
    struct conn *conns;
    char req[1024];
    int ep, opened = 0, i;
    long rss0 = -1, rss1 = -1;
    double cpu0 = -1, cpu1 = -1;
    uint64_t t_first = 0, t_measure = 0, t_end = 0, t_ready = 0;
    uint64_t t_start = now_ns(), deadline = t_start + 120ull * 1000000000u;

    if (parse(argc, argv) != 0)
        return 2;
    rl.rlim_cur = rl.rlim_max = (rlim_t)opt.clients + 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur < (rlim_t)opt.clients + 64) {
        fprintf(stderr, "sseload: only %lu descriptors allowed\n", (unsigned long)rl.rlim_cur);
        return 1;
    }
    conns = calloc((size_t)opt.clients, sizeof(*conns));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || ep < 0)
        return 1;
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", opt.path);
    hist_reset(&res.lat);
    if (opt.bridge_pid > 0)
        rss0 = proc_rss_kib(opt.bridge_pid);
    for (;;) {
        uint64_t t = now_ns();
        int n;

        /* Connect in batches, each once the previous one is ready: the listen backlog holds. */
        if (opened < opt.clients && res.ready + res.refused + res.closed >= (uint64_t)opened) {
            int upto = opened + opt.batch > opt.clients ? opt.clients : opened + opt.batch;

            for (; opened < upto; opened++)
                if (open_one(ep, &conns[opened], opened) != 0) {
                    fprintf(stderr, "sseload: connect: %s\n", strerror(errno));
                    return 1;
                }
        }
        if (t_ready == 0 && res.ready == (uint64_t)opt.clients) {
            t_ready = t;
            if (opt.bridge_pid > 0)
                rss1 = proc_rss_kib(opt.bridge_pid);
            if (opt.idle)
                break;
            if (opt.ready_file) {
                FILE *f = fopen(opt.ready_file, "w");

                if (f)
                    fclose(f);
            }
        }
        if (t_first == 0 && res.events > 0) {
            t_first = t;
            t_measure = t_first + (uint64_t)(opt.warmup * 1e9);
            t_end = t_measure + (uint64_t)(opt.duration * 1e9);
        }
        if (t_first && !res.measuring && t >= t_measure && t < t_end) {
            res.measuring = 1;
            if (opt.bridge_pid > 0)
                cpu0 = proc_cpu_seconds(opt.bridge_pid);
        }
        if (t_first && t >= t_end) {
            res.measuring = 0;
            if (opt.bridge_pid > 0)
                cpu1 = proc_cpu_seconds(opt.bridge_pid);
            break;
        }
        if (t > deadline || res.refused > 0) {
            fprintf(stderr, "sseload: %s\n", res.refused ? "a stream was refused" : "timed out");
            break;
        }
        n = epoll_wait(ep, evs, 512, 10);
        t = now_ns();
        for (i = 0; i < n; i++) {
            struct conn *c = &conns[evs[i].data.u32];

            if (c->state == 3)
                continue;
            if (c->state == 0 && (evs[i].events & EPOLLOUT)) {
                struct epoll_event e = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};

                if (write(c->fd, req, strlen(req)) != (ssize_t)strlen(req)) {
                    kill_conn(ep, c);
                    continue;
                }
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
                c->state = 1;
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = read(c->fd, buf, sizeof(buf));

                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN)
                        continue;
                    kill_conn(ep, c);
                    continue;
                }
                if ((c->state == 1 ? on_head(c, buf, (size_t)r, t)
                                   : on_data(c, buf, (size_t)r, t)) != 0)
                    kill_conn(ep, c);
            }
        }
    }
    {
        double window = opt.duration;
        uint64_t evs_min = UINT64_MAX, evs_max = 0;

        for (i = 0; i < opened; i++) {
            if (conns[i].state != 3 && conns[i].events < evs_min)
                evs_min = conns[i].events;
            if (conns[i].events > evs_max)
                evs_max = conns[i].events;
        }
        printf("{\"clients\":%d,\"ready\":%llu,\"refused\":%llu,\"closed\":%llu,"
               "\"connect_s\":%.3f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld",
               opt.clients, (unsigned long long)res.ready, (unsigned long long)res.refused,
               (unsigned long long)res.closed, t_ready ? (double)(t_ready - t_start) / 1e9 : -1.0,
               rss0, rss1);
        if (!opt.idle)
            printf(
                ",\"events\":%llu,\"measured\":%llu,\"deliveries_per_s\":%.1f,"
                "\"bridge_cpu_s\":%.3f,\"cpu_us_per_delivery\":%.3f,\"out_of_order\":%llu,"
                "\"per_conn_min\":%llu,\"per_conn_max\":%llu,"
                "\"latency_us\":{\"n\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}",
                (unsigned long long)res.events, (unsigned long long)res.measured,
                (double)res.measured / window, cpu1 - cpu0,
                res.measured ? (cpu1 - cpu0) * 1e6 / (double)res.measured : 0.0,
                (unsigned long long)res.out_of_order,
                (unsigned long long)(evs_min == UINT64_MAX ? 0 : evs_min),
                (unsigned long long)evs_max, (unsigned long long)res.lat.n,
                (double)hist_quantile(&res.lat, 0.5) / 1e3,
                (double)hist_quantile(&res.lat, 0.99) / 1e3,
                (double)hist_quantile(&res.lat, 0.999) / 1e3, (double)res.lat.max / 1e3);
        printf("}\n");
    }
    return res.refused ? 1 : 0;
}
