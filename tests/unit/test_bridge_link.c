/*
 * The broker link against a real Mosquitto started by the test on a free loopback port (no
 * plugin): the backoff window; connecting; reference-counted subscriptions; a broker killed
 * and restarted on the same port; the session outliving the link (the session-expiry
 * property reached the broker); a refused CONNACK retried with backoff until the token is
 * right; stopping while up and while down, leaving no handle behind; a message that cannot be
 * kept redelivered after a reconnect, with a backoff that grows while it stays unkept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mosquitto.h>

#include "broker/link.h"

#define WAIT_MS 5000
#define BACKOFF_MIN 100
#define BACKOFF_MAX 400

/* ---- backoff ---------------------------------------------------------------------------- */

static void test_backoff(void **state)
{
    unsigned a, d, hi, prev_hi = 0;
    int i;

    (void)state;
    /* The first retry waits the minimum whatever the draw. */
    assert_int_equal(mqlink_backoff_ms(0, 250, 30000, 0.0), 250);
    assert_int_equal(mqlink_backoff_ms(0, 250, 30000, 0.999), 250);
    /* Attempt 3: window [250, 2000], the draw spreads over it. */
    assert_int_equal(mqlink_backoff_ms(3, 250, 30000, 0.0), 250);
    assert_int_equal(mqlink_backoff_ms(3, 250, 30000, 0.5), 250 + 875);
    /* The top of the window doubles each attempt until the cap, then stays there. */
    for (a = 0; a < 12; a++) {
        hi = mqlink_backoff_ms(a, 250, 30000, 0.999999);
        if (250u << a < 30000)
            assert_in_range(hi, (250u << a) - 1, 250u << a);
        else
            assert_in_range(hi, 29990, 30000);
        assert_true(hi >= prev_hi);
        prev_hi = hi;
    }
    /* Far past the cap, with draws all over [0, 1): never outside [min, max]. */
    for (i = 0; i < 1000; i++) {
        d = mqlink_backoff_ms(1000 + (unsigned)i, 250, 30000, i / 1000.0);
        assert_in_range(d, 250, 30000);
    }
    assert_in_range(mqlink_backoff_ms(4000000000u, 250, 30000, 0.5), 15000, 15125);
    /* A maximum below the minimum means the minimum; draws outside [0, 1) are clamped. */
    assert_int_equal(mqlink_backoff_ms(5, 500, 100, 0.9), 500);
    assert_int_equal(mqlink_backoff_ms(2, 100, 400, -3.0), 100);
    assert_in_range(mqlink_backoff_ms(2, 100, 400, 7.0), 399, 400);
}

/* ---- a real broker ---------------------------------------------------------------------- */

struct broker {
    pid_t pid;
    int port;
    char dir[64];
    bool passwords; /* allow_anonymous false, password file with link-test:right-token */
};

/* The running test's broker; static so that the teardown can still end it and remove its
 * files when an assertion left the test early. */
static struct broker the_broker;
static struct broker *current;

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static bool port_accepts(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static pid_t spawn(const char *path, char *const argv[])
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        /* A failed assertion ends the test process early: take the child with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, 1);
        dup2(null, 2);
        unsetenv("LD_PRELOAD");
        execv(path, argv);
        _exit(127);
    }
    return pid;
}

static struct broker *broker_init(bool passwords)
{
    struct broker *b = &the_broker;

    memset(b, 0, sizeof(*b));
    snprintf(b->dir, sizeof(b->dir), "/tmp/mqp-link-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    current = b;
    b->port = free_port();
    b->passwords = passwords;
    if (passwords) {
        char pw[96];
        char *argv[] = {"mosquitto_passwd", "-b", "-c", pw, "link-test", "right-token", NULL};
        int st;

        snprintf(pw, sizeof(pw), "%s/passwd", b->dir);
        assert_int_equal(waitpid(spawn("/usr/bin/mosquitto_passwd", argv), &st, 0) > 0, 1);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    return b;
}

static void broker_start(struct broker *b)
{
    char conf[96];
    char *argv[] = {"mosquitto", "-c", conf, NULL};
    FILE *c;
    int i;

    snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
    c = fopen(conf, "w");
    assert_non_null(c);
    fprintf(c, "listener %d 127.0.0.1\npersistence false\n", b->port);
    /* The broker's own record of each SUBSCRIBE and UNSUBSCRIBE it handled. */
    fprintf(c,
            "log_dest file %s/broker.log\nlog_type subscribe\nlog_type unsubscribe\n"
            "log_timestamp false\n",
            b->dir);
    if (b->passwords)
        fprintf(c, "allow_anonymous false\npassword_file %s/passwd\n", b->dir);
    else
        fprintf(c, "allow_anonymous true\n");
    /* As root, Mosquitto would drop to its own user, who cannot read our files. */
    if (getuid() == 0)
        fprintf(c, "user root\n");
    fclose(c);
    b->pid = spawn("/usr/sbin/mosquitto", argv);
    for (i = 0; i < 500 && !port_accepts(b->port); i++)
        usleep(10 * 1000);
    assert_true(i < 500);
}

static void broker_kill(struct broker *b, int sig)
{
    int st;

    kill(b->pid, sig);
    waitpid(b->pid, &st, 0);
    b->pid = 0;
}

static void broker_fini(struct broker *b)
{
    char path[96];

    if (b->pid)
        broker_kill(b, SIGTERM);
    snprintf(path, sizeof(path), "%s/mosquitto.conf", b->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/passwd", b->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/broker.log", b->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/link.log", b->dir);
    unlink(path);
    rmdir(b->dir);
    current = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (current)
        broker_fini(current);
    return 0;
}

/* How many lines of the broker's log are exactly line. */
static int broker_log_count(const struct broker *b, const char *line)
{
    char path[96], buf[256];
    FILE *f;
    int n = 0;

    snprintf(path, sizeof(path), "%s/broker.log", b->dir);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\n")] = '\0';
        n += strcmp(buf, line) == 0;
    }
    fclose(f);
    return n;
}

static void on_published(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)mid;
    *(bool *)obj = true;
}

/* QoS 1 from a second client; returns once the broker acknowledged it (PUBACK). */
static void publish(const struct broker *b, const char *topic, const char *body)
{
    bool acked = false;
    struct mosquitto *m = mosquitto_new(NULL, true, &acked);
    int i;

    assert_non_null(m);
    if (b->passwords)
        mosquitto_username_pw_set(m, "link-test", "right-token");
    mosquitto_publish_callback_set(m, on_published);
    assert_int_equal(mosquitto_connect(m, "127.0.0.1", b->port, 10), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_publish(m, NULL, topic, (int)strlen(body), body, 1, false),
                     MOSQ_ERR_SUCCESS);
    for (i = 0; i < 100 && !acked; i++)
        mosquitto_loop(m, 20, 1);
    assert_true(acked);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
}

/* Send this process's stderr (where the link logs) to path; returns the saved descriptor. */
static int stderr_to(const char *path)
{
    int saved, fd;

    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    return saved;
}

/* Undo stderr_to(), copy what was logged to the real stderr, return the first delay logged
 * ("next attempt in N ms"), or -1. */
static int stderr_back(int saved, const char *path)
{
    char buf[512];
    const char *at;
    FILE *f;
    size_t n;
    int delay = -1;

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    fputs(buf, stderr);
    at = strstr(buf, "next attempt in ");
    if (at)
        delay = atoi(at + strlen("next attempt in "));
    return delay;
}

/* ---- the link under test ---------------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    uv_timer_t ticker; /* keeps UV_RUN_ONCE from sleeping past a deadline */
    struct mqlink *l;
    int ups, downs, msgs, stopped;
    char bodies[512];  /* "topic=body;" per message, in order */
    char subacks[256]; /* "filter;" per granted SUBACK, in order */
    char vias[64];     /* per message: 'p' plain, 's' shared, 'b' both, '0' not said */
    int refuse;        /* messages still to refuse (on_message returns -1) */
    const char *token;
    int token_calls;
    uint64_t token_at[16];
};

static char *get_token(void *ud)
{
    struct fx *f = ud;

    if (f->token_calls < 16)
        f->token_at[f->token_calls] = uv_now(&f->loop);
    f->token_calls++;
    return strdup(f->token);
}

static int on_message(void *ud, const char *topic, const void *payload, size_t len, unsigned via)
{
    struct fx *f = ud;
    size_t n = strlen(f->bodies), v = strlen(f->vias);

    f->msgs++;
    snprintf(f->bodies + n, sizeof(f->bodies) - n, "%s=%.*s;", topic, (int)len,
             (const char *)payload);
    if (v + 1 < sizeof(f->vias))
        f->vias[v] = via == (MQLINK_VIA_PLAIN | MQLINK_VIA_SHARED) ? 'b'
                     : via == MQLINK_VIA_PLAIN                     ? 'p'
                     : via == MQLINK_VIA_SHARED                    ? 's'
                                                                   : '0';
    if (f->refuse > 0) {
        f->refuse--;
        return -1;
    }
    return 0;
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
    size_t n = strlen(f->subacks);

    if (granted)
        snprintf(f->subacks + n, sizeof(f->subacks) - n, "%s;", filter);
}

static const struct mqlink_ops ops = {on_message, on_state, on_subscribed};

static void tick(uv_timer_t *t)
{
    (void)t;
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->token = "anonymous-is-allowed";
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->ticker);
    uv_timer_start(&f->ticker, tick, 10, 10);
}

static void link_open(struct fx *f, const struct broker *b, const char *client_id)
{
    struct mqlink_params p = {
        .host = "127.0.0.1",
        .port = b->port,
        .client_id = client_id,
        .keepalive_s = 30,
        .session_expiry_s = 60,
        .get_token = get_token,
        .backoff_min_ms = BACKOFF_MIN,
        .backoff_max_ms = BACKOFF_MAX,
    };

    assert_int_equal(mqlink_new(&f->loop, &p, &ops, f, &f->l), 0);
    assert_int_equal(mqlink_start(f->l), 0);
}

/* Run the loop until *counter reaches want; false after WAIT_MS. */
static bool run_until(struct fx *f, const int *counter, int want)
{
    uint64_t start;

    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    while (*counter < want && uv_now(&f->loop) - start < WAIT_MS)
        uv_run(&f->loop, UV_RUN_ONCE);
    return *counter >= want;
}

static bool run_until_text(struct fx *f, const char *buf, const char *needle)
{
    uint64_t start;

    uv_update_time(&f->loop);
    start = uv_now(&f->loop);
    while (strstr(buf, needle) == NULL && uv_now(&f->loop) - start < WAIT_MS)
        uv_run(&f->loop, UV_RUN_ONCE);
    return strstr(buf, needle) != NULL;
}

static void on_stopped(void *arg)
{
    ((struct fx *)arg)->stopped++;
}

/* Stop the link (done must come, once) and free it. */
static void link_close(struct fx *f)
{
    mqlink_stop(f->l, on_stopped, f);
    mqlink_stop(f->l, on_stopped, f); /* a second stop does nothing */
    assert_true(run_until(f, &f->stopped, 1));
    mqlink_free(f->l);
    f->l = NULL;
    assert_int_equal(f->stopped, 1);
}

/* Every handle the link opened must be closed by now: uv_loop_close() says UV_EBUSY (rather
 * than the test hanging in uv_run) when one is left. */
static void fx_fini(struct fx *f)
{
    uv_close((uv_handle_t *)&f->ticker, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* A broker of its own and a link to it, up. */
static struct broker *linked(struct fx *f, const char *client_id)
{
    struct broker *b = broker_init(false);

    broker_start(b);
    fx_init(f);
    link_open(f, b, client_id);
    assert_true(run_until(f, &f->ups, 1));
    return b;
}

/* Subscriptions: one SUBSCRIBE per filter however often it is held, UNSUBSCRIBE with the last. */
static void test_subscriptions(void **state)
{
    struct broker *b;
    struct fx f;

    (void)state;
    b = linked(&f, "link-subs");
    assert_true(mqlink_is_up(f.l));
    assert_int_equal(mqlink_connects(f.l), 1);

    mqlink_subscribe(f.l, "t/s/#");
    mqlink_subscribe(f.l, "t/s/#");
    /* The broker handles a client's packets in order: once it acknowledged a later filter, a
     * second SUBSCRIBE of t/s/# would be in its log. */
    mqlink_subscribe(f.l, "t/mark1");
    assert_true(run_until_text(&f, f.subacks, "t/mark1;"));
    assert_string_equal(f.subacks, "t/s/#;t/mark1;");
    assert_int_equal(broker_log_count(b, "link-subs 1 t/s/#"), 1);
    publish(b, "t/s/ns:a", "one");
    assert_true(run_until(&f, &f.msgs, 1));
    assert_string_equal(f.bodies, "t/s/ns:a=one;");

    /* One of two holders let go: still subscribed, nothing sent. */
    mqlink_unsubscribe(f.l, "t/s/#");
    publish(b, "t/s/ns:a", "two");
    assert_true(run_until(&f, &f.msgs, 2));
    assert_string_equal(f.bodies, "t/s/ns:a=one;t/s/ns:a=two;");
    assert_int_equal(broker_log_count(b, "link-subs t/s/#"), 0);

    /* The last one let go. The broker handles packets in order, so the SUBACK of a later
     * SUBSCRIBE means it has handled the UNSUBSCRIBE; then a message on t/s/ published before
     * one on the marker would arrive before it. */
    mqlink_unsubscribe(f.l, "t/s/#");
    mqlink_unsubscribe(f.l, "t/s/#"); /* one too many: ignored */
    mqlink_subscribe(f.l, "t/mark2");
    assert_true(run_until_text(&f, f.subacks, "t/mark2;"));
    publish(b, "t/s/ns:a", "three");
    publish(b, "t/mark2", "four");
    assert_true(run_until_text(&f, f.bodies, "t/mark2=four;"));
    assert_string_equal(f.bodies, "t/s/ns:a=one;t/s/ns:a=two;t/mark2=four;");
    assert_int_equal(broker_log_count(b, "link-subs 1 t/s/#"), 1);
    assert_int_equal(broker_log_count(b, "link-subs t/s/#"), 1);
    assert_int_equal(f.downs, 0);

    link_close(&f);
    assert_int_equal(f.downs, 0); /* a requested stop is not reported as a drop */
    fx_fini(&f);
    broker_fini(b);
}

/* The broker dies (SIGKILL: no DISCONNECT) and comes back on the same port without the
 * session: the link notices, reconnects with backoff and subscribes again. */
static void test_broker_restart(void **state)
{
    struct broker *b;
    struct fx f;
    char log[96];
    int saved;
    bool down;

    (void)state;
    b = linked(&f, "link-restart");
    mqlink_subscribe(f.l, "t/r/#");
    assert_true(run_until_text(&f, f.subacks, "t/r/#;"));

    broker_kill(b, SIGKILL);
    assert_true(run_until(&f, &f.downs, 1));
    assert_false(mqlink_is_up(f.l));
    /* Down for a few attempts: connection refused, retried. */
    assert_true(run_until(&f, &f.token_calls, 3));
    assert_int_equal(f.ups, 1);

    broker_start(b);
    assert_true(run_until(&f, &f.ups, 2));
    assert_true(mqlink_is_up(f.l));
    assert_int_equal(mqlink_connects(f.l), 2);
    /* The new broker knew nothing of us: the message arrives only if the link subscribed. */
    assert_true(run_until_text(&f, f.subacks, "t/r/#;t/r/#;"));
    publish(b, "t/r/ns:a", "after");
    assert_true(run_until(&f, &f.msgs, 1));
    assert_string_equal(f.bodies, "t/r/ns:a=after;");
    assert_int_equal(f.downs, 1);

    /* The connect that succeeded started the backoff over: after this drop the first retry
     * waits exactly the minimum (without the reset the window would reach 400 ms). */
    snprintf(log, sizeof(log), "%s/link.log", b->dir);
    saved = stderr_to(log);
    broker_kill(b, SIGKILL);
    down = run_until(&f, &f.downs, 2);
    assert_int_equal(stderr_back(saved, log), BACKOFF_MIN);
    assert_true(down);

    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* Another connection with the link's client id takes the session over: Mosquitto 2.0.11
 * closes the link's connection (no DISCONNECT packet); the link reports down, comes back
 * after the backoff and takes its session back. */
static void test_session_taken_over(void **state)
{
    struct broker *b;
    struct fx f;
    struct mosquitto *other;

    (void)state;
    b = linked(&f, "link-taken");

    other = mosquitto_new("link-taken", true, NULL);
    assert_non_null(other);
    assert_int_equal(mosquitto_connect(other, "127.0.0.1", b->port, 10), MOSQ_ERR_SUCCESS);
    assert_true(run_until(&f, &f.downs, 1));
    assert_true(run_until(&f, &f.ups, 2));
    assert_int_equal(mqlink_connects(f.l), 2);
    mosquitto_destroy(other);

    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* A clean stop keeps the session (clean start off, session expiry sent in CONNECT): the
 * broker queues what arrives meanwhile and a new link with the same client id gets it
 * without subscribing. */
static void test_session_outlives_link(void **state)
{
    struct broker *b;
    struct fx f;

    (void)state;
    b = linked(&f, "link-session");
    mqlink_subscribe(f.l, "t/k/#");
    assert_true(run_until_text(&f, f.subacks, "t/k/#;"));
    link_close(&f);

    publish(b, "t/k/ns:a", "while-away");

    f.stopped = 0;
    link_open(&f, b, "link-session");
    assert_true(run_until(&f, &f.msgs, 1));
    assert_string_equal(f.bodies, "t/k/ns:a=while-away;");
    assert_string_equal(f.subacks, "t/k/#;"); /* nothing subscribed this time */
    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* A token the broker refuses: CONNACK 0x87 (not authorized), retried after at least the
 * minimum delay and with a fresh token each time; once the token is right the link comes up. */
static void test_refused_then_accepted(void **state)
{
    struct broker *b;
    struct fx f;
    int i;

    (void)state;
    b = broker_init(true);
    broker_start(b);
    fx_init(&f);
    f.token = "wrong-token";
    link_open(&f, b, "link-test");
    assert_true(run_until(&f, &f.token_calls, 4));
    assert_int_equal(f.ups, 0);
    assert_false(mqlink_is_up(f.l));
    assert_int_equal(mqlink_connects(f.l), 0);
    /* Each retry waits at least the minimum (the first call is the start itself). */
    for (i = 1; i < 4; i++)
        assert_true(f.token_at[i] - f.token_at[i - 1] >= BACKOFF_MIN);

    f.token = "right-token";
    assert_true(run_until(&f, &f.ups, 1));
    assert_int_equal(mqlink_connects(f.l), 1);
    link_close(&f);
    assert_int_equal(f.downs, 0);
    fx_fini(&f);
    broker_fini(b);
}

/* No broker at all: connects fail and are retried; stopping between attempts closes the
 * retry timer too. */
static void test_stop_while_down(void **state)
{
    struct broker *b;
    struct fx f;

    (void)state;
    b = broker_init(false); /* a free port, nobody listening */
    fx_init(&f);
    link_open(&f, b, "link-down");
    assert_true(run_until(&f, &f.token_calls, 2));
    assert_false(mqlink_is_up(f.l));
    mqlink_subscribe(f.l, "t/d/#"); /* remembered while down, freed with the link */
    link_close(&f);
    assert_int_equal(f.ups + f.downs, 0);
    fx_fini(&f);
    broker_fini(b);
}

/* mqlink_publish(): refused while down, QoS 1 through the broker while up (it comes back to
 * the link's own subscription: MQTT 5 "no local" is off). */
static void test_publish(void **state)
{
    struct broker *b;
    struct fx f;

    (void)state;
    b = broker_init(false);
    fx_init(&f);
    link_open(&f, b, "link-pub");
    assert_false(mqlink_is_up(f.l));
    assert_int_equal(mqlink_publish(f.l, "t/p/ns:x", "early", 5), -1);
    broker_start(b);
    assert_true(run_until(&f, &f.ups, 1));
    mqlink_subscribe(f.l, "t/p/#");
    assert_true(run_until_text(&f, f.subacks, "t/p/#;"));
    assert_int_equal(mqlink_publish(f.l, "t/p/ns:x", "{\"a\":1}", 7), 0);
    assert_true(run_until(&f, &f.msgs, 1));
    assert_string_equal(f.bodies, "t/p/ns:x={\"a\":1};");
    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* A message the link could not keep is not acknowledged: the link drops the connection, and
 * the broker's session delivers it again (the same message, once more) after the reconnect;
 * the one after it waits its turn, so the order holds. */
static void test_unkept_redelivered(void **state)
{
    struct broker *b;
    struct fx f;

    (void)state;
    b = linked(&f, "link-keep");
    mqlink_subscribe(f.l, "t/k/#");
    assert_true(run_until_text(&f, f.subacks, "t/k/#;"));
    f.refuse = 1;
    publish(b, "t/k/ns:a", "one");
    publish(b, "t/k/ns:a", "two");
    assert_true(run_until(&f, &f.ups, 2));
    assert_true(run_until_text(&f, f.bodies, "two;"));
    assert_int_equal(f.downs, 1);
    /* "one" was seen, refused, then delivered again before "two". */
    assert_string_equal(f.bodies, "t/k/ns:a=one;t/k/ns:a=one;t/k/ns:a=two;");
    /* Nothing more comes: both were acknowledged the second time. */
    publish(b, "t/k/ns:a", "three");
    assert_true(run_until_text(&f, f.bodies, "three;"));
    assert_string_equal(f.bodies, "t/k/ns:a=one;t/k/ns:a=one;t/k/ns:a=two;t/k/ns:a=three;");
    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* Every "next attempt in N ms" logged to path so far, into d (at most max); their count. */
static int delays_logged(const char *path, int *d, int max)
{
    char buf[4096];
    const char *at = buf;
    FILE *f;
    size_t len;
    int n = 0;

    fflush(stderr);
    f = fopen(path, "r");
    assert_non_null(f);
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    while (n < max && (at = strstr(at, "next attempt in ")) != NULL) {
        at += strlen("next attempt in ");
        d[n++] = atoi(at);
    }
    return n;
}

/* A message that cannot be kept (a store failing) comes back after each reconnect and is
 * refused again: the backoff grows over those reconnects instead of starting over at every
 * CONNACK (the delays would all be BACKOFF_MIN). mqlink_retry_now() ends a wait at once. */
static void test_unkept_backs_off(void **state)
{
    struct broker *b;
    struct fx f;
    char log[96];
    int saved, d[8], n;
    uint64_t t0;
    bool kept;

    (void)state;
    b = linked(&f, "link-unkept");
    mqlink_subscribe(f.l, "t/u/#");
    assert_true(run_until_text(&f, f.subacks, "t/u/#;"));
    snprintf(log, sizeof(log), "%s/link.log", b->dir);
    saved = stderr_to(log);
    f.refuse = 4;
    publish(b, "t/u/ns:a", "one");
    kept = run_until(&f, &f.msgs, 5);
    n = delays_logged(log, d, 8);
    stderr_back(saved, log);
    assert_true(kept);
    assert_int_equal(f.downs, 4);
    assert_int_equal(n, 4);
    assert_int_equal(d[0], BACKOFF_MIN);
    /* windows of 200, 400, 400 ms: all three at the floor has a chance of about 1e-7 */
    assert_true(d[1] > BACKOFF_MIN || d[2] > BACKOFF_MIN || d[3] > BACKOFF_MIN);
    assert_true(d[1] <= 2 * BACKOFF_MIN && d[2] <= BACKOFF_MAX && d[3] <= BACKOFF_MAX);

    /* Kept: the backoff starts over. Refused once more, then retried now rather than after it. */
    f.refuse = 1;
    publish(b, "t/u/ns:a", "two");
    assert_true(run_until(&f, &f.downs, 5));
    uv_update_time(&f.loop);
    t0 = uv_now(&f.loop);
    mqlink_retry_now(f.l);
    assert_true(run_until(&f, &f.ups, 6));
    assert_true(uv_now(&f.loop) - t0 < BACKOFF_MIN);
    assert_true(run_until(&f, &f.msgs, 7));
    mqlink_retry_now(f.l); /* up: nothing to do */
    assert_int_equal(f.ups, 6);
    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

/* A plain and a shared subscription on one filter: the broker sends a copy for each, and the
 * subscription identifiers tell which came how. With two members of a group, each message goes
 * to one of them. */
static void test_shared_subscriptions(void **state)
{
    struct broker *b;
    struct fx f, g;
    int i;

    (void)state;
    b = linked(&f, "link-share-a");
    mqlink_subscribe(f.l, "t/x/#");
    mqlink_subscribe(f.l, "$share/grp/t/x/#");
    assert_true(run_until_text(&f, f.subacks, "$share/grp/t/x/#;"));
    publish(b, "t/x/ns:a", "one");
    assert_true(run_until(&f, &f.msgs, 2));
    assert_string_equal(f.bodies, "t/x/ns:a=one;t/x/ns:a=one;");
    assert_true(strcmp(f.vias, "ps") == 0 || strcmp(f.vias, "sp") == 0);

    /* A second member: ten messages are split between the two, none doubled or lost. */
    mqlink_unsubscribe(f.l, "t/x/#");
    fx_init(&g);
    link_open(&g, b, "link-share-b");
    assert_true(run_until(&g, &g.ups, 1));
    mqlink_subscribe(g.l, "$share/grp/t/x/#");
    assert_true(run_until_text(&g, g.subacks, "$share/grp/t/x/#;"));
    f.msgs = 0;
    for (i = 0; i < 10; i++)
        publish(b, "t/x/ns:b", "m");
    for (i = 0; i < 200 && f.msgs + g.msgs < 10; i++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        uv_run(&g.loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    assert_int_equal(f.msgs + g.msgs, 10);
    assert_true(f.msgs > 0 && g.msgs > 0);
    assert_null(strchr(g.vias, 'p'));
    link_close(&g);
    fx_fini(&g);
    link_close(&f);
    fx_fini(&f);
    broker_fini(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test_teardown(test_subscriptions, teardown),
        cmocka_unit_test_teardown(test_broker_restart, teardown),
        cmocka_unit_test_teardown(test_session_taken_over, teardown),
        cmocka_unit_test_teardown(test_session_outlives_link, teardown),
        cmocka_unit_test_teardown(test_refused_then_accepted, teardown),
        cmocka_unit_test_teardown(test_stop_while_down, teardown),
        cmocka_unit_test_teardown(test_publish, teardown),
        cmocka_unit_test_teardown(test_unkept_redelivered, teardown),
        cmocka_unit_test_teardown(test_unkept_backs_off, teardown),
        cmocka_unit_test_teardown(test_shared_subscriptions, teardown),
    };
    int rc;

    mosquitto_lib_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    mosquitto_lib_cleanup();
    return rc;
}
