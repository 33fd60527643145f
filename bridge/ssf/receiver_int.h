/*
 * Inside the SSF receiver: its state, shared by receiver.c (the endpoint), keys.c (the key
 * sets of the transmitters) and seen.c (SETs already published).
 */
#ifndef BRIDGE_SSF_RECEIVER_INT_H
#define BRIDGE_SSF_RECEIVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "bridge.h"
#include "config.h"
#include "jwk.h"

struct ssf_fetch;
struct ssf_seen;

/* A transmitter at run time. */
struct ssf_tx {
    const struct bridge_ssf_transmitter *cfg; /* borrowed from b->cfg */
    struct mqp_jwks *jwks;                    /* owned; NULL until loaded or fetched */
    struct ssf_fetch *fetch;                  /* the jwks_uri fetch in flight, or NULL */
    uint64_t stale_ms; /* loop time of the last fetch a SET's unknown kid asked for, 0: never */
};

struct ssf_receiver {
    struct bridge *b;
    struct ssf_tx *tx; /* one per configured transmitter, in configuration order */
    size_t n_tx;
    /* Fetches every jwks_uri again (ssf.receiver.jwks_refresh_s). On the heap: its close
     * callback frees it, which may run after the receiver is gone (a failed start). */
    uv_timer_t *refresh;
    bool closing;
    struct ssf_seen *seen;
};

/* keys.c */
/* Load tx's jwks_file into tx->jwks (replacing it only on success). Returns 0 or -1, logged. */
int ssf__keys_load_file(struct ssf_tx *tx);
/* Start the jwks_uri fetches and the refresh timer. Returns 0, or -1 (logged). */
int ssf__keys_start(struct ssf_receiver *rx);
/* Fetch tx's jwks_uri now unless one is in flight. */
void ssf__keys_fetch(struct ssf_receiver *rx, struct ssf_tx *tx);
/*
 * A SET named a key tx does not have: for a jwks_uri, fetch the set again unless such a fetch
 * ran less than SSF_KEYS_REFETCH_MS ago (the scheduled ones do not count: a rotation right
 * after one is still seen at once). Returns true when a fetch is in flight (the transmitter
 * should retry shortly), false when the keys are as current as they get.
 */
bool ssf__keys_stale(struct ssf_receiver *rx, struct ssf_tx *tx);
#define SSF_KEYS_REFETCH_MS 30000
/* Free the key sets (fetches must be over: after curl_loop_close()). */
void ssf__keys_free(struct ssf_receiver *rx);

/* seen.c: the SETs published lately, so that a transmitter's retry publishes nothing twice
 * (RFC 8935 leaves retries to the transmitter; "jti" is unique per issuer, RFC 8417 2.2). */
#define SSF_SEEN_MAX 4096
/* Returns 0 and *out (free with ssf__seen_free()), or -1. */
int ssf__seen_new(struct ssf_seen **out);
void ssf__seen_free(struct ssf_seen *s);
/* Was (tenant, iss, jti) remembered? */
bool ssf__seen_has(const struct ssf_seen *s, const char *tenant, const char *iss, const char *jti);
/* Remember it, forgetting the oldest of SSF_SEEN_MAX. Out of memory: not remembered. */
void ssf__seen_add(struct ssf_seen *s, const char *tenant, const char *iss, const char *jti);

#endif
