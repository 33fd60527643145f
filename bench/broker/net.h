/*
 * Non-blocking TCP for the load client: numeric addresses only (the benchmark runs on
 * loopback, so there is nothing to resolve), buffered reads and writes over wire_buf.
 */
#ifndef MQLOAD_NET_H
#define MQLOAD_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "wire.h"

struct net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Parse a numeric IPv4/IPv6 host and a port. Returns 0, or -1 when host is not numeric. */
int net_addr_parse(const char *host, int port, struct net_addr *out);

/*
 * Start a non-blocking connect with TCP_NODELAY set. Returns the socket (the connection may
 * still be in progress: wait for POLLOUT, then call net_connect_result()), or -1 with errno.
 */
int net_connect_start(const struct net_addr *addr);
/* 0 when the connection was established, else the errno it failed with. */
int net_connect_result(int fd);

/*
 * Read what the socket has, up to chunk bytes, appended to in. Returns the number of bytes
 * read, 0 at end of stream, -1 on error (errno set), -2 when nothing was available.
 */
ssize_t net_read(int fd, struct wire_buf *in, size_t chunk);
/* Write as much of out as the socket takes and drop it from out. 0, or -1 on error (errno). */
int net_flush(int fd, struct wire_buf *out);

/* A TCP port on host that was free a moment ago (bind to port 0), or -1. */
int net_free_port(const char *host);

#endif
