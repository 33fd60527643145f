#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int net_addr_parse(const char *host, int port, struct net_addr *out)
{
    struct addrinfo hints, *res = NULL;
    char service[16];
    int rc = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(service, sizeof(service), "%d", port);
    if (port < 0 || port > 65535 || getaddrinfo(host, service, &hints, &res) != 0)
        goto out;
    if (res->ai_addrlen > sizeof(out->ss))
        goto out;
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    rc = 0;
out:
    if (res)
        freeaddrinfo(res);
    return rc;
}

int net_connect_start(const struct net_addr *addr)
{
    int one = 1;
    int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    /* small packets must leave at once: Nagle would hold them and add to the latency */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        goto fail;
    if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 && errno != EINPROGRESS)
        goto fail;
    return fd;
fail:
    one = errno;
    close(fd);
    errno = one;
    return -1;
}

int net_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

ssize_t net_read(int fd, struct wire_buf *in, size_t chunk)
{
    ssize_t n;

    if (wire_buf_reserve(in, chunk)) {
        errno = ENOMEM;
        return -1;
    }
    do {
        n = read(fd, in->data + in->len, chunk);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
    in->len += (size_t)n;
    return n;
}

int net_flush(int fd, struct wire_buf *out)
{
    size_t done = 0;

    while (done < out->len) {
        ssize_t n = write(fd, out->data + done, out->len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        done += (size_t)n;
    }
    wire_buf_consume(out, done);
    return 0;
}

int net_free_port(const char *host)
{
    struct net_addr a;
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    int fd = -1, port = -1;

    if (net_addr_parse(host, 0, &a))
        goto out;
    fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a.ss, a.len) < 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &len) < 0)
        goto out;
    if (bound.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    else if (bound.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
out:
    if (fd >= 0)
        close(fd);
    return port;
}
