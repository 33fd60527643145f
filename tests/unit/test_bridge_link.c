/* The broker link: backoff, and a real Mosquitto (anonymous, no plugin) on a free loopback
 * port: connect, reference-counted subscriptions, messages, SUBACK notices, the link noticing
 * a broker that went away and coming back to one restarted, clean stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mosquitto.h>

#include "broker/link.h"

static void test_backoff(void **state)
{
    unsigned a;

    (void)state;
    assert_int_equal(mqlink_backoff_ms(0, 250, 30000, 0.0), 250);
    assert_int_equal(mqlink_backoff_ms(0, 250, 30000, 0.999), 250);
    assert_int_equal(mqlink_backoff_ms(3, 250, 30000, 0.5), 1000); /* 250 * 8 * 0.5 */
    for (a = 0; a < 64; a++) {
        assert_true(mqlink_backoff_ms(a, 250, 30000, 0.999) <= 30000);
        assert_true(mqlink_backoff_ms(a, 250, 30000, 0.0) >= 250);
    }
    assert_int_equal(mqlink_backoff_ms(40, 250, 30000, 0.999), 29970);
}

struct fx {
    uv_loop_t loop;
    struct mqlink *l;
    int port;
    pid_t broker;
    char conf[64];
    int ups, downs, subacks, msgs;
    char last_topic[128];
    char last_body[64];
    int stopped;
};

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void broker_start(struct fx *f)
{
    FILE *c = fopen(f->conf, "w");

    assert_non_null(c);
    fprintf(c, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n%s", f->port,
            getuid() == 0 ? "user root\n" : "");
    fclose(c);
    f->broker = fork();
    assert_true(f->broker >= 0);
    if (f->broker == 0) {
        int null = open("/dev/null", 1);

        /* A failed assertion ends the test process early: take the broker with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(null, 1);
        dup2(null, 2);
        unsetenv("LD_PRELOAD");
        execl("/usr/sbin/mosquitto", "mosquitto", "-c", f->conf, (char *)NULL);
        _exit(127);
    }
    usleep(300 * 1000);
}

static void broker_stop(struct fx *f)
{
    int st;

    kill(f->broker, SIGTERM);
    waitpid(f->broker, &st, 0);
}

static char *get_token(void *ud)
{
    (void)ud;
    return strdup("anonymous-is-allowed");
}

static void on_message(void *ud, const char *topic, const void *payload, size_t len)
{
    struct fx *f = ud;

    f->msgs++;
    snprintf(f->last_topic, sizeof(f->last_topic), "%s", topic);
    snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)len, (const char *)payload);
}

static void on_state(void *ud, bool up)
{
    struct fx *f = ud;

    if (up)
        f->ups++;
    else
        f->downs++;
}

static void on_subscribed(void *ud, const char *filter, bool granted)
{
    struct fx *f = ud;

    (void)filter;
    f->subacks += granted;
}

static const struct mqlink_ops ops = {on_message, on_state, on_subscribed};

/* Run the loop until *counter reaches want (or 10 s passed). */
static void run_until(struct fx *f, int *counter, int want)
{
    uint64_t start;

    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    while (*counter < want && uv_now(&f->loop) - start < 10000)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static void publish(struct fx *f, const char *topic, const char *body)
{
    struct mosquitto *m = mosquitto_new(NULL, true, NULL);

    assert_non_null(m);
    assert_int_equal(mosquitto_connect(m, "127.0.0.1", f->port, 10), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_publish(m, NULL, topic, (int)strlen(body), body, 1, false),
                     MOSQ_ERR_SUCCESS);
    mosquitto_loop(m, 100, 1);
    mosquitto_loop(m, 100, 1);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
}

/* A timer keeps UV_RUN_ONCE from blocking forever while we wait for the broker. */
static uv_timer_t ticker;

static void tick(uv_timer_t *t)
{
    (void)t;
}

static void on_stopped(void *arg)
{
    ((struct fx *)arg)->stopped = 1;
}

static void test_link_against_real_broker(void **state)
{
    struct fx f;
    struct mqlink_params p = {"127.0.0.1", 0, "link-test", 30, 60, get_token, 100, 400};
    int before;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.port = free_port();
    snprintf(f.conf, sizeof(f.conf), "/tmp/mqp-link-%d.conf", (int)getpid());
    broker_start(&f);
    uv_loop_init(&f.loop);
    uv_timer_init(&f.loop, &ticker);
    uv_timer_start(&ticker, tick, 20, 20);
    p.port = f.port;
    assert_int_equal(mqlink_new(&f.loop, &p, &ops, &f, &f.l), 0);
    assert_int_equal(mqlink_start(f.l), 0);
    run_until(&f, &f.ups, 1);
    assert_true(mqlink_is_up(f.l));

    /* Twice the same filter: one SUBSCRIBE, one SUBACK. */
    mqlink_subscribe(f.l, "t/s/#");
    mqlink_subscribe(f.l, "t/s/#");
    run_until(&f, &f.subacks, 1);
    publish(&f, "t/s/ns:a", "one");
    run_until(&f, &f.msgs, 1);
    assert_string_equal(f.last_topic, "t/s/ns:a");
    assert_string_equal(f.last_body, "one");
    /* One unsubscribe of two: still subscribed. */
    mqlink_unsubscribe(f.l, "t/s/#");
    publish(&f, "t/s/ns:a", "two");
    run_until(&f, &f.msgs, 2);
    assert_string_equal(f.last_body, "two");

    /* The broker goes away: down; it comes back on the same port: up, subscribed again. */
    broker_stop(&f);
    run_until(&f, &f.downs, 1);
    assert_false(mqlink_is_up(f.l));
    broker_start(&f);
    run_until(&f, &f.ups, 2);
    assert_true(mqlink_is_up(f.l));
    assert_true(mqlink_connects(f.l) >= 2);
    run_until(&f, &f.subacks, 2);
    publish(&f, "t/s/ns:a", "three");
    run_until(&f, &f.msgs, 3);
    assert_string_equal(f.last_body, "three");

    /* The last unsubscribe: nothing more arrives. */
    mqlink_unsubscribe(f.l, "t/s/#");
    before = f.msgs;
    {
        int i;

        /* Let UNSUBSCRIBE go out and the broker act on it (ticker: 20 ms a turn). */
        for (i = 0; i < 15; i++)
            uv_run(&f.loop, UV_RUN_ONCE);
    }
    publish(&f, "t/s/ns:a", "four");
    {
        int i;

        for (i = 0; i < 20; i++)
            uv_run(&f.loop, UV_RUN_ONCE);
    }
    assert_int_equal(f.msgs, before);

    mqlink_stop(f.l, on_stopped, &f);
    uv_timer_stop(&ticker);
    uv_close((uv_handle_t *)&ticker, NULL);
    while (uv_run(&f.loop, UV_RUN_NOWAIT))
        ;
    assert_int_equal(f.stopped, 1);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    mqlink_free(f.l);
    broker_stop(&f);
    unlink(f.conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_link_against_real_broker),
    };
    int rc;

    mosquitto_lib_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    mosquitto_lib_cleanup();
    return rc;
}
