/*
 * Inside wpbench: its options (options.c), the messages it prepares, their subscriptions and
 * the correctness check (workload.c), the measuring threads and the OpenSSL key generation rate
 * (wpbench.c).
 */
#ifndef WPBENCH_H
#define WPBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "webpush/ece.h"
#include "webpush/vapid.h"

#define WPB_MAX_THREADS 64
#define WPB_MAX_SUBS 4096
#define WPB_EVENT_MAX 512
#define WPB_VAPID_TTL (12 * 3600) /* web-push's default expiration */

enum wpb_vapid_mode {
    WPB_VAPID_CACHED, /* as the bridge sends: one JWT per origin, reused until near expiry */
    WPB_VAPID_FRESH,  /* a new ES256 signature per message, as web-push does */
};

struct wpb_opts {
    int threads;
    int cpus[WPB_MAX_THREADS]; /* thread i runs on cpus[i % ncpus]; ncpus 0: not pinned */
    int ncpus;
    double duration, warmup;
    enum wpb_vapid_mode vapid;
    int subs;           /* subscriptions in the pool */
    int origins;        /* distinct push services among their endpoints */
    int keygen;         /* measure OpenSSL's P-256 key generation instead */
    const char *sample; /* write one message for an outside decryption check, then exit */
    const char *label;
};

/* Parse argv into o. Returns 0, 1 after --help (printed), or -1 after a message on stderr. */
int wpb_parse_opts(int argc, char **argv, struct wpb_opts *o);

/* A push subscription as a browser hands it out (PushSubscription.toJSON()). */
struct wpb_sub {
    unsigned char p256dh[WEBPUSH_KEY_LEN];
    unsigned char auth[WEBPUSH_AUTH_LEN];
    unsigned char priv[32]; /* the user agent's key, kept for the sample only */
    char endpoint[256];
};

/* n fresh subscriptions spread over origins push services. Caller frees with free(); NULL
 * when OpenSSL fails. */
struct wpb_sub *wpb_subs_new(int n, int origins);

/* Per-thread generator of stream events: xorshift state and a sequence number. */
struct wpb_events {
    uint64_t rng;
    uint64_t seq;
};

void wpb_events_init(struct wpb_events *e, unsigned seed);
uint64_t wpb_rand(struct wpb_events *e);

/* The next stream event as JSON (about 300 bytes, 258 to 340) into buf of size
 * WPB_EVENT_MAX. Returns its length. */
size_t wpb_event_next(struct wpb_events *e, char *buf);

/*
 * Encrypt and sign one message: what the bridge does per push request before it goes on the
 * wire. now: the time given to the VAPID signer. Returns the body length (the body and the
 * header are freed), or 0 with a message in err.
 */
size_t wpb_message(struct webpush_vapid *v, const struct wpb_sub *s, const char *plain, size_t len,
                   int64_t now, size_t *auth_len, char *err, size_t errlen);

/* Check one message of each kind: the body's layout (RFC 8188 2.1), the VAPID header's JWT
 * against the key and the endpoint's origin, and that the signer caches or re-signs as mode
 * says. Returns 0, or -1 with a message on stderr. */
int wpb_check(EVP_PKEY *vapid_key, const struct wpb_sub *s, enum wpb_vapid_mode mode);

/* Write one encrypted event with what a user agent needs to decrypt it, as JSON, to path.
 * Returns 0, or -1 with a message on stderr. */
int wpb_write_sample(const char *path, const struct wpb_sub *s);

#endif
