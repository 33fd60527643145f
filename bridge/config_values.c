/*
 * The checks of single bridge.json values, and a JSON reader as strict as the editors and
 * validators that see the same file: what they refuse, the bridge refuses too.
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

bool bridge_config__decimal(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;

    /* strtol() would take " +8" and "08"; the schema's patterns take neither. */
    if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 10)
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/*
 * No host names: the bridge's loop must not wait on DNS (the listener binds an address; the
 * broker link's first connect is synchronous).
 */
bool bridge_config__ip_or_localhost(const char *host, bool v6_allowed)
{
    unsigned char bin[16];

    return strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, bin) == 1 ||
           (v6_allowed && inet_pton(AF_INET6, host, bin) == 1);
}

/* RFC 3986 3.2.2: an IPv6 address in an authority is written in brackets. */
const char *bridge_config__listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    size_t hl;
    unsigned long p;
    unsigned char bin[16];
    bool v6 = s[0] == '[';

    if (v6) {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':')
            return "expected \"[ipv6]:port\"";
        hl = (size_t)(close - s - 1);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return "expected \"host:port\" or \"[ipv6]:port\"";
        hl = (size_t)(colon - s);
    }
    if (hl >= hostlen)
        return "host must be an IP address or localhost";
    memcpy(host, s + (v6 ? 1 : 0), hl);
    host[hl] = '\0';
    if (!bridge_config__decimal(colon + 1, 65535, &p) || p == 0)
        return "port must be between 1 and 65535";
    if (v6 && inet_pton(AF_INET6, host, bin) != 1)
        return "host in brackets must be an IPv6 address";
    if (!v6 && !bridge_config__ip_or_localhost(host, false))
        return "host must be an IP address or localhost (IPv6 in brackets)";
    *port = (int)p;
    return NULL;
}

bool bridge_config__cidr(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    unsigned char bin[16];
    unsigned long prefix;
    size_t al;

    if (slash == NULL || (al = (size_t)(slash - s)) >= sizeof(addr))
        return false;
    memcpy(addr, s, al);
    addr[al] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1)
        return bridge_config__decimal(slash + 1, 32, &prefix);
    if (inet_pton(AF_INET6, addr, bin) == 1)
        return bridge_config__decimal(slash + 1, 128, &prefix);
    return false;
}

static bool has_control_or_space(const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return true;
    return false;
}

bool bridge_config__public_url(const char *u)
{
    size_t skip = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;

    return skip > 0 && u[skip] != '\0' && strchr("/?#", u[skip]) == NULL &&
           !has_control_or_space(u);
}

/* ASCII by hand: isalnum() follows the locale. */
bool bridge_config__id(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 128)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* Routes match the request path exactly; a query, fragment or space there never would. */
bool bridge_config__route_path(const char *p)
{
    return p[0] == '/' && strpbrk(p, "?#") == NULL && !has_control_or_space(p);
}

/*
 * Paths the bridge serves (docs/http-api.md), and the prefixes of channels to come
 * (socket.io's default path, RFC 8615 well-known URIs): a route there would shadow or be
 * shadowed.
 */
bool bridge_config__reserved_path(const char *p)
{
    return strcmp(p, "/") == 0 || strcmp(p, "/healthz") == 0 || strcmp(p, "/metrics") == 0 ||
           strcmp(p, "/index.html") == 0 || strncmp(p, "/stream/", 8) == 0 ||
           strncmp(p, "/api/", 5) == 0 || strncmp(p, "/socket.io/", 11) == 0 ||
           strncmp(p, "/ssf/", 5) == 0 || strncmp(p, "/.well-known/", 13) == 0;
}

char *bridge_config__read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t got;

    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* max + 1: a larger file is refused, not silently cut. */
    got = fread(buf, 1, max + 1, f);
    if (ferror(f) || got > max) {
        snprintf(err, errlen, ferror(f) ? "cannot read %s" : "%s is larger than %zu bytes", path,
                 max);
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[got] = '\0';
    *len = got;
out:
    fclose(f);
    return buf;
}

/*
 * A recognizer of RFC 8259 JSON, run before json-c: json-c 0.16, even in strict mode, takes
 * single-quoted keys, NaN, Infinity, "1.", raw control characters in strings and a NUL after
 * the document, none of which an editor or a JSON Schema validator would accept.
 */
struct scan {
    const char *p, *end, *why;
    int depth;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool fail(struct scan *s, const char *why)
{
    s->why = why;
    return false;
}

static bool is_digit(const struct scan *s)
{
    return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 8259 7. */
static bool scan_string(struct scan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;

        if (c == '"') {
            s->p++;
            return true;
        }
        if (c < 0x20)
            return fail(s, "unescaped control character in a string");
        if (c == '\\') {
            if (++s->p >= s->end)
                break;
            if (*s->p == 'u') {
                if (s->end - s->p < 5 || !is_hex(s->p[1]) || !is_hex(s->p[2]) || !is_hex(s->p[3]) ||
                    !is_hex(s->p[4]))
                    return fail(s, "\\u needs four hex digits");
                s->p += 4;
            } else if (strchr("\"\\/bfnrt", *s->p) == NULL || *s->p == '\0') {
                return fail(s, "unknown escape in a string");
            }
        }
        s->p++;
    }
    return fail(s, "unterminated string");
}

/* RFC 8259 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (is_digit(s))
        while (is_digit(s))
            s->p++;
    else
        return fail(s, "not a JSON value");
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!is_digit(s))
            return fail(s, "digits must follow a decimal point");
        while (is_digit(s))
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!is_digit(s))
            return fail(s, "digits must follow an exponent");
        while (is_digit(s))
            s->p++;
    }
    return true;
}

static bool scan_word(struct scan *s, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return fail(s, "not a JSON value");
    s->p += n;
    return true;
}

static bool scan_value(struct scan *s);

/* Objects and arrays: members separated by commas, nothing trailing (RFC 8259 4, 5). */
static bool scan_container(struct scan *s, char close)
{
    if (++s->depth > JSON_MAX_DEPTH)
        return fail(s, "nested too deep");
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"')
                return fail(s, "member names must be double-quoted strings");
            if (!scan_string(s))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, "':' expected");
            s->p++;
        }
        if (!scan_value(s))
            return false;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        if (s->p >= s->end || *s->p != ',')
            return fail(s, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
        s->p++;
        skip_ws(s);
    }
}

static bool scan_value(struct scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "unexpected end of the document");
    switch (*s->p) {
    case '{':
        return scan_container(s, '}');
    case '[':
        return scan_container(s, ']');
    case '"':
        return scan_string(s);
    case 't':
        return scan_word(s, "true");
    case 'f':
        return scan_word(s, "false");
    case 'n':
        return scan_word(s, "null");
    default:
        return scan_number(s);
    }
}

json_object *bridge_config__parse_json(const char *buf, size_t len, char *err, size_t errlen)
{
    struct json_tokener *tok;
    json_object *doc;
    enum json_tokener_error jerr;
    struct scan sc = {buf, buf + len, NULL, 0};

    if (len > INT32_MAX) {
        snprintf(err, errlen, "not valid JSON: too large");
        return NULL;
    }
    if (scan_value(&sc)) {
        skip_ws(&sc);
        if (sc.p < sc.end)
            fail(&sc, "content after the document");
    }
    if (sc.why) {
        snprintf(err, errlen, "not valid JSON at byte %zu: %s", (size_t)(sc.p - buf), sc.why);
        return NULL;
    }
    tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (tok == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The syntax is checked above; json-c adds the UTF-8 check (RFC 8259 8.1). */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    doc = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    if (doc == NULL && jerr == json_tokener_continue)
        snprintf(err, errlen, "not valid JSON: unexpected end of the document");
    else if (doc == NULL && jerr == json_tokener_success) /* json-c's value for null */
        snprintf(err, errlen, "the document is null, not an object");
    else if (doc == NULL)
        snprintf(err, errlen, "not valid JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
                 json_tokener_error_desc(jerr));
    json_tokener_free(tok);
    return doc;
}
