/*
 * The outbound SSRF guard (guard.h): address classes after RFC 6890, the outbound.allow
 * ranges, endpoint URL checks on curl's URL API, lookups on libuv's thread pool, and the
 * connect-time check in curl's CURLOPT_OPENSOCKETFUNCTION.
 */
#include "net/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 1000
#define NAME_MAX_LEN 253 /* RFC 1035 2.3.4, without the root's trailing dot */
#define LABEL_MAX 63

struct cidr {
    int family;
    unsigned char net[16]; /* 4 bytes used for AF_INET */
    unsigned bits;
};

struct guard {
    size_t n;
    struct cidr ranges[];
};

/* The address of sa in network byte order: 4 bytes for AF_INET, 16 for AF_INET6, else 0. */
static size_t addr_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;

    /* Copied out: a caller's struct sockaddr need not be aligned for sockaddr_in6. */
    if (sa->sa_family == AF_INET) {
        memcpy(&in4, sa, sizeof(in4));
        memcpy(out, &in4.sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(&in6, sa, sizeof(in6));
        memcpy(out, &in6.sin6_addr, 16);
        return 16;
    }
    return 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, net, whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ net[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

static const struct {
    uint32_t net;
    unsigned bits;
    const char *cls;
} v4_ranges[] = {
    {0x00000000u, 8, "unspecified"}, /* RFC 791 3.2: "this network" */
    {0x0a000000u, 8, "private"},     /* RFC 1918 */
    {0x64400000u, 10, "cgnat"},      /* RFC 6598 */
    {0x7f000000u, 8, "loopback"},    /* RFC 1122 3.2.1.3 */
    {0xa9fe0000u, 16, "link-local"}, /* RFC 3927 */
    {0xac100000u, 12, "private"},    /* RFC 1918 */
    {0xc0000000u, 24, "reserved"},   /* RFC 6890 2.2.2: IETF protocol assignments */
    {0xc0000200u, 24, "reserved"},   /* RFC 5737: TEST-NET-1 */
    {0xc0586300u, 24, "reserved"},   /* RFC 7526: 6to4 relay anycast, deprecated */
    {0xc0a80000u, 16, "private"},    /* RFC 1918 */
    {0xc6120000u, 15, "reserved"},   /* RFC 2544: benchmarking */
    {0xc6336400u, 24, "reserved"},   /* RFC 5737: TEST-NET-2 */
    {0xcb007100u, 24, "reserved"},   /* RFC 5737: TEST-NET-3 */
    {0xe0000000u, 4, "multicast"},   /* RFC 5771 */
    {0xffffffffu, 32, "broadcast"},  /* RFC 919 7; before 240/4, which holds it */
    {0xf0000000u, 4, "reserved"},    /* RFC 1112 4 */
};

static const char *class_v4(const unsigned char b[4])
{
    uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    size_t i;

    for (i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++)
        if (((a ^ v4_ranges[i].net) & (0xffffffffu << (32 - v4_ranges[i].bits))) == 0)
            return v4_ranges[i].cls;
    return NULL;
}

static bool has_prefix6(const unsigned char b[16], const char *net, unsigned bits)
{
    unsigned char n[16];

    inet_pton(AF_INET6, net, n);
    return prefix_match(b, n, bits);
}

static const char *class_v6(const unsigned char b[16])
{
    static const unsigned char zero[16];

    if (has_prefix6(b, "::ffff:0:0", 96))
        return class_v4(b + 12);
    if (memcmp(b, zero, 16) == 0)
        return "unspecified";
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return "loopback";
    if (has_prefix6(b, "::", 96)) {
        /* RFC 4291 2.5.5.1: deprecated, never routed as such; only the embedded address
         * could make it meaningful */
        const char *cls = class_v4(b + 12);

        return cls ? cls : "reserved";
    }
    if (has_prefix6(b, "64:ff9b::", 96)) /* RFC 6052 2.1: the IPv4 address in the low 32 bits */
        return class_v4(b + 12);
    if (has_prefix6(b, "2002::", 16)) /* RFC 3056 2: 2002:V4ADDR::/48 */
        return class_v4(b + 2);
    if (b[0] == 0xff)
        return "multicast";
    if (has_prefix6(b, "fe80::", 10))
        return "link-local";
    if (has_prefix6(b, "fec0::", 10))
        return "private";
    if (has_prefix6(b, "fc00::", 7))
        return "unique-local";
    if (has_prefix6(b, "2001::", 23) || has_prefix6(b, "2001:db8::", 32) ||
        has_prefix6(b, "3fff::", 20))
        return "reserved";
    /* RFC 4291 2.4 and the IANA IPv6 address space registry: global unicast is 2000::/3 */
    if ((b[0] & 0xe0) != 0x20)
        return "reserved";
    return NULL;
}

const char *guard_addr_class(const struct sockaddr *sa)
{
    unsigned char b[16];
    size_t n = addr_bytes(sa, b);

    if (n == 4)
        return class_v4(b);
    if (n == 16)
        return class_v6(b);
    return "not-ip";
}

/* What bridge.json accepts (config_values.c bridge_config__cidr), taken apart. */
static bool parse_cidr(const char *s, struct cidr *c)
{
    char addr[64];
    const char *slash = strchr(s, '/'), *p;
    unsigned long bits = 0;
    size_t al;

    if (slash == NULL || (al = (size_t)(slash - s)) >= sizeof(addr))
        return false;
    memcpy(addr, s, al);
    addr[al] = '\0';
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, addr, c->net) == 1)
        c->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, c->net) == 1)
        c->family = AF_INET6;
    else
        return false;
    p = slash + 1;
    if (p[0] == '\0' || (p[0] == '0' && p[1] != '\0'))
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || bits > 128)
            return false;
        bits = bits * 10 + (unsigned long)(*p - '0');
    }
    if (bits > (c->family == AF_INET ? 32u : 128u))
        return false;
    /* host bits below the prefix stay: prefix_match() never looks at them */
    c->bits = (unsigned)bits;
    return true;
}

int guard_new(const char *const *cidrs, size_t n, struct guard **out, char *err, size_t errlen)
{
    struct guard *g = calloc(1, sizeof(*g) + n * sizeof(g->ranges[0]));
    int rc = -ENOMEM;
    size_t i;

    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (cidrs[i] == NULL || !parse_cidr(cidrs[i], &g->ranges[i])) {
            snprintf(err, errlen, "outbound.allow[%zu]: \"%.64s\" is not a CIDR range", i,
                     cidrs[i] ? cidrs[i] : "(null)");
            rc = -EINVAL;
            goto out;
        }
    }
    g->n = n;
    *out = g;
    g = NULL;
    rc = 0;
out:
    free(g);
    return rc;
}

void guard_free(struct guard *g)
{
    free(g);
}

bool guard_listed(const struct guard *g, const struct sockaddr *sa)
{
    unsigned char b[16];
    size_t n = addr_bytes(sa, b), i;
    bool mapped = n == 16 && has_prefix6(b, "::ffff:0:0", 96);

    for (i = 0; g && i < g->n; i++) {
        const struct cidr *c = &g->ranges[i];

        if ((c->family == AF_INET && n == 4 && prefix_match(b, c->net, c->bits)) ||
            (c->family == AF_INET && mapped && prefix_match(b + 12, c->net, c->bits)) ||
            (c->family == AF_INET6 && n == 16 && prefix_match(b, c->net, c->bits)))
            return true;
    }
    return false;
}

bool guard_allowed(const struct guard *g, const struct sockaddr *sa)
{
    return guard_listed(g, sa) || guard_addr_class(sa) == NULL;
}

static bool ascii_lower_eq(const char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];

        if (c != b[i])
            return false;
    }
    return true;
}

/* RFC 6761 6.3: "localhost." and every name under it are loopback. */
static bool is_localhost(const char *host)
{
    size_t n = strlen(host);

    if (n > 0 && host[n - 1] == '.')
        n--;
    return (n == 9 && ascii_lower_eq(host, "localhost", 9)) ||
           (n > 10 && ascii_lower_eq(host + n - 10, ".localhost", 10));
}

static void v4_sockaddr(struct sockaddr_storage *ss, const char *text)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    in4->sin_family = AF_INET;
    inet_pton(AF_INET, text, &in4->sin_addr);
}

static void v6_sockaddr(struct sockaddr_storage *ss, const char *text)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &in6->sin6_addr);
}

/* A localhost name is usable when a loopback address is: listed, or (https) allowed. */
static bool loopback_admitted(const struct guard *g)
{
    struct sockaddr_storage a, b;

    v4_sockaddr(&a, "127.0.0.1");
    v6_sockaddr(&b, "::1");
    return guard_listed(g, (struct sockaddr *)&a) || guard_listed(g, (struct sockaddr *)&b);
}

/*
 * WHATWG URL "ends in a number": a host whose last label is decimal digits, or 0x and hex
 * digits, is meant as an IPv4 address; one that is none (1.2.3.4.5, 4294967296) is refused, as
 * browsers do, instead of going to DNS. No top-level domain is numeric (RFC 3696 2).
 */
static bool ends_in_number(const char *host, size_t n)
{
    size_t start = n, i;
    bool hex;

    while (start > 0 && host[start - 1] != '.')
        start--;
    if (start == n)
        return false;
    hex = n - start >= 2 && host[start] == '0' && (host[start + 1] | 0x20) == 'x';
    for (i = start + (hex ? 2 : 0); i < n; i++) {
        char c = (char)(host[i] | 0x20);

        if (!(host[i] >= '0' && host[i] <= '9') && !(hex && c >= 'a' && c <= 'f'))
            return false;
    }
    return true;
}

static bool valid_name(const char *host, size_t n)
{
    size_t i, label = 0;

    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (i = 0; i < n; i++) {
        char c = host[i];

        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        /* '_' is not LDH (RFC 952), but resolvers take it and service names use it */
        if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' && c != '_')
            return false;
        if (++label > LABEL_MAX)
            return false;
    }
    return label > 0;
}

/*
 * Classify the host curl parsed (lower case, brackets for IPv6). Returns 1 and *ss for an IP
 * address, 0 for a valid name, -1 with a message in err.
 */
static int parse_host(const char *host, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char bare[256];
    size_t n = strlen(host);
    struct in_addr a4;

    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof(bare))
            goto bad;
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        memset(ss, 0, sizeof(*ss));
        ss->ss_family = AF_INET6;
        if (inet_pton(AF_INET6, bare, &((struct sockaddr_in6 *)ss)->sin6_addr) != 1)
            goto bad;
        return 1;
    }
    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n >= sizeof(bare))
        goto bad;
    memcpy(bare, host, n);
    bare[n] = '\0';
    /* curl normalises 127.1, 2130706433, 0x7f000001 and 0177.0.0.1 itself; inet_aton is
     * what a resolver would apply to the rest (a trailing dot, say) */
    if (inet_aton(bare, &a4) == 1) {
        memset(ss, 0, sizeof(*ss));
        ss->ss_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_addr = a4;
        return 1;
    }
    if (ends_in_number(bare, n)) {
        snprintf(err, errlen, "endpoint host %.64s looks like an IPv4 address but is not one",
                 host);
        return -1;
    }
    if (valid_name(bare, n))
        return 0;
bad:
    snprintf(err, errlen,
             "endpoint host %.64s is not a valid host name (ASCII letters, digits, '-', '_' "
             "and dots; IDNs in punycode)",
             host);
    return -1;
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    const void *a = ss->ss_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

    if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

/* The checks of one host once scheme and syntax passed; fills out->host and the flags. */
static int check_host(const struct guard *g, const char *host, bool http, struct guard_url *out,
                      char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    bool listed;
    int kind = parse_host(host, &ss, err, errlen);

    if (kind < 0)
        return -EINVAL;
    if (kind == 1) {
        const char *cls = guard_addr_class((struct sockaddr *)&ss);

        addr_text(&ss, out->host, sizeof(out->host));
        listed = guard_listed(g, (struct sockaddr *)&ss);
        if (!listed && cls) {
            snprintf(err, errlen, "endpoint address %s is %s", out->host, cls);
            return -EINVAL;
        }
        out->literal = true;
    } else {
        snprintf(out->host, sizeof(out->host), "%s", host);
        listed = false;
        if (is_localhost(host)) {
            if (!loopback_admitted(g)) {
                snprintf(err, errlen, "endpoint host %.64s is loopback", host);
                return -EINVAL;
            }
            listed = true;
        }
        /* the addresses are checked by guard_resolve_url() (http: all in outbound.allow) */
        out->resolve = true;
    }
    if (http && !listed && out->literal) {
        snprintf(err, errlen,
                 "endpoint URL must use https (http only for addresses in outbound.allow)");
        return -EINVAL;
    }
    return 0;
}

int guard_check_url(const struct guard *g, const char *url, struct guard_url *out, char *err,
                    size_t errlen)
{
    CURLU *h = NULL;
    CURLUcode uc;
    char *scheme = NULL, *host = NULL, *part = NULL, *p;
    unsigned long port;
    bool http;
    int rc = -EINVAL;

    memset(out, 0, sizeof(*out));
    if (strnlen(url, URL_MAX + 1) > URL_MAX) {
        snprintf(err, errlen, "endpoint URL is longer than %d bytes", URL_MAX);
        goto out;
    }
    /* '#' cannot appear in a valid URL except to start the fragment (RFC 3986 3.5) */
    if (strchr(url, '#')) {
        snprintf(err, errlen, "endpoint URL must not have a fragment");
        goto out;
    }
    h = curl_url();
    if (h == NULL) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    uc = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK)
        uc = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
    if (uc != CURLUE_OK) {
        rc = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        snprintf(err, errlen, "endpoint URL is not valid: %s", curl_url_strerror(uc));
        goto out;
    }
    http = strcmp(scheme, "http") == 0;
    if (!http && strcmp(scheme, "https") != 0) {
        snprintf(err, errlen, "endpoint URL scheme %.16s is not allowed: use https", scheme);
        goto out;
    }
    if (curl_url_get(h, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(h, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        snprintf(err, errlen, "endpoint URL must not carry user information");
        goto out;
    }
    if (curl_url_get(h, CURLUPART_ZONEID, &part, 0) == CURLUE_OK) {
        snprintf(err, errlen, "endpoint address must not have a zone id");
        goto out;
    }
    uc = curl_url_get(h, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK || host[0] == '\0') {
        snprintf(err, errlen, "endpoint URL has no host");
        goto out;
    }
    for (p = host; *p; p++) {
        if ((unsigned char)*p >= 0x80) {
            snprintf(err, errlen, "endpoint host must be ASCII (an IDN in punycode, RFC 3492)");
            goto out;
        }
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    if (curl_url_get(h, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        (port = strtoul(part, NULL, 10)) == 0 || port > 65535) {
        snprintf(err, errlen, "endpoint port must be between 1 and 65535");
        goto out;
    }
    rc = check_host(g, host, http, out, err, errlen);
    if (rc != 0)
        goto out;
    snprintf(out->scheme, sizeof(out->scheme), "%s", scheme);
    out->port = (int)port;
    if (port == (http ? 80u : 443u))
        snprintf(out->origin, sizeof(out->origin), "%s://%s", scheme, host);
    else
        snprintf(out->origin, sizeof(out->origin), "%s://%s:%lu", scheme, host, port);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(part);
    curl_url_cleanup(h);
    return rc;
}

struct lookup {
    uv_getaddrinfo_t req;
    const struct guard *g;
    guard_resolve_fn done;
    void *ud;
    bool listed_only;
    char host[256];
    char why[384];
};

/* NULL when every address passed, else the refusal written into lk->why. */
static const char *judge(struct lookup *lk, int status, const struct addrinfo *res)
{
    const struct addrinfo *ai;
    char text[INET6_ADDRSTRLEN];
    size_t n = 0;

    if (status < 0) {
        snprintf(lk->why, sizeof(lk->why), "cannot resolve %.64s: %s", lk->host,
                 uv_strerror(status));
        return lk->why;
    }
    if (is_localhost(lk->host) && !loopback_admitted(lk->g)) {
        snprintf(lk->why, sizeof(lk->why), "%.64s is loopback", lk->host);
        return lk->why;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        const char *cls;

        if (ai->ai_addrlen > sizeof(ss))
            continue;
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
            continue;
        n++;
        if (lk->listed_only ? guard_listed(lk->g, (struct sockaddr *)&ss)
                            : guard_allowed(lk->g, (struct sockaddr *)&ss))
            continue;
        cls = guard_addr_class((struct sockaddr *)&ss);
        addr_text(&ss, text, sizeof(text));
        snprintf(lk->why, sizeof(lk->why), "%.64s resolves to %s, which is %s", lk->host, text,
                 cls ? cls : "not in outbound.allow (needed for http)");
        return lk->why;
    }
    if (n == 0) {
        snprintf(lk->why, sizeof(lk->why), "%.64s resolves to no IP address", lk->host);
        return lk->why;
    }
    return NULL;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct lookup *lk = req->data;
    const char *why = judge(lk, status, res);

    uv_freeaddrinfo(res);
    lk->done(lk->ud, why == NULL, why);
    free(lk);
}

static int start_lookup(uv_loop_t *loop, const struct guard *g, const char *host, int port,
                        bool listed_only, guard_resolve_fn done, void *ud)
{
    struct addrinfo hints;
    struct lookup *lk = NULL;
    char service[8];
    size_t n = strlen(host);
    int rc = UV_EINVAL;

    if (n == 0 || n >= sizeof(lk->host) || port < 0 || port > 65535)
        goto out;
    lk = calloc(1, sizeof(*lk));
    rc = UV_ENOMEM;
    if (lk == NULL)
        goto out;
    lk->g = g;
    lk->done = done;
    lk->ud = ud;
    lk->listed_only = listed_only;
    memcpy(lk->host, host, n + 1);
    lk->req.data = lk;
    snprintf(service, sizeof(service), "%d", port);
    /* No AI_ADDRCONFIG: judge every address the name has, a superset of what curl gets. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = uv_getaddrinfo(loop, &lk->req, on_resolved, host, port ? service : NULL, &hints);
    if (rc == 0)
        lk = NULL;
out:
    free(lk);
    return rc;
}

int guard_resolve(uv_loop_t *loop, const struct guard *g, const char *host, int port,
                  guard_resolve_fn done, void *ud)
{
    return start_lookup(loop, g, host, port, false, done, ud);
}

int guard_resolve_url(uv_loop_t *loop, const struct guard *g, const struct guard_url *u,
                      guard_resolve_fn done, void *ud)
{
    return start_lookup(loop, g, u->host, u->port, strcmp(u->scheme, "http") == 0, done, ud);
}

/*
 * curl calls this with the address it is about to connect to, after its own resolution (or
 * its DNS cache, or CURLOPT_RESOLVE / CONNECT_TO): the one place no second lookup can slip
 * past.
 */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct guard_pin *pin = clientp;
    struct sockaddr_storage ss;
    const char *why = NULL;
    int type = a->socktype;

    memset(&ss, 0, sizeof(ss));
    if (purpose != CURLSOCKTYPE_IPCXN)
        why = "not-ip";
    else if ((a->family != AF_INET || a->addrlen < sizeof(struct sockaddr_in)) &&
             (a->family != AF_INET6 || a->addrlen < sizeof(struct sockaddr_in6)))
        why = "not-ip";
    else
        memcpy(&ss, &a->addr,
               a->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    if (why == NULL && !guard_allowed(pin->g, (struct sockaddr *)&ss))
        why = guard_addr_class((struct sockaddr *)&ss);
    if (why) {
        pin->refused = why;
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
            addr_text(&ss, pin->addr, sizeof(pin->addr));
        else
            snprintf(pin->addr, sizeof(pin->addr), "address of family %d", a->family);
        return CURL_SOCKET_BAD;
    }
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC; /* not inherited by a process some library might start */
#endif
    return socket(a->family, type, a->protocol);
}

int guard_apply(const struct guard *g, CURL *easy, struct guard_pin *pin)
{
    pin->g = g;
    pin->refused = NULL;
    pin->addr[0] = '\0';
    /* A redirect target is an endpoint guard_check_url() never saw: none is followed.
     * libcurl 7.88 refuses an empty CURLOPT_REDIR_PROTOCOLS_STR, so the narrowest list
     * stands in; a followed hop would still meet open_socket(). */
    if (curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, pin) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
        return -1;
    return 0;
}

const char *guard_refusal(const struct guard_pin *pin)
{
    return pin->refused;
}

const char *guard_refusal_text(const struct guard_pin *pin, char *buf, size_t len)
{
    if (pin->refused)
        snprintf(buf, len, "refused by the SSRF guard: %s is %s", pin->addr, pin->refused);
    else if (len > 0)
        buf[0] = '\0';
    return buf;
}
