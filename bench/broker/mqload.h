/*
 * State of one mqload run, shared by the event loop (mqload.c) and the result writer
 * (result.c). Everything runs in one thread.
 */
#ifndef MQLOAD_MQLOAD_H
#define MQLOAD_MQLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hist.h"
#include "net.h"
#include "options.h"
#include "payload.h"
#include "wire.h"

enum role { ROLE_PUB, ROLE_SUB, ROLE_IDLE };

enum client_state {
    CS_NEW,     /* not started */
    CS_TCP,     /* TCP connect in progress */
    CS_CONNACK, /* CONNECT sent */
    CS_SUBACK,  /* SUBSCRIBE sent */
    CS_READY,
    CS_CLOSED,
};

struct client {
    int fd;
    enum role role;
    enum client_state state;
    char id[96];
    struct wire_buf in, out;
    uint16_t next_pid;
    size_t inflight;     /* unacknowledged QoS 1 publishes */
    size_t inflight_max; /* ours, capped by the server's Receive Maximum */
    uint64_t received;   /* copies delivered to this subscriber */
    int64_t next_send;   /* rate mode: when the next event is due */
    int64_t last_tx;     /* for keep-alive pings */
};

enum phase { PH_CONNECT, PH_RUN, PH_DRAIN, PH_SETTLE, PH_DONE };

struct run {
    const struct options *o;
    struct net_addr addr;
    struct client *clients; /* pubs first, then subs, then idle clients */
    size_t n_clients;
    struct payload payload;
    enum phase phase;
    char error[512];

    size_t started, handshaking, ready;
    int64_t t_first_connect, t_all_ready;
    int64_t t_run, t_meas_start, t_meas_end, t_deadline;
    bool meas_started, meas_ended;

    uint64_t published, published_in_window;
    uint64_t pub_refused; /* PUBACK with a failure reason */
    uint64_t pub_no_subs; /* PUBACK 0x10: nobody was subscribed */
    uint64_t delivered, delivered_in_window, rx_bytes_in_window;
    uint64_t no_timestamp; /* deliveries without a timestamp token */
    uint64_t late_sends;   /* rate mode: sends that could not go out on time */
    struct hist latency;

    long rss_before_kib, rss_after_kib;
    double broker_cpu_start, broker_cpu_end;
    double client_cpu_start, client_cpu_end;
    unsigned long long cpu_busy_start, cpu_total_start, cpu_busy_end, cpu_total_end;
    bool cpu_ticks_ok;
};

/* Seconds of silence after which a client pings (MQTT 5.0 section 3.1.2.10: keep alive). */
#define MQLOAD_KEEPALIVE_S 60
/* Publishers keep at most this much unsent output when QoS 0 gives no acknowledgement. */
#define MQLOAD_QOS0_BACKLOG 65536

/* Record the first fatal error (printf format) and end the run (client.c). */
__attribute__((format(printf, 2, 3))) void run_fail(struct run *r, const char *fmt, ...);
/* True while the measurement window is open (client.c). */
bool run_in_window(const struct run *r);

/* Start the TCP connect of c (client.c). */
void client_start(struct run *r, struct client *c, int64_t now);
/* The TCP connect of c finished: check it and send CONNECT (client.c). */
void client_on_connected(struct run *r, struct client *c);
/* c's socket is readable: read, then handle every complete packet (client.c). */
void client_on_readable(struct run *r, struct client *c);

/* Print the result line of r on stdout (result.c). Returns 0, or -1 when out of memory. */
int result_print(const struct run *r);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mono_ns(void);
/* CPU time of this process in seconds. */
double self_cpu_seconds(void);

#endif
