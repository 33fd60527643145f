/*
 * Inside sioload: its options (options.c), the connections and the epoll loop (conn.c), and
 * the run (sioload.c). Everything here lives on the epoll thread, except progress, which the
 * publisher's thread reads.
 */
#ifndef SIOLOAD_H
#define SIOLOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hist.h"
#include "loadopts.h"
#include "ws.h"

/* Longest offset kept to check that offsets grow; longer ones are not compared. */
#define SIO_OFFSET_MAX 48

/* The shared options (loadopts.h) and sioload's own. lo.port is the socket.io server's, lo.path
 * the WebSocket's request target, with the Engine.IO query. */
struct sio_opts {
    struct load_opts lo;
    const char *nsp;   /* namespace to join, e.g. /bench */
    const char *auth;  /* JSON object sent with the namespace CONNECT, or NULL */
    const char *event; /* name of the stream events, e.g. app:tick */
    double settle;     /* seconds to wait before each memory reading */
    int gc_signal;     /* send SIGUSR2 to the server before each memory reading */
    int server_pid;    /* 0: not measured */
    int server_cpu;    /* CPU the server runs on alone, -1: not measured */
};

enum sio_state {
    SIO_CONNECTING, /* TCP connect in progress */
    SIO_UPGRADING,  /* the HTTP upgrade request was sent */
    SIO_OPENING,    /* WebSocket open, waiting for Engine.IO's open packet */
    SIO_JOINING,    /* the namespace CONNECT was sent */
    SIO_LIVE,       /* the namespace accepted the socket */
    SIO_DEAD,
};

/* One socket.io connection: about 350 bytes, plus a message buffer once a message was cut. */
struct sio_conn {
    int fd;
    uint8_t state;
    uint8_t offset_len;
    char offset[SIO_OFFSET_MAX];
    uint64_t last_seq; /* highest seq received, 0: none yet */
    uint64_t received; /* stream events */
    uint64_t gaps;     /* seqs skipped over */
    struct ws_parser p;
};

struct sio_run {
    const struct sio_opts *o;
    struct sio_conn *conns; /* o->clients of them */
    int ep;
    int opened;
    char *buf;               /* one read buffer for all connections */
    char connect_frame[512]; /* the namespace CONNECT packet, unmasked */
    size_t connect_len;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint64_t rng; /* xorshift state for frame masks */
    /* counters */
    uint64_t ready, refused, closed, connect_errors, protocol_errors;
    uint64_t events, measured, duplicates, offset_out_of_order, no_seq, other_events;
    uint64_t with_offset, pings, data_bytes, wire_bytes;
    struct hist lat; /* publish-to-client, in the measured window only */
    int measuring;
    int drained;
    uint64_t seq_at_start, seq_at_end;
    uint64_t t_start, t_ready;
    _Atomic uint64_t progress; /* lowest seq over live clients, for the publisher's window */
    char first_error[256];
    char first_conn_error[160];
};

/* Parse argv. 0: run; 1: --help was printed; -1: usage error (printed). */
int sio_opts_parse(int argc, char **argv, struct sio_opts *o);

/* Prepare a run for o (borrowed). 0, or -1 when out of memory or the address is bad. */
int sio_run_init(struct sio_run *r, const struct sio_opts *o);
/* Close every connection and free what the run holds. */
void sio_run_free(struct sio_run *r);

/* Start connecting client i. 0 (also when the connect failed at once: it is counted), or -1
 * when no socket can be made at all (sio_error() was called). */
int sio_conn_open(struct sio_run *r, int i);

/* Wait up to timeout_ms for socket events and handle them. 0, or -1 on an epoll failure. */
int sio_poll(struct sio_run *r, int timeout_ms);

/* Record the run's first error (later ones are dropped). */
void sio_error(struct sio_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
