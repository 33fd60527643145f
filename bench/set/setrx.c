/*
 * setpush's receiver. HTTP/1.1 just far enough for curl's POSTs: a request line, headers with a
 * Content-Length (the bridge always sends one), the body; the answer is 202 with an empty body
 * (RFC 8935 section 2.3). The bridge delivers a stream's SETs one at a time, so a handful of
 * connections is all there is.
 */
#define _GNU_SOURCE /* memmem, strcasestr */
#include "setrx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "b64url.h"
#include "ssf/set.h"

#define MAX_CONNS 32
#define BUF_BYTES (256 * 1024)
#define POLL_MS 50

static const char REPLY[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";

struct jti_entry {
    UT_hash_handle hh;
    char jti[]; /* the key */
};

struct conn {
    int fd; /* -1: free slot */
    char *buf;
    size_t len;
};

struct setrx {
    struct setrx_config cfg;
    int lfd, port;
    pthread_t thread;
    int running;
    atomic_int stop;
    _Atomic uint64_t progress;
    pthread_mutex_t lock; /* stats */
    struct setrx_stats st;
    struct jti_entry *seen; /* the receiver thread's only */
    struct conn conns[MAX_CONNS];
};

/* Note the jti; returns 1 when it is new, 0 when seen before, -1 when out of memory. */
static int remember(struct setrx *rx, const char *jti)
{
    struct jti_entry *e;
    size_t n = strlen(jti);

    HASH_FIND(hh, rx->seen, jti, n, e);
    if (e)
        return 0;
    e = malloc(sizeof(*e) + n + 1);
    if (e == NULL)
        return -1;
    memcpy(e->jti, jti, n + 1);
    HASH_ADD(hh, rx->seen, jti[0], n, e);
    return 1;
}

/* The bridge's own receiver checks, as a push receiver runs them (RFC 8935 section 2). */
static int verify(struct setrx *rx, const char *body, size_t len)
{
    struct ssf_set set;
    enum ssf_msg why;
    enum ssf_err e;

    memset(&set, 0, sizeof(set));
    e = ssf_set_parse(body, len, &set, &why);
    if (e == SSF_OK)
        e = ssf_set_verify(&set, rx->cfg.jwks, rx->cfg.audience, (int64_t)time(NULL), &why);
    ssf_set_clear(&set);
    return e == SSF_OK ? 0 : -1;
}

/* One SET: its claims are read without a check (the sampled verify() does those). */
static void on_set(struct setrx *rx, const char *body, size_t len)
{
    const char *dot1 = memchr(body, '.', len), *dot2;
    unsigned char *claims_text = NULL;
    json_object *claims = NULL, *jti, *events, *seq;
    size_t n;
    int fresh = -1, ours = 0, checked = 0, good = 0;

    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - body)) : NULL;
    if (dot2)
        claims_text = mqp_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
    if (claims_text)
        claims = json_tokener_parse((const char *)claims_text);
    if (claims && json_object_object_get_ex(claims, "jti", &jti) &&
        json_object_object_get_ex(claims, "events", &events) &&
        json_object_is_type(events, json_type_object)) {
        json_object_object_foreach(events, type, ev)
        {
            ours = strcmp(type, rx->cfg.type) == 0;
            if (ours && json_object_object_get_ex(ev, "seq", &seq)) {
                uint64_t s = (uint64_t)json_object_get_int64(seq);

                if (s > atomic_load(&rx->progress))
                    atomic_store(&rx->progress, s);
            }
            break;
        }
        if (ours)
            fresh = remember(rx, json_object_get_string(jti));
    }
    if (ours && rx->cfg.jwks && rx->cfg.verify_every && (rx->st.sets % rx->cfg.verify_every) == 0) {
        checked = 1;
        good = verify(rx, body, len) == 0;
    }
    pthread_mutex_lock(&rx->lock);
    rx->st.requests++;
    if (claims == NULL || fresh < 0) {
        rx->st.malformed += claims == NULL || ours;
        rx->st.other += claims != NULL && !ours;
    } else {
        rx->st.sets++;
        rx->st.bytes += len;
        rx->st.unique += (uint64_t)fresh;
        rx->st.duplicates += (uint64_t)!fresh;
    }
    rx->st.verified += (uint64_t)(checked && good);
    rx->st.verify_failed += (uint64_t)(checked && !good);
    pthread_mutex_unlock(&rx->lock);
    json_object_put(claims);
    free(claims_text);
}

static void conn_close(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

/* Answer every whole request in c's buffer. Returns 0, or -1 to drop the connection. */
static int serve(struct setrx *rx, struct conn *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl;
        size_t head, body = 0, off;

        if (end == NULL)
            return c->len >= BUF_BYTES ? -1 : 0;
        head = (size_t)(end - c->buf) + 4;
        *end = '\0'; /* the headers as a string; the body starts after the blank line */
        cl = strcasestr(c->buf, "\r\ncontent-length:");
        if (cl)
            body = strtoul(cl + 17, NULL, 10);
        if (head + body > BUF_BYTES)
            return -1;
        if (c->len < head + body) {
            *end = '\r';
            return 0;
        }
        on_set(rx, c->buf + head, body);
        /* a blocking write of 45 bytes to loopback: the socket buffer takes it whole */
        off = 0;
        while (off < sizeof(REPLY) - 1) {
            ssize_t w = write(c->fd, REPLY + off, sizeof(REPLY) - 1 - off);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            off += (size_t)w;
        }
        memmove(c->buf, c->buf + head + body, c->len - head - body);
        c->len -= head + body;
    }
}

static void *rx_main(void *arg)
{
    struct setrx *rx = arg;
    struct pollfd pfd[MAX_CONNS + 1];
    int map[MAX_CONNS + 1];

    while (!atomic_load(&rx->stop)) {
        int n = 0, i;

        pfd[n] = (struct pollfd){.fd = rx->lfd, .events = POLLIN};
        map[n++] = -1;
        for (i = 0; i < MAX_CONNS; i++) {
            if (rx->conns[i].fd >= 0) {
                pfd[n] = (struct pollfd){.fd = rx->conns[i].fd, .events = POLLIN};
                map[n++] = i;
            }
        }
        if (poll(pfd, (nfds_t)n, POLL_MS) <= 0)
            continue;
        for (i = 1; i < n; i++) {
            struct conn *c = &rx->conns[map[i]];
            ssize_t r;

            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            r = read(c->fd, c->buf + c->len, BUF_BYTES - c->len);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                conn_close(c);
                continue;
            }
            c->len += (size_t)r;
            if (serve(rx, c) != 0)
                conn_close(c);
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept(rx->lfd, NULL, NULL);

            for (i = 0; fd >= 0 && i < MAX_CONNS && rx->conns[i].fd >= 0; i++)
                ;
            if (fd >= 0 && i == MAX_CONNS)
                close(fd); /* more connections than a benchmark stream opens */
            else if (fd >= 0)
                rx->conns[i].fd = fd;
        }
    }
    return NULL;
}

int setrx_start(const struct setrx_config *cfg, struct setrx **out, char *err, size_t errlen)
{
    struct setrx *rx = calloc(1, sizeof(*rx));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    socklen_t alen = sizeof(a);
    int one = 1, i, rc = -1;

    *out = NULL;
    if (rx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rx->cfg = *cfg;
    rx->lfd = -1;
    pthread_mutex_init(&rx->lock, NULL);
    for (i = 0; i < MAX_CONNS; i++) {
        rx->conns[i].fd = -1;
        if ((rx->conns[i].buf = malloc(BUF_BYTES)) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rx->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rx->lfd < 0 || setsockopt(rx->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(rx->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(rx->lfd, 64) != 0 ||
        getsockname(rx->lfd, (struct sockaddr *)&a, &alen) != 0) {
        snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", cfg->port, strerror(errno));
        goto out;
    }
    rx->port = ntohs(a.sin_port);
    if (pthread_create(&rx->thread, NULL, rx_main, rx) != 0) {
        snprintf(err, errlen, "cannot start the receiver's thread");
        goto out;
    }
    rx->running = 1;
    *out = rx;
    rx = NULL;
    rc = 0;
out:
    setrx_free(rx);
    return rc;
}

int setrx_port(const struct setrx *rx)
{
    return rx->port;
}

const _Atomic uint64_t *setrx_progress(const struct setrx *rx)
{
    return &rx->progress;
}

void setrx_stats(struct setrx *rx, struct setrx_stats *st)
{
    pthread_mutex_lock(&rx->lock);
    *st = rx->st;
    pthread_mutex_unlock(&rx->lock);
}

void setrx_free(struct setrx *rx)
{
    struct jti_entry *e, *tmp;
    int i;

    if (rx == NULL)
        return;
    atomic_store(&rx->stop, 1);
    if (rx->running)
        pthread_join(rx->thread, NULL);
    for (i = 0; i < MAX_CONNS; i++) {
        if (rx->conns[i].fd >= 0)
            close(rx->conns[i].fd);
        free(rx->conns[i].buf);
    }
    if (rx->lfd >= 0)
        close(rx->lfd);
    HASH_ITER(hh, rx->seen, e, tmp)
    {
        HASH_DEL(rx->seen, e);
        free(e);
    }
    pthread_mutex_destroy(&rx->lock);
    free(rx);
}
