/*
 * Endpoint URLs come from any client that subscribes for pushes, so guard_check_url() sees
 * whatever an attacker writes. Each input is checked against an empty allow-list and against
 * one that admits 127.0.0.0/8 and fd00::/8; an accepted URL must satisfy the guard's own
 * contract (https, or http only to a listed address; no refused literal; a usable host, port
 * and origin), a refusal must say why, and the answer must not change when asked twice.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "net/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct guard *g, const struct guard_url *u)
{
    struct sockaddr_storage ss;
    bool http = strcmp(u->scheme, "http") == 0;
    size_t sl = strlen(u->scheme);

    if (!http && strcmp(u->scheme, "https") != 0)
        abort();
    if (u->port < 1 || u->port > 65535 || u->host[0] == '\0' || u->literal == u->resolve)
        abort();
    if (strncmp(u->origin, u->scheme, sl) != 0 || strncmp(u->origin + sl, "://", 3) != 0)
        abort();
    if (!u->literal)
        return;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, u->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, u->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        abort(); /* a literal is reported in a form the resolver reads */
    if (!guard_allowed(g, (struct sockaddr *)&ss))
        abort();
    if (http && !guard_listed(g, (struct sockaddr *)&ss))
        abort();
}

static void run(const struct guard *g, const char *url)
{
    struct guard_url u, again;
    char err[256], err2[256];
    int rc, rc2;

    err[0] = '\0';
    rc = guard_check_url(g, url, &u, err, sizeof(err));
    if (rc == 0)
        check_accepted(g, &u);
    else if (rc != -EINVAL || err[0] == '\0' || strlen(err) >= sizeof(err))
        abort();
    rc2 = guard_check_url(g, url, &again, err2, sizeof(err2));
    if (rc2 != rc || (rc == 0 && memcmp(&u, &again, sizeof(u)) != 0) ||
        (rc != 0 && strcmp(err, err2) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const allow[] = {"127.0.0.0/8", "fd00::/8"};
    static struct guard *g;
    char err[128];
    char *url;

    if (g == NULL && guard_new(allow, 2, &g, err, sizeof(err)) != 0)
        abort();
    /* The input is not NUL-terminated: a copy of exactly size bytes (an embedded NUL ends the
     * URL early, as it would for any C caller). */
    url = malloc(size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    run(NULL, url);
    run(g, url);
    free(url);
    return 0;
}
