/* The outbound SSRF guard without connections: address classes in every IPv4 and IPv6
 * spelling, the allow-list, endpoint URL checks, and lookups on a real libuv loop (localhost
 * and IP literals only, so nothing leaves the machine). The connect-time check is in
 * test_bridge_guard_curl.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <arpa/inet.h>
#include <sys/un.h>

#include <cmocka.h>

#include "config_int.h"
#include "net/guard.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        fail_msg("not an address: %s", text);
    return ss;
}

static const char *cls(const char *text)
{
    struct sockaddr_storage ss = addr(text);

    return guard_addr_class((struct sockaddr *)&ss);
}

static struct guard *make(const char *const *cidrs, size_t n)
{
    struct guard *g = NULL;
    char err[160];

    assert_int_equal(guard_new(cidrs, n, &g, err, sizeof(err)), 0);
    assert_non_null(g);
    return g;
}

static const struct {
    const char *addr, *cls;
} refused[] = {
    /* IPv4, with the edges of each range */
    {"0.0.0.0", "unspecified"},
    {"0.255.255.255", "unspecified"},
    {"10.0.0.0", "private"},
    {"10.255.255.255", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"192.168.0.1", "private"},
    {"192.168.255.255", "private"},
    {"127.0.0.1", "loopback"},
    {"127.255.255.254", "loopback"},
    {"169.254.0.1", "link-local"},
    {"169.254.169.254", "link-local"},
    {"100.64.0.1", "cgnat"},
    {"100.127.255.255", "cgnat"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"255.255.255.255", "broadcast"},
    {"240.0.0.1", "reserved"},
    {"255.255.255.254", "reserved"},
    {"192.0.0.8", "reserved"},
    {"192.0.0.170", "reserved"},
    {"192.0.2.1", "reserved"},
    {"192.88.99.1", "reserved"},
    {"198.18.0.1", "reserved"},
    {"198.19.255.255", "reserved"},
    {"198.51.100.7", "reserved"},
    {"203.0.113.9", "reserved"},
    /* IPv6 */
    {"::", "unspecified"},
    {"::1", "loopback"},
    {"fe80::1", "link-local"},
    {"febf:ffff::1", "link-local"},
    {"fec0::1", "private"},
    {"fc00::1", "unique-local"},
    {"fdff:ffff::1", "unique-local"},
    {"ff02::1", "multicast"},
    {"ff0e::1", "multicast"},
    {"2001:db8::1", "reserved"},
    {"2001::1", "reserved"},          /* Teredo */
    {"2001:2::1", "reserved"},        /* benchmarking */
    {"2001:1ff:ffff::1", "reserved"}, /* the last of 2001::/23 */
    {"3fff::1", "reserved"},
    {"100::1", "reserved"},
    {"64:ff9b:1::1", "reserved"},
    {"5f00::1", "reserved"},
    {"4000::1", "reserved"},
    {"::ffff:0:7f00:1", "reserved"}, /* IPv4-translated, not IPv4-mapped */
    /* IPv4-mapped */
    {"::ffff:127.0.0.1", "loopback"},
    {"::ffff:7f00:1", "loopback"},
    {"::ffff:10.0.0.1", "private"},
    {"::ffff:169.254.169.254", "link-local"},
    {"::ffff:100.64.0.1", "cgnat"},
    {"::ffff:0.0.0.0", "unspecified"},
    {"::ffff:224.0.0.1", "multicast"},
    {"::ffff:255.255.255.255", "broadcast"},
    {"::ffff:198.18.0.1", "reserved"},
    /* IPv4-compatible */
    {"::127.0.0.1", "loopback"},
    {"::10.1.2.3", "private"},
    {"::0.0.0.2", "unspecified"},
    {"::8.8.8.8", "reserved"},
    /* NAT64 */
    {"64:ff9b::127.0.0.1", "loopback"},
    {"64:ff9b::a9fe:a9fe", "link-local"},
    {"64:ff9b::192.168.0.1", "private"},
    /* 6to4 */
    {"2002:7f00:1::", "loopback"},
    {"2002:a00:1::1", "private"},
    {"2002:c0a8:101::1", "private"},
    {"2002:a9fe:a9fe::", "link-local"},
    {"2002:6440:1::1", "cgnat"},
};

static const char *const public_addrs[] = {
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "9.255.255.255",
    "11.0.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.255",
    "192.0.3.0",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "203.0.112.255",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "2001:4860:4860::8888",
    "2001:200::1",
    "3ffe::1",
    "2c0f:f248::1",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
};

static void test_refused_classes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *got = cls(refused[i].addr);

        if (got == NULL || strcmp(got, refused[i].cls) != 0)
            fail_msg("%s: expected %s, got %s", refused[i].addr, refused[i].cls,
                     got ? got : "public");
    }
}

static void test_public_addresses(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(public_addrs) / sizeof(public_addrs[0]); i++) {
        struct sockaddr_storage ss = addr(public_addrs[i]);
        const char *got = guard_addr_class((struct sockaddr *)&ss);

        if (got != NULL)
            fail_msg("%s: expected public, got %s", public_addrs[i], got);
        assert_true(guard_allowed(NULL, (struct sockaddr *)&ss));
        assert_false(guard_listed(NULL, (struct sockaddr *)&ss));
    }
}

static void test_non_ip_family(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};

    (void)state;
    assert_string_equal(guard_addr_class((struct sockaddr *)&un), "not-ip");
    assert_false(guard_allowed(NULL, (struct sockaddr *)&un));
}

static bool listed(const struct guard *g, const char *text)
{
    struct sockaddr_storage ss = addr(text);

    return guard_listed(g, (struct sockaddr *)&ss);
}

static bool allowed(const struct guard *g, const char *text)
{
    struct sockaddr_storage ss = addr(text);

    return guard_allowed(g, (struct sockaddr *)&ss);
}

static void test_allow_list(void **state)
{
    static const char *const cidrs[] = {"127.0.0.0/8", "::1/128", "10.1.2.3/16", "fd00::/8",
                                        "169.254.169.254/32"};
    struct guard *g = make(cidrs, 5);

    (void)state;
    assert_true(allowed(g, "127.0.0.1"));
    assert_true(allowed(g, "127.9.9.9"));
    assert_true(allowed(g, "::1"));
    assert_true(allowed(g, "10.1.0.1")); /* host bits of 10.1.2.3/16 ignored */
    assert_true(allowed(g, "10.1.255.255"));
    assert_false(allowed(g, "10.2.0.1"));
    assert_false(allowed(g, "10.0.255.255"));
    assert_true(allowed(g, "fd12::1"));
    assert_false(allowed(g, "fc00::1"));
    assert_true(allowed(g, "169.254.169.254"));
    assert_false(allowed(g, "169.254.169.253"));
    assert_false(allowed(g, "192.168.1.1"));
    assert_false(allowed(g, "::2"));
    /* IPv4-mapped addresses match IPv4 ranges; the other embeddings do not */
    assert_true(allowed(g, "::ffff:127.0.0.1"));
    assert_true(allowed(g, "::ffff:10.1.9.9"));
    assert_false(allowed(g, "::ffff:10.2.0.1"));
    assert_false(allowed(g, "64:ff9b::127.0.0.1"));
    assert_false(allowed(g, "2002:7f00:1::"));
    assert_false(allowed(g, "::127.0.0.1"));
    /* public stays allowed, but only listed addresses are listed */
    assert_true(allowed(g, "8.8.8.8"));
    assert_false(listed(g, "8.8.8.8"));
    assert_true(listed(g, "127.0.0.1"));
    guard_free(g);
}

static void test_allow_list_edges(void **state)
{
    static const char *const all4[] = {"0.0.0.0/0"};
    static const char *const all6[] = {"::/0"};
    static const char *const odd[] = {"172.16.0.0/13", "fe80::/9", "127.0.0.1/32"};
    struct guard *g = make(all4, 1);

    (void)state;
    assert_true(allowed(g, "10.0.0.1"));
    assert_true(allowed(g, "::ffff:10.0.0.1"));
    assert_false(allowed(g, "::1"));
    guard_free(g);
    g = make(all6, 1);
    assert_true(allowed(g, "::1"));
    assert_true(allowed(g, "fe80::1"));
    assert_false(allowed(g, "127.0.0.1"));
    guard_free(g);
    g = make(odd, 3);
    assert_true(allowed(g, "172.23.255.255"));
    assert_false(allowed(g, "172.24.0.0")); /* private, outside the /13 */
    assert_true(allowed(g, "fe80::1"));
    assert_true(allowed(g, "fec0::1")); /* fe80::/9 holds fec0::/10 too */
    assert_true(allowed(g, "127.0.0.1"));
    assert_false(allowed(g, "127.0.0.2"));
    guard_free(g);
    g = make(NULL, 0);
    assert_false(allowed(g, "127.0.0.1"));
    guard_free(g);
    guard_free(NULL);
}

static const char *const cidr_cases[] = {
    "127.0.0.0/8",  "::1/128",    "0.0.0.0/0",         "::/0",        "10.0.0.0/32",
    "1.2.3.4/33",   "::1/129",    "127.0.0.1",         "127.0.0.1/",  "/8",
    "127.0.0.1/08", "127.1/8",    "localhost/8",       "1.2.3.4/+8",  "1.2.3.4/ 8",
    "::1/-1",       "::1/1x",     "fe80::1%eth0/64",   "1.2.3.4/8/8", "",
    "1.2.3.4/0",    "1.2.3.4/00", "::ffff:1.2.3.4/96", " 1.2.3.4/8",  "1.2.3.4/99999999999",
};

/* guard_new() takes exactly what the bridge.json loader took, so a loaded config never fails
 * at start-up. */
static void test_cidr_parsing_agrees_with_config(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
        struct guard *g = NULL;
        char err[160] = "";
        int rc = guard_new(&cidr_cases[i], 1, &g, err, sizeof(err));

        if ((rc == 0) != bridge_config__cidr(cidr_cases[i]))
            fail_msg("\"%s\": guard_new %d, config %d", cidr_cases[i], rc,
                     bridge_config__cidr(cidr_cases[i]));
        if (rc != 0) {
            assert_int_equal(rc, -EINVAL);
            assert_null(g);
            assert_non_null(strstr(err, "outbound.allow[0]"));
            assert_non_null(strstr(err, "is not a CIDR range"));
        }
        guard_free(g);
    }
}

static void test_bad_cidr_names_its_index(void **state)
{
    static const char *const cidrs[] = {"127.0.0.0/8", "10.0.0.0/8", "bogus"};
    struct guard *g = NULL;
    char err[160];

    (void)state;
    assert_int_equal(guard_new(cidrs, 3, &g, err, sizeof(err)), -EINVAL);
    assert_null(g);
    assert_string_equal(err, "outbound.allow[2]: \"bogus\" is not a CIDR range");
}

static int check(const struct guard *g, const char *url, struct guard_url *u, char *err)
{
    err[0] = '\0';
    return guard_check_url(g, url, u, err, 256);
}

static void expect_refused(const struct guard *g, const char *url, const char *needle)
{
    struct guard_url u;
    char err[256];
    int rc = check(g, url, &u, err);

    if (rc != -EINVAL || strstr(err, needle) == NULL)
        fail_msg("%s: expected a refusal containing \"%s\", got %d \"%s\"", url, needle, rc, err);
}

static void test_url_loopback_spellings(void **state)
{
    static const char *const urls[] = {
        "https://127.0.0.1/",
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0x7F000001/",
        "https://0177.0.0.1/",
        "https://0x7f.1/",
        "https://127.000.000.001/",
        "https://127.0.0.1./",
        "https://%31%32%37.0.0.1/",
        "https://[::1]/",
        "https://[0:0:0:0:0:0:0:1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[0:0:0:0:0:ffff:127.0.0.1]/",
        "https://[::127.0.0.1]/",
        "https://[64:ff9b::7f00:1]/",
        "https://[2002:7f00:1::]/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://push.localhost:8443/x",
        "https://a.b.LocalHost/",
        "http://127.0.0.1:8080/",
        "http://localhost/",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        expect_refused(NULL, urls[i], "loopback");
}

static void test_url_messages(void **state)
{
    struct guard_url u;
    char err[256];

    (void)state;
    assert_int_equal(check(NULL, "https://127.1/wpush", &u, err), -EINVAL);
    assert_string_equal(err, "endpoint address 127.0.0.1 is loopback");
    assert_int_equal(check(NULL, "https://[::ffff:7f00:1]/", &u, err), -EINVAL);
    assert_string_equal(err, "endpoint address ::ffff:127.0.0.1 is loopback");
    assert_int_equal(check(NULL, "https://Push.LocalHost/", &u, err), -EINVAL);
    assert_string_equal(err, "endpoint host push.localhost is loopback");
    expect_refused(NULL, "https://169.254.169.254/latest/meta-data/", "is link-local");
    expect_refused(NULL, "https://10.0.0.1/", "endpoint address 10.0.0.1 is private");
    expect_refused(NULL, "https://[fd00::1]/", "is unique-local");
    expect_refused(NULL, "https://0/", "endpoint address 0.0.0.0 is unspecified");
    expect_refused(NULL, "https://[::]/", "is unspecified");
    expect_refused(NULL, "https://100.64.1.1/", "is cgnat");
    expect_refused(NULL, "https://224.0.0.251/", "is multicast");
    expect_refused(NULL, "https://4294967295/", "is broadcast");
    expect_refused(NULL, "https://198.18.0.1/", "is reserved");
}

static void test_url_accepted(void **state)
{
    static const char *const lo[] = {"127.0.0.0/8"};
    struct guard *g = make(lo, 1);
    struct guard_url u;
    char err[256];

    (void)state;
    assert_int_equal(check(NULL, "https://Push.Example.COM:443/wpush/v2/abc?x=1", &u, err), 0);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.host, "push.example.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.origin, "https://push.example.com");
    assert_false(u.literal);
    assert_true(u.resolve);

    assert_int_equal(check(NULL, "HTTPS://fcm.googleapis.com:8443/fcm/send/x", &u, err), 0);
    assert_string_equal(u.origin, "https://fcm.googleapis.com:8443");
    assert_int_equal(u.port, 8443);

    assert_int_equal(check(NULL, "https://93.184.216.34/x", &u, err), 0);
    assert_true(u.literal);
    assert_false(u.resolve);
    assert_string_equal(u.host, "93.184.216.34");

    assert_int_equal(check(NULL, "https://[2606:4700:4700:0::1111]:444/", &u, err), 0);
    assert_string_equal(u.host, "2606:4700:4700::1111");
    assert_string_equal(u.origin, "https://[2606:4700:4700::1111]:444");

    /* http to a name: accepted here, the lookup decides (every address must be listed) */
    assert_int_equal(check(NULL, "http://push.example.com/", &u, err), 0);
    assert_string_equal(u.scheme, "http");
    assert_int_equal(u.port, 80);
    assert_true(u.resolve);

    /* loopback once allowed, also over http, in any spelling */
    assert_int_equal(check(g, "http://127.0.0.1:8080/push", &u, err), 0);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.origin, "http://127.0.0.1:8080");
    assert_true(u.literal);
    assert_int_equal(check(g, "https://2130706433:9/", &u, err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(check(g, "http://[::ffff:127.0.0.1]:9/", &u, err), 0);
    assert_string_equal(u.host, "::ffff:127.0.0.1");
    assert_int_equal(check(g, "http://localhost:8080/", &u, err), 0);
    assert_string_equal(u.host, "localhost");
    assert_true(u.resolve);
    expect_refused(g, "https://[::1]/", "loopback"); /* ::1 is not in 127.0.0.0/8 */
    expect_refused(g, "https://10.0.0.1/", "private");
    guard_free(g);
}

static void test_url_http_needs_the_allow_list(void **state)
{
    (void)state;
    expect_refused(NULL, "http://93.184.216.34/", "must use https");
    expect_refused(NULL, "http://[2606:4700:4700::1111]/", "must use https");
}

static void test_url_length(void **state)
{
    char url[1100];
    struct guard_url u;
    char err[256];
    size_t base;

    (void)state;
    snprintf(url, sizeof(url), "https://push.example.com/");
    base = strlen(url);
    memset(url + base, 'a', 1000 - base);
    url[1000] = '\0';
    assert_int_equal(check(NULL, url, &u, err), 0);
    url[1000] = 'a';
    url[1001] = '\0';
    assert_int_equal(check(NULL, url, &u, err), -EINVAL);
    assert_string_equal(err, "endpoint URL is longer than 1000 bytes");
}

static void test_url_schemes_and_syntax(void **state)
{
    (void)state;
    expect_refused(NULL, "ftp://example.com/", "scheme ftp is not allowed");
    expect_refused(NULL, "file:///etc/passwd", "scheme file is not allowed");
    expect_refused(NULL, "gopher://example.com/", "scheme gopher is not allowed");
    expect_refused(NULL, "dict://127.0.0.1:11211/", "not allowed");
    expect_refused(NULL, "ws://example.com/", "not allowed");
    expect_refused(NULL, "javascript:alert(1)", "endpoint URL");
    expect_refused(NULL, "example.com/push", "not valid");
    expect_refused(NULL, "", "not valid");
    expect_refused(NULL, "https://user@example.com/", "user information");
    expect_refused(NULL, "https://user:pw@example.com/", "user information");
    expect_refused(NULL, "https://:pw@example.com/", "user information");
    expect_refused(NULL, "https://@example.com/", "user information");
    expect_refused(NULL, "https://127.0.0.1\\@example.com/", "user information");
    expect_refused(NULL, "https://example.com/#x", "fragment");
    expect_refused(NULL, "https://example.com/#", "fragment");
    expect_refused(NULL, "https://", "endpoint URL");
    expect_refused(NULL, "https://:443/", "endpoint URL");
    expect_refused(NULL, "https://example.com:0/", "port must be between 1 and 65535");
    expect_refused(NULL, "https://example.com:65536/", "not valid");
    expect_refused(NULL, "https://exa mple.com/", "not valid");
    expect_refused(NULL, "https://example.com/a b", "not valid");
    expect_refused(NULL, "https://example.com/\r\nX: y", "not valid");
    expect_refused(NULL, "https://[fe80::1%25eth0]/", "zone id");
    expect_refused(NULL, "https://1.2.3.4.5/", "looks like an IPv4 address");
    expect_refused(NULL, "https://4294967296/", "looks like an IPv4 address");
    expect_refused(NULL, "https://0x100000000/", "looks like an IPv4 address");
    expect_refused(NULL, "https://example.08/", "looks like an IPv4 address");
    expect_refused(NULL, "https://a..b/", "not a valid host name");
    expect_refused(NULL, "https://ex!ample.com/", "endpoint");
    expect_refused(NULL,
                   "https://\xe2\x93\x9b"
                   "ocalhost/",
                   "ASCII");
}

struct outcome {
    int calls, ok;
    char why[256];
};

static void on_done(void *ud, int ok, const char *why)
{
    struct outcome *o = ud;

    o->calls++;
    o->ok = ok;
    snprintf(o->why, sizeof(o->why), "%s", why ? why : "");
}

/* Resolve on a fresh loop; done must not run before guard_resolve() returns. */
static struct outcome resolve(const struct guard *g, const char *host, int port)
{
    uv_loop_t loop;
    struct outcome o = {0};

    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(guard_resolve(&loop, g, host, port, on_done, &o), 0);
    assert_int_equal(o.calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(o.calls, 1);
    return o;
}

static void test_resolve(void **state)
{
    static const char *const lo4[] = {"127.0.0.0/8"};
    static const char *const lo[] = {"127.0.0.0/8", "::1/128"};
    static const char *const v6[] = {"::1/128"};
    struct guard *g4 = make(lo4, 1), *g = make(lo, 2), *g6 = make(v6, 1);
    struct outcome o;

    (void)state;
    o = resolve(NULL, "localhost", 443);
    assert_int_equal(o.ok, 0);
    assert_non_null(strstr(o.why, "loopback"));
    o = resolve(NULL, "127.0.0.1", 0);
    assert_int_equal(o.ok, 0);
    assert_string_equal(o.why, "127.0.0.1 resolves to 127.0.0.1, which is loopback");
    o = resolve(NULL, "2130706433", 80); /* getaddrinfo's inet_aton reads it */
    assert_int_equal(o.ok, 0);
    assert_non_null(strstr(o.why, "which is loopback"));
    o = resolve(NULL, "::1", 80);
    assert_int_equal(o.ok, 0);
    assert_non_null(strstr(o.why, "loopback"));
    o = resolve(g4, "127.0.0.1", 8080);
    assert_int_equal(o.ok, 1);
    assert_string_equal(o.why, "");
    /* localhost may also resolve to ::1, which the /8 does not hold */
    o = resolve(g, "localhost", 8080);
    assert_int_equal(o.ok, 1);
    o = resolve(g6, "127.0.0.1", 80);
    assert_int_equal(o.ok, 0);
    o = resolve(g6, "::1", 80);
    assert_int_equal(o.ok, 1);
    o = resolve(NULL, "8.8.8.8", 443); /* numeric: no query leaves the machine */
    assert_int_equal(o.ok, 1);
    guard_free(g4);
    guard_free(g);
    guard_free(g6);
}

static void test_resolve_url_applies_the_http_rule(void **state)
{
    static const char *const lo[] = {"127.0.0.0/8", "::1/128"};
    struct guard *g = make(lo, 2);
    struct guard_url u = {.scheme = "http", .host = "8.8.8.8", .port = 80};
    struct outcome o = {0};
    uv_loop_t loop;
    char err[256];

    (void)state;
    uv_loop_init(&loop);
    assert_int_equal(guard_resolve_url(&loop, g, &u, on_done, &o), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.ok, 0);
    assert_string_equal(o.why, "8.8.8.8 resolves to 8.8.8.8, which is not in outbound.allow "
                               "(needed for http)");
    snprintf(u.scheme, sizeof(u.scheme), "https");
    o.calls = 0;
    assert_int_equal(guard_resolve_url(&loop, g, &u, on_done, &o), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.ok, 1);
    assert_int_equal(check(g, "http://localhost:8080/x", &u, err), 0);
    o.calls = 0;
    assert_int_equal(guard_resolve_url(&loop, g, &u, on_done, &o), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.ok, 1);
    /* refused arguments: done is never called */
    o.calls = 0;
    assert_int_equal(guard_resolve(&loop, g, "", 80, on_done, &o), UV_EINVAL);
    assert_int_equal(guard_resolve(&loop, g, "localhost", 70000, on_done, &o), UV_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    guard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_classes),
        cmocka_unit_test(test_public_addresses),
        cmocka_unit_test(test_non_ip_family),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_allow_list_edges),
        cmocka_unit_test(test_cidr_parsing_agrees_with_config),
        cmocka_unit_test(test_bad_cidr_names_its_index),
        cmocka_unit_test(test_url_loopback_spellings),
        cmocka_unit_test(test_url_messages),
        cmocka_unit_test(test_url_accepted),
        cmocka_unit_test(test_url_http_needs_the_allow_list),
        cmocka_unit_test(test_url_length),
        cmocka_unit_test(test_url_schemes_and_syntax),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_url_applies_the_http_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
