/*
 * Inside setbench: the stream events it turns into SETs and the SET of one event (workload.c),
 * the measuring threads and the correctness check (setbench.c). peer/setbench.mjs builds the
 * same events and claims for npm jose; keep the two in step.
 */
#ifndef SETBENCH_H
#define SETBENCH_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define SETB_EVENT_MAX 512
/* What the claims carry: the transmitter's issuer and a receiver's stream, as the bridge's. */
#define SETB_ISS "https://push.example.com/ssf/bench"
#define SETB_AUD "receiver-1"
#define SETB_STREAM_ID "Zk3pQm0x7nT1vR8sW2yB4A"
#define SETB_TYPE "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

/* Per-thread generator of stream events: 32-bit xorshift, so that the peer has it in plain
 * JavaScript numbers. */
struct setb_events {
    uint32_t x;
    uint64_t seq;
};

void setb_events_init(struct setb_events *e, unsigned seed);

/* The next stream event, as the plugin hands it to the bridge (id, namespace, name,
 * timestamp, payload; about 330 bytes), NUL-terminated into buf of SETB_EVENT_MAX bytes.
 * Returns its length. */
size_t setb_event_next(struct setb_events *e, char *buf);

/*
 * One SET from one event, the way the bridge makes it (bridge/ssf/delivery.c, push.c): parse
 * the event, its subject (payload.user) and claims, the jti, ssf_set_make(), the claims as
 * text, ssf_set_sign(). Returns the compact SET (caller frees with free()), or NULL.
 */
char *setb_set_from_event(const char *event, EVP_PKEY *key, const char *kid, int64_t iat);

/* Claims kept per thread for --sign-only, cycled through. */
#define SETB_CLAIMS 64

/* The claims text of the SET for event, as the bridge keeps it in its outbox (caller frees),
 * or NULL. */
char *setb_claims_from_event(const char *event, int64_t iat);

/* Sign claims text as the bridge does when it sends (ssf_set_sign). Caller frees; NULL. */
char *setb_sign_claims(const char *claims, EVP_PKEY *key, const char *kid);

#endif
