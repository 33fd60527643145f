/*
 * A connection storm against a loopback server: new TCP connections at a fixed rate, each
 * either reset at once (SO_LINGER 0), or, with --http, asked for /healthz and closed once the
 * answer is in. At most --max-open are open at a time: when that many are waiting the storm
 * waits too, and says how often. Prints one JSON line: offered and reached rates, outcomes,
 * and for --http the time from connect() to the answer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536

struct conn {
    double started;
    int state; /* 0 free, 1 connecting, 2 waiting for the answer */
    size_t got;
    char buf[256];
};

static struct conn *conns;
static int open_now, http;
static unsigned long started, answered, resets, errors, waits;
static double *lat;
static size_t n_lat;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void finish(int ep, int fd, int ok_answer, int reset)
{
    if (reset) {
        struct linger lg = {1, 0};

        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        resets++;
    } else if (ok_answer) {
        answered++;
        lat[n_lat++] = (now_s() - conns[fd].started) * 1000;
    } else {
        errors++;
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    conns[fd].state = 0;
    open_now--;
}

static int start_one(int ep, const struct sockaddr_in *to)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLOUT};

    if (fd < 0 || fd >= MAX_FDS) {
        if (fd >= 0)
            close(fd);
        errors++;
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0 && errno != EINPROGRESS) {
        close(fd);
        errors++;
        return -1;
    }
    conns[fd].state = 1;
    conns[fd].got = 0;
    conns[fd].started = now_s();
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    open_now++;
    started++;
    return 0;
}

static void on_event(int ep, int fd, unsigned events)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    struct conn *c = &conns[fd];

    if (c->state == 1) {
        int err = 0;
        socklen_t len = sizeof(err);

        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            finish(ep, fd, 0, 0);
            return;
        }
        if (!http) {
            finish(ep, fd, 0, 1);
            return;
        }
        if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
            finish(ep, fd, 0, 0);
            return;
        }
        c->state = 2;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, c->buf + c->got, sizeof(c->buf) - 1 - c->got);

        if (n > 0) {
            c->got += (size_t)n;
            c->buf[c->got] = '\0';
            if (strstr(c->buf, "\r\n\r\n") || c->got == sizeof(c->buf) - 1) {
                finish(ep, fd, strncmp(c->buf, "HTTP/1.1 200", 12) == 0, 0);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            return;
        finish(ep, fd, 0, 0);
        return;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"port", 1, 0, 'p'},    {"rate", 1, 0, 'r'},
                                         {"seconds", 1, 0, 's'}, {"max-open", 1, 0, 'm'},
                                         {"http", 0, 0, 'h'},    {0, 0, 0, 0}};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    double rate = 10000, seconds = 5, t0, end, p50 = 0, p99 = 0, elapsed;
    int port = 0, max_open = 2000, ep, c;
    struct epoll_event evs[512];

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'm':
            max_open = atoi(optarg);
            break;
        case 'h':
            http = 1;
            break;
        default:
            fprintf(stderr,
                    "usage: storm --port P [--rate N/s] [--seconds S] [--max-open M] [--http]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || rate <= 0 || seconds <= 0 || max_open <= 0 ||
        max_open > MAX_FDS / 2) {
        fprintf(stderr, "storm: bad arguments\n");
        return 2;
    }
    to.sin_port = htons((unsigned short)port);
    conns = calloc(MAX_FDS, sizeof(*conns));
    lat = calloc((size_t)(rate * seconds) + 16, sizeof(*lat));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || lat == NULL || ep < 0)
        return 1;
    t0 = now_s();
    end = t0 + seconds;
    for (;;) {
        double t = now_s();
        unsigned long due = (unsigned long)((t < end ? t - t0 : seconds) * rate);
        int n, i;

        if (t >= end && open_now == 0)
            break;
        if (t >= end + 10) /* the last ones do not answer: give up on them */
            break;
        while (started < due) {
            if (open_now >= max_open) {
                waits++;
                break;
            }
            if (start_one(ep, &to) != 0)
                break;
        }
        n = epoll_wait(ep, evs, 512, 1);
        for (i = 0; i < n; i++)
            on_event(ep, evs[i].data.fd, evs[i].events);
    }
    elapsed = now_s() - t0;
    if (n_lat) {
        qsort(lat, n_lat, sizeof(*lat), cmp);
        p50 = lat[n_lat / 2];
        p99 = lat[(size_t)(n_lat * 0.99)];
    }
    printf("{\"offered_per_s\":%.0f,\"seconds\":%.2f,\"started\":%lu,\"reached_per_s\":%.0f,"
           "\"answered\":%lu,\"reset\":%lu,\"errors\":%lu,\"left_open\":%d,\"waited\":%lu,"
           "\"answer_p50_ms\":%.2f,\"answer_p99_ms\":%.2f}\n",
           rate, elapsed, started, started / (elapsed < seconds ? elapsed : seconds), answered,
           resets, errors, open_now, waits, p50, p99);
    return 0;
}
