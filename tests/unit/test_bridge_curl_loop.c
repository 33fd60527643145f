/* libcurl's multi-socket API on a libuv loop: concurrent transfers to a real loopback HTTP
 * responder, refused connections, timeouts driven by the loop's timer, and closing with
 * transfers in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/curl_loop.h"

/* A tiny HTTP responder on its own thread: answers "hello" to n requests, or (silent) reads
 * and never answers. */
struct responder {
    int fd;
    int port;
    int n;
    int silent;
    pthread_t thread;
    int held[8];
    int n_held;
};

static void *serve(void *arg)
{
    struct responder *r = arg;
    static const char reply[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    int i;

    for (i = 0; i < r->n; i++) {
        char buf[2048];
        size_t got = 0;
        int c = accept(r->fd, NULL, NULL);

        if (c < 0)
            break;
        while (got < sizeof(buf) - 1) {
            ssize_t k = read(c, buf + got, sizeof(buf) - 1 - got);

            if (k <= 0)
                break;
            got += (size_t)k;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        if (r->silent) {
            if (r->n_held < 8)
                r->held[r->n_held++] = c;
            continue;
        }
        if (write(c, reply, sizeof(reply) - 1) < 0)
            perror("write");
        close(c);
    }
    return NULL;
}

static void responder_start(struct responder *r, int n, int silent)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int one = 1;

    memset(r, 0, sizeof(*r));
    r->n = n;
    r->silent = silent;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(r->fd, 16), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *)&sa, &len), 0);
    r->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&r->thread, NULL, serve, r), 0);
}

static void responder_stop(struct responder *r)
{
    int i;

    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    pthread_join(r->thread, NULL);
    for (i = 0; i < r->n_held; i++)
        close(r->held[i]);
}

struct result {
    int calls;
    CURLcode code;
    long status;
    char body[64];
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct result *res = ud;
    size_t k = size * n;

    if (res->len + k < sizeof(res->body)) {
        memcpy(res->body + res->len, p, k);
        res->len += k;
    }
    return k;
}

static void on_done(void *ud, CURL *easy, CURLcode code)
{
    struct result *res = ud;

    res->calls++;
    res->code = code;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res->status);
}

static CURL *easy_for(const char *url, struct result *res, long timeout_ms)
{
    CURL *e = curl_easy_init();

    assert_non_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    return e;
}

/* Run the loop until every result has been called back or 5 s passed. */
static void run_until_done(uv_loop_t *loop, struct result *res, int n)
{
    uint64_t start = uv_now(loop);
    int i, done;

    do {
        uv_run(loop, UV_RUN_ONCE);
        for (done = 0, i = 0; i < n; i++)
            done += res[i].calls > 0;
    } while (done < n && uv_now(loop) - start < 5000);
}

static void finish(uv_loop_t *loop, struct curl_loop *cl)
{
    curl_loop_close(cl);
    while (uv_run(loop, UV_RUN_NOWAIT))
        ;
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_concurrent_transfers(void **state)
{
    struct responder srv;
    struct result res[3];
    CURL *e[3];
    struct curl_loop *cl;
    uv_loop_t loop;
    char url[64];
    int i;

    (void)state;
    memset(res, 0, sizeof(res));
    responder_start(&srv, 3, 0);
    uv_loop_init(&loop);
    assert_int_equal(curl_loop_new(&loop, &cl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
    for (i = 0; i < 3; i++) {
        e[i] = easy_for(url, &res[i], 0);
        assert_int_equal(curl_loop_add(cl, e[i], on_done, &res[i]), 0);
    }
    run_until_done(&loop, res, 3);
    for (i = 0; i < 3; i++) {
        assert_int_equal(res[i].calls, 1);
        assert_int_equal(res[i].code, CURLE_OK);
        assert_int_equal(res[i].status, 200);
        assert_int_equal(res[i].len, 5);
        assert_memory_equal(res[i].body, "hello", 5);
        curl_easy_cleanup(e[i]);
    }
    assert_int_equal(curl_loop_running(cl), 0);
    finish(&loop, cl);
    responder_stop(&srv);
}

static void test_refused_connection(void **state)
{
    struct responder srv;
    struct result res = {0};
    struct curl_loop *cl;
    uv_loop_t loop;
    char url[64];
    CURL *e;

    (void)state;
    /* A port that was just free: bind, note, close. */
    responder_start(&srv, 0, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
    responder_stop(&srv);
    uv_loop_init(&loop);
    assert_int_equal(curl_loop_new(&loop, &cl), 0);
    e = easy_for(url, &res, 0);
    assert_int_equal(curl_loop_add(cl, e, on_done, &res), 0);
    run_until_done(&loop, &res, 1);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.code, CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(e);
    finish(&loop, cl);
}

static void test_timeout_from_the_loop_timer(void **state)
{
    struct responder srv;
    struct result res = {0};
    struct curl_loop *cl;
    uv_loop_t loop;
    char url[64];
    CURL *e;
    uint64_t t0;

    (void)state;
    responder_start(&srv, 1, 1);
    uv_loop_init(&loop);
    assert_int_equal(curl_loop_new(&loop, &cl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
    e = easy_for(url, &res, 300);
    t0 = uv_now(&loop);
    assert_int_equal(curl_loop_add(cl, e, on_done, &res), 0);
    run_until_done(&loop, &res, 1);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.code, CURLE_OPERATION_TIMEDOUT);
    assert_true(uv_now(&loop) - t0 >= 290);
    assert_true(uv_now(&loop) - t0 < 3000);
    curl_easy_cleanup(e);
    finish(&loop, cl);
    responder_stop(&srv);
}

static void test_close_with_transfer_in_flight(void **state)
{
    struct responder srv;
    struct result res = {0};
    struct curl_loop *cl;
    uv_loop_t loop;
    char url[64];
    CURL *e;
    int i;

    (void)state;
    responder_start(&srv, 1, 1);
    uv_loop_init(&loop);
    assert_int_equal(curl_loop_new(&loop, &cl), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
    e = easy_for(url, &res, 0);
    assert_int_equal(curl_loop_add(cl, e, on_done, &res), 0);
    for (i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(res.calls, 0);
    finish(&loop, cl); /* closes the loop: no handle may be left */
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.code, CURLE_ABORTED_BY_CALLBACK);
    curl_easy_cleanup(e);
    responder_stop(&srv);
}

/* What the push channels keep of an answer for their logs, and their header lines. */
static void test_body_and_header_helpers(void **state)
{
    struct curl_loop_body b = {.len = 0};
    struct curl_slist *h = NULL;
    char big[3000];

    (void)state;
    assert_int_equal(curl_loop_keep_body("hello ", 1, 6, &b), 6);
    assert_int_equal(curl_loop_keep_body("world", 1, 5, &b), 5);
    assert_string_equal(b.text, "hello world");
    memset(big, 'x', sizeof(big));
    /* the whole chunk is taken (the transfer goes on), only the first bytes kept */
    assert_int_equal(curl_loop_keep_body(big, 1, sizeof(big), &b), sizeof(big));
    assert_int_equal(b.len, CURL_LOOP_KEEP);
    assert_int_equal(strlen(b.text), CURL_LOOP_KEEP);
    /* a body past CURL_LOOP_BODY_MAX is not read to its end: 0 for the chunk ends the transfer */
    while (b.seen + sizeof(big) <= CURL_LOOP_BODY_MAX)
        assert_int_equal(curl_loop_keep_body(big, 1, sizeof(big), &b), sizeof(big));
    assert_int_equal(b.cut, 0);
    assert_int_equal(curl_loop_keep_body(big, 1, sizeof(big), &b), 0);
    assert_int_equal(b.cut, 1);
    assert_int_equal(curl_loop_header(&h, "TTL: ", "60"), 0);
    assert_int_equal(curl_loop_header(&h, "Expect:", ""), 0);
    assert_string_equal(h->data, "TTL: 60");
    assert_string_equal(h->next->data, "Expect:");
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(curl_loop_header(&h, "X-Long: ", big), -1);
    assert_null(h->next->next);
    curl_slist_free_all(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_transfers),
        cmocka_unit_test(test_refused_connection),
        cmocka_unit_test(test_timeout_from_the_loop_timer),
        cmocka_unit_test(test_close_with_transfer_in_flight),
        cmocka_unit_test(test_body_and_header_helpers),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
