/*
 * Inside sseload: its options (options.c), the connections and the epoll loop (conn.c), and
 * the run (sseload.c). Everything here lives on the epoll thread, except progress, which the
 * publisher's thread reads.
 */
#ifndef SSELOAD_H
#define SSELOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hist.h"
#include "loadopts.h"
#include "sse_parse.h"

/* The shared options (loadopts.h) and sseload's own. */
struct sl_opts {
    struct load_opts lo; /* lo.port: the bridge; lo.path: the SSE stream */
    int bridge_pid;      /* 0: not measured */
};

enum sl_state { SL_CONNECTING, SL_SENT, SL_LIVE, SL_DEAD };

/* One SSE connection: a couple of hundred bytes, whatever the traffic. */
struct sl_conn {
    int fd;
    uint8_t state;
    uint8_t ready;
    uint8_t id_len;
    char last_id[SSE_ID_MAX];
    uint64_t last_seq; /* highest seq received, 0: none yet */
    uint64_t received; /* stream events */
    uint64_t gaps;     /* seqs skipped over */
    struct sse_parser p;
};

struct sl_run {
    const struct sl_opts *o;
    struct sl_conn *conns; /* o->clients of them */
    int ep;
    int opened;
    char *buf; /* one read buffer for all connections */
    char req[1024];
    size_t req_len;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    /* counters */
    uint64_t ready, refused, closed, connect_errors;
    uint64_t events, measured, duplicates, id_out_of_order, no_seq, other_events;
    uint64_t data_bytes, wire_bytes;
    struct hist lat; /* publish-to-client, in the measured window only */
    int measuring;
    int drained;
    uint64_t seq_at_start, seq_at_end;
    uint64_t t_start, t_ready;
    _Atomic uint64_t progress; /* lowest seq over live clients, for the publisher's window */
    char first_error[256];
    char first_conn_error[128];
};

/* Parse argv. 0: run; 1: --help was printed; -1: usage error (printed). */
int sl_opts_parse(int argc, char **argv, struct sl_opts *o);

/* Prepare a run for o (borrowed). 0, or -1 when out of memory or the address is bad. */
int sl_run_init(struct sl_run *r, const struct sl_opts *o);
/* Close every connection and free what the run holds. */
void sl_run_free(struct sl_run *r);

/* Start connecting client i. 0 (also when the connect failed at once: it is counted), or -1
 * when no socket can be made at all (sl_error() was called). */
int sl_conn_open(struct sl_run *r, int i);

/* Wait up to timeout_ms for socket events and handle them. 0, or -1 on an epoll failure. */
int sl_poll(struct sl_run *r, int timeout_ms);

/* Record the run's first error (later ones are dropped). */
void sl_error(struct sl_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
