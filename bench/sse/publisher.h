/*
 * The event publisher of the SSE benchmark: one libmosquitto client (MQTT 5) that publishes
 * events carrying {"payload":{"t":<CLOCK_MONOTONIC ns>,"seq":<n>,"pad":"..."}} to one topic,
 * from a thread of its own, either at a fixed rate (an absolute schedule: event k is due at
 * start + k/rate, so a late send does not shift the ones after it) or flat out, held back only
 * by how far the slowest SSE client is behind.
 */
#ifndef SSE_PUBLISHER_H
#define SSE_PUBLISHER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct pub_config {
    const char *host; /* numeric loopback address; borrowed */
    int port;
    const char *topic;               /* borrowed */
    const char *username, *password; /* borrowed; the password is the publisher token */
    int qos;
    double rate;     /* events per second; 0: flat out, within the window */
    size_t size;     /* payload bytes, padded with 'x' */
    uint64_t window; /* flat out: most events the slowest client may be behind */
};

struct pub_stats {
    uint64_t published; /* handed to libmosquitto; the last one has seq == published */
    uint64_t acked;     /* PUBACKs (QoS 1), or sent (QoS 0) */
    uint64_t refused;   /* PUBACK reason codes >= 0x80 (the plugin refused the event) */
    uint64_t late;      /* rate mode: sends more than 1 ms behind their schedule */
    int failed;         /* a publish call failed or the connection dropped */
};

struct publisher;

/*
 * Connect and wait for the CONNACK (at most 10 s). Returns 0 and *out (caller frees with
 * publisher_free()), or -1 with a message in err.
 */
int publisher_connect(const struct pub_config *cfg, struct publisher **out, char *err,
                      size_t errlen);

/*
 * Start publishing on a new thread. progress (borrowed, must outlive the publisher's thread) is
 * the highest seq that every client has received, kept current by the caller; it is read in
 * flat-out mode only. Returns 0, or -1 when the thread cannot start.
 */
int publisher_start(struct publisher *p, const _Atomic uint64_t *progress);

/* Stop publishing and join the thread; the connection stays up for acknowledgements. */
void publisher_halt(struct publisher *p);

void publisher_stats(struct publisher *p, struct pub_stats *st);

/* Disconnect and free; accepts NULL. Halts first if still running. */
void publisher_free(struct publisher *p);

#endif
