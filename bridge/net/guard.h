/*
 * The outbound SSRF guard: every push the bridge sends (Web Push, SET push, UnifiedPush) goes to
 * a URL a client gave it, so none may reach an internal address. Three layers:
 *   1. guard_check_url() when an endpoint is accepted: syntax, scheme, IP literals in any
 *      spelling, localhost names;
 *   2. guard_resolve() / guard_resolve_url() for a host name, on the loop's thread pool: every
 *      address it resolves to must pass;
 *   3. guard_apply() on each transfer's easy handle: the address curl is about to connect to is
 *      checked in CURLOPT_OPENSOCKETFUNCTION, so a name that resolves differently later (DNS
 *      rebinding) still cannot reach a refused address.
 * The only exemption is outbound.allow in bridge.json (CIDR ranges, struct guard).
 *
 * Refused classes (guard_addr_class), after RFC 6890 and the IANA special-purpose registries:
 *   "unspecified"  0.0.0.0/8 ("this network", RFC 791), ::/128
 *   "loopback"     127.0.0.0/8, ::1/128
 *   "private"      10/8, 172.16/12, 192.168/16 (RFC 1918), fec0::/10 (deprecated site-local,
 *                  RFC 3879, still routed inside some networks)
 *   "link-local"   169.254/16 (RFC 3927), fe80::/10
 *   "cgnat"        100.64/10 (RFC 6598)
 *   "unique-local" fc00::/7 (RFC 4193)
 *   "multicast"    224/4, ff00::/8
 *   "broadcast"    255.255.255.255
 *   "reserved"     240/4 (RFC 1112), 192.0.0.0/24 (IETF protocol assignments), 192.0.2/24,
 *                  198.51.100/24, 203.0.113/24 (documentation, RFC 5737), 198.18/15
 *                  (benchmarking, RFC 2544), 192.88.99/24 (6to4 relay anycast, deprecated by
 *                  RFC 7526); 2001::/23 (IETF protocol assignments: Teredo, benchmarking, ...),
 *                  2001:db8::/32 and 3fff::/20 (documentation, RFC 3849, RFC 9637), and every
 *                  IPv6 address outside 2000::/3 not named above (IANA allocates global unicast
 *                  only there: this covers 100::/64 discard, 64:ff9b:1::/48 local NAT64,
 *                  5f00::/16 SRv6, the IPv4-translated ::ffff:0:0:0/96).
 * IPv6 forms that carry an IPv4 address are classified by it: IPv4-mapped ::ffff:0:0/96,
 * NAT64 64:ff9b::/96 (RFC 6052), 6to4 2002::/16 (RFC 3056, bits 16-47) and IPv4-compatible
 * ::/96 (deprecated, RFC 4291 2.5.5.1; one embedding a public IPv4 address is "reserved").
 * The globally reachable anycast blocks inside these ranges (192.0.0.9, 192.0.0.10, AS112) are
 * refused too: no push service lives there.
 */
#ifndef BRIDGE_NET_GUARD_H
#define BRIDGE_NET_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <uv.h>

/* The allow-list: CIDR ranges exempt from the guard. Immutable once built. */
struct guard;

/*
 * NULL when sa (AF_INET or AF_INET6, borrowed) is a public address, else the static name of
 * its class (see above). Any other family is refused as "not-ip".
 */
const char *guard_addr_class(const struct sockaddr *sa);

/*
 * Build the allow-list from n CIDR strings ("<IPv4>/<0..32>" or "<IPv6>/<0..128>", decimal
 * prefix without leading zeros: what bridge.json's outbound.allow accepts). Host bits below
 * the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8). Returns 0 and *out (caller frees with
 * guard_free()), -EINVAL with the offending entry named in err, or -ENOMEM.
 */
int guard_new(const char *const *cidrs, size_t n, struct guard **out, char *err, size_t errlen);

/* Accepts NULL. */
void guard_free(struct guard *g);

/*
 * sa is inside an allow-list range. An IPv4-mapped IPv6 address also matches IPv4 ranges; the
 * other IPv6 forms that embed an IPv4 address (NAT64, 6to4, compatible) match IPv6 ranges only.
 * g may be NULL: an empty list.
 */
bool guard_listed(const struct guard *g, const struct sockaddr *sa);

/* The guard admits sa: listed, or public. g may be NULL. */
bool guard_allowed(const struct guard *g, const struct sockaddr *sa);

/* An endpoint URL taken apart by guard_check_url(). */
struct guard_url {
    char scheme[6]; /* "https" or "http" */
    /* Lower case. An IPv4 address in dotted-quad form, an IPv6 address without brackets
     * (inet_ntop's form), or a host name as written (a trailing dot is kept). */
    char host[256];
    int port;         /* as written, or the scheme's default */
    char origin[300]; /* RFC 6454 6.2: "<scheme>://<host>[:<port>]", no default port */
    bool literal;     /* host is an IP address, and the guard admitted it */
    /* host is a name: the caller must run guard_resolve_url() before accepting the endpoint. */
    bool resolve;
};

/*
 * Check url (NUL-terminated, borrowed) as an endpoint the bridge may push to later: at most
 * 1000 bytes, scheme https, or http only when the host is admitted by an allow-list range (not
 * merely public); a host, no userinfo, no fragment, port 1..65535. A host that is an IP
 * address in any spelling (127.1, 2130706433, 0x7f000001, 0177.0.0.1, [::ffff:7f00:1], ...)
 * is checked as that address; "localhost" and names under ".localhost" count as loopback
 * without a lookup (RFC 6761 6.3). A name must be ASCII (punycode for IDNs, RFC 3492) of
 * letters, digits, '-', '_' and dots, at most 253 bytes; one whose last label is a number but
 * which is no IPv4 address ("1.2.3.4.5", "4294967296") is refused.
 * Returns 0 and fills *out, -EINVAL with a message in err ("endpoint address 127.0.0.1 is
 * loopback"), or -ENOMEM. g may be NULL.
 */
int guard_check_url(const struct guard *g, const char *url, struct guard_url *out, char *err,
                    size_t errlen);

/*
 * Called once from the loop's thread when a lookup ends: ok is 1 when every address passed,
 * else 0 and why says what refused it ("example.test resolves to 10.0.0.1, which is private",
 * or the resolver's error). why is borrowed for the duration of the call.
 */
typedef void (*guard_resolve_fn)(void *ud, int ok, const char *why);

/*
 * Resolve host (a name or an IP literal, IPv6 without brackets) with uv_getaddrinfo() on
 * loop, and check every address it returns with guard_allowed(); a localhost name (RFC 6761
 * 6.3) is also refused unless the allow-list admits a loopback address. port (0: none) is
 * passed as the service. Returns 0, and done is called exactly once, never before this
 * returns; or a negative libuv error code, and done is not called. g is borrowed and must
 * stay valid until done runs; host is copied.
 */
int guard_resolve(uv_loop_t *loop, const struct guard *g, const char *host, int port,
                  guard_resolve_fn done, void *ud);

/*
 * guard_resolve() for an endpoint checked by guard_check_url(), with its scheme's rule: for
 * http every address must be in an allow-list range, not merely public.
 */
int guard_resolve_url(uv_loop_t *loop, const struct guard *g, const struct guard_url *u,
                      guard_resolve_fn done, void *ud);

/*
 * The per-transfer record guard_apply() installs as CURLOPT_OPENSOCKETDATA. Embed it in the
 * state that owns the easy handle: it must stay at the same address until the transfer is
 * over and the handle cleaned up or given other options. Its fields are private. (The caller
 * holds it because curl has no per-handle destructor to free one, and CURLOPT_PRIVATE is
 * curl_loop's.)
 */
struct guard_pin {
    const struct guard *g;
    const char *refused;
    char addr[INET6_ADDRSTRLEN];
};

/*
 * Prepare easy for a push: CURLOPT_OPENSOCKETFUNCTION checks each address curl is about to
 * connect to and refuses one that guard_allowed() does not admit (curl then fails with
 * CURLE_COULDNT_CONNECT, or tries the name's next address); no redirects are followed; only
 * http and https; no proxy, the environment's *_proxy variables included; CURLOPT_NOSIGNAL.
 * pin is borrowed (see struct guard_pin), g too and must outlive the transfer. Clears what
 * pin recorded before. Returns 0, or -1 when curl refuses an option.
 * A connection that curl's pool keeps open for the same host and port is reused without a
 * new check: it passed one when it was opened.
 */
int guard_apply(const struct guard *g, CURL *easy, struct guard_pin *pin);

/*
 * After a transfer: the class of the last address the guard refused ("loopback"), or NULL.
 * Meaningful when the transfer failed with CURLE_COULDNT_CONNECT; after success another
 * address of the same name may have been refused first.
 */
const char *guard_refusal(const struct guard_pin *pin);

/*
 * The same as a sentence for logs and delivery errors: "refused by the SSRF guard: 127.0.0.1
 * is loopback", in buf (len bytes), or "" when nothing was refused. Returns buf.
 */
const char *guard_refusal_text(const struct guard_pin *pin, char *buf, size_t len);

#endif
