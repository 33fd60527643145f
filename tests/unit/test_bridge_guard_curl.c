/* The SSRF guard on real transfers, all to listeners on loopback: a refused address never
 * sees a connection, an allowed one gets the request, redirects are not followed (and are
 * still checked when a caller turns following on), proxy variables are ignored, and a name
 * that curl resolves to loopback (as after DNS rebinding) is refused at connect time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/guard.h"

/* A listening socket on ip; with a thread when it should answer n requests with reply. */
struct server {
    int fd;
    int port;
    int n;
    const char *reply;
    pthread_t thread;
    int threaded;
    int requests;
    char first[2048];
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int i;

    for (i = 0; i < s->n; i++) {
        char buf[2048];
        size_t got = 0;
        int c = accept(s->fd, NULL, NULL);

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
        if (got > 0 && s->requests++ == 0)
            memcpy(s->first, buf, got + 1);
        if (write(c, s->reply, strlen(s->reply)) < 0)
            perror("write");
        close(c);
    }
    return NULL;
}

static void server_start(struct server *s, const char *ip, int n, const char *reply)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int one = 1;

    memset(s, 0, sizeof(*s));
    s->n = n;
    s->reply = reply;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    inet_pton(AF_INET, ip, &sa.sin_addr);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
    s->port = ntohs(sa.sin_port);
    if (n > 0) {
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
        s->threaded = 1;
    }
}

/* Connections that reached the listener without a thread to accept them. */
static int pending(struct server *s)
{
    int n = 0, c;

    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    return n;
}

static void server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    if (s->threaded)
        pthread_join(s->thread, NULL);
}

static const char ok_reply[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static struct guard *make(const char *cidr)
{
    struct guard *g = NULL;
    char err[160];

    assert_int_equal(guard_new(cidr ? &cidr : NULL, cidr ? 1 : 0, &g, err, sizeof(err)), 0);
    return g;
}

static CURL *easy_for(const char *url, const struct guard *g, struct guard_pin *pin)
{
    CURL *e = curl_easy_init();

    assert_non_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 3000L);
    if (pin)
        assert_int_equal(guard_apply(g, e, pin), 0);
    return e;
}

static void test_refused_before_any_connection(void **state)
{
    static const char *const spellings[] = {"127.0.0.1", "127.1", "2130706433", "0x7f000001",
                                            "localhost"};
    struct guard *g = make(NULL);
    struct server srv;
    struct guard_pin pin;
    char url[96], text[160];
    size_t i;

    (void)state;
    server_start(&srv, "127.0.0.1", 0, NULL);
    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        CURL *e;

        snprintf(url, sizeof(url), "http://%s:%d/push", spellings[i], srv.port);
        e = easy_for(url, g, &pin);
        assert_int_equal(curl_easy_perform(e), CURLE_COULDNT_CONNECT);
        assert_non_null(guard_refusal(&pin));
        assert_string_equal(guard_refusal(&pin), "loopback");
        guard_refusal_text(&pin, text, sizeof(text));
        if (strcmp(spellings[i], "localhost") != 0)
            assert_string_equal(text, "refused by the SSRF guard: 127.0.0.1 is loopback");
        else
            assert_non_null(strstr(text, "is loopback"));
        curl_easy_cleanup(e);
    }
    assert_int_equal(pending(&srv), 0);
    server_stop(&srv);
    guard_free(g);
}

/* The control for the test above: without the guard the same listener is reached. */
static void test_without_guard_the_listener_is_reached(void **state)
{
    struct server srv;
    char url[96];
    CURL *e;

    (void)state;
    server_start(&srv, "127.0.0.1", 0, NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/push", srv.port);
    e = easy_for(url, NULL, NULL);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
    assert_int_equal(curl_easy_perform(e), CURLE_OPERATION_TIMEDOUT);
    curl_easy_cleanup(e);
    assert_int_equal(pending(&srv), 1);
    server_stop(&srv);
}

static void test_allowed_request_arrives(void **state)
{
    struct guard *g = make("127.0.0.0/8");
    struct server srv;
    struct guard_pin pin;
    char url[96];
    long status = 0;
    CURL *e;

    (void)state;
    server_start(&srv, "127.0.0.1", 1, ok_reply);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/push", srv.port);
    e = easy_for(url, g, &pin);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_null(guard_refusal(&pin));
    curl_easy_cleanup(e);
    server_stop(&srv);
    assert_int_equal(srv.requests, 1);
    assert_memory_equal(srv.first, "GET /push HTTP/1.1\r\n", 20);
    guard_free(g);
}

static void test_redirect_not_followed(void **state)
{
    struct guard *g = make("127.0.0.0/8");
    struct server target, srv;
    struct guard_pin pin;
    char url[96], reply[256];
    char *location = NULL;
    long status = 0;
    CURL *e;

    (void)state;
    server_start(&target, "127.0.0.1", 0, NULL);
    snprintf(reply, sizeof(reply),
             "HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:%d/secret\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n",
             target.port);
    server_start(&srv, "127.0.0.1", 1, reply);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/push", srv.port);
    e = easy_for(url, g, &pin);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 301);
    curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location);
    assert_non_null(location);
    assert_non_null(strstr(location, "/secret"));
    curl_easy_cleanup(e);
    server_stop(&srv);
    assert_int_equal(pending(&target), 0);
    server_stop(&target);
    guard_free(g);
}

/* Should a caller turn following on after guard_apply(), the next hop is still checked. */
static void test_followed_redirect_is_still_checked(void **state)
{
    struct guard *g = make("127.0.0.1/32");
    struct server target, srv;
    struct guard_pin pin;
    char url[96], reply[256], text[160];
    CURL *e;

    (void)state;
    server_start(&target, "127.0.0.2", 0, NULL);
    snprintf(reply, sizeof(reply),
             "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.2:%d/secret\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n",
             target.port);
    server_start(&srv, "127.0.0.1", 1, reply);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/push", srv.port);
    e = easy_for(url, g, &pin);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    assert_int_equal(curl_easy_perform(e), CURLE_COULDNT_CONNECT);
    assert_string_equal(guard_refusal(&pin), "loopback");
    guard_refusal_text(&pin, text, sizeof(text));
    assert_string_equal(text, "refused by the SSRF guard: 127.0.0.2 is loopback");
    curl_easy_cleanup(e);
    server_stop(&srv);
    assert_int_equal(srv.requests, 1);
    assert_int_equal(pending(&target), 0);
    server_stop(&target);
    guard_free(g);
}

static void test_proxy_variables_ignored(void **state)
{
    struct guard *g = make("127.0.0.0/8");
    struct server proxy, srv;
    struct guard_pin pin;
    char url[96], env[96];
    CURL *e;

    (void)state;
    server_start(&proxy, "127.0.0.1", 0, NULL);
    server_start(&srv, "127.0.0.1", 1, ok_reply);
    snprintf(env, sizeof(env), "http://127.0.0.1:%d", proxy.port);
    setenv("http_proxy", env, 1);
    setenv("ALL_PROXY", env, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/push", srv.port);
    e = easy_for(url, g, &pin);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    server_stop(&srv);
    assert_int_equal(srv.requests, 1);
    assert_int_equal(pending(&proxy), 0);
    server_stop(&proxy);
    guard_free(g);
}

/* curl's own resolution is what counts: a public-looking name that resolves to loopback at
 * transfer time (CURLOPT_RESOLVE stands in for a rebinding DNS server) is refused. */
static void test_name_resolving_to_loopback_refused(void **state)
{
    struct guard *g = make(NULL);
    struct server srv;
    struct guard_pin pin;
    struct curl_slist *resolve = NULL;
    char url[96], entry[96];
    CURL *e;

    (void)state;
    server_start(&srv, "127.0.0.1", 0, NULL);
    snprintf(entry, sizeof(entry), "push.example.com:%d:127.0.0.1", srv.port);
    resolve = curl_slist_append(resolve, entry);
    snprintf(url, sizeof(url), "http://push.example.com:%d/push", srv.port);
    e = easy_for(url, g, &pin);
    curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
    assert_int_equal(curl_easy_perform(e), CURLE_COULDNT_CONNECT);
    assert_string_equal(guard_refusal(&pin), "loopback");
    curl_easy_cleanup(e);
    curl_slist_free_all(resolve);
    assert_int_equal(pending(&srv), 0);
    server_stop(&srv);
    guard_free(g);
}

static void test_other_protocols_refused(void **state)
{
    struct guard *g = make(NULL);
    struct guard_pin pin;
    CURL *e;

    (void)state;
    e = easy_for("file:///etc/hostname", g, &pin);
    assert_int_equal(curl_easy_perform(e), CURLE_UNSUPPORTED_PROTOCOL);
    curl_easy_cleanup(e);
    e = easy_for("ftp://127.0.0.1:1/", g, &pin);
    assert_int_equal(curl_easy_perform(e), CURLE_UNSUPPORTED_PROTOCOL);
    assert_null(guard_refusal(&pin));
    curl_easy_cleanup(e);
    guard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_before_any_connection),
        cmocka_unit_test(test_without_guard_the_listener_is_reached),
        cmocka_unit_test(test_allowed_request_arrives),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_followed_redirect_is_still_checked),
        cmocka_unit_test(test_proxy_variables_ignored),
        cmocka_unit_test(test_name_resolving_to_loopback_refused),
        cmocka_unit_test(test_other_protocols_refused),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
