/*
 * The push receiver of setpush: an RFC 8935 endpoint on 127.0.0.1 that answers every SET with
 * 202 at once, from a thread of its own (poll(), a few keep-alive connections), and keeps what
 * the benchmark checks: each SET's jti (every event arrives once), the highest "seq" of the
 * publisher's events (the publisher's window) and, for every n-th SET, the verdict of the
 * bridge's own receiver checks (bridge/ssf/set.c) against the transmitter's JWKS.
 */
#ifndef SETRX_H
#define SETRX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct mqp_jwks;

struct setrx_config {
    int port;                    /* 0: any free port */
    const char *type;            /* the event type of the publisher's events; borrowed */
    const char *audience;        /* the stream's aud; borrowed */
    const struct mqp_jwks *jwks; /* borrowed, may be NULL: no signature checks */
    unsigned verify_every;       /* check every n-th SET of type (0: none) */
};

struct setrx_stats {
    uint64_t requests;   /* POSTs answered */
    uint64_t sets;       /* SETs of type */
    uint64_t unique;     /* distinct jti among them */
    uint64_t duplicates; /* a jti seen before */
    uint64_t other;      /* SETs of another type (verification, stream-updated) */
    uint64_t malformed;  /* bodies that are no SET */
    uint64_t verified, verify_failed;
    uint64_t bytes; /* of SETs of type */
};

struct setrx;

/* Listen and start the thread. Returns 0 and *out (caller frees with setrx_free()), or -1
 * with a message in err. */
int setrx_start(const struct setrx_config *cfg, struct setrx **out, char *err, size_t errlen);

int setrx_port(const struct setrx *rx);

/* The highest "seq" among the SETs of type received: the publisher's progress (borrowed, valid
 * until setrx_free()). */
const _Atomic uint64_t *setrx_progress(const struct setrx *rx);

void setrx_stats(struct setrx *rx, struct setrx_stats *st);

/* Stop the thread, close every socket, free; accepts NULL. */
void setrx_free(struct setrx *rx);

#endif
