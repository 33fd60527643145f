/*
 * Event payloads with a send timestamp inside. The timestamp travels as the text token
 * "mqload-ts-" followed by 20 decimal digits of CLOCK_MONOTONIC nanoseconds, a fixed width so
 * every payload of a run has the same size. Subscribers find the token wherever it ends up:
 * the mqpush plugin copies it into the stream event through the stream's map.
 */
#ifndef MQLOAD_PAYLOAD_H
#define MQLOAD_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_TS_PREFIX "mqload-ts-"
#define PAYLOAD_TS_DIGITS 20
#define PAYLOAD_TS_LEN (sizeof(PAYLOAD_TS_PREFIX) - 1 + PAYLOAD_TS_DIGITS)

struct payload {
    char *data; /* owned; rendered template */
    size_t len;
    size_t ts_off; /* where the digits start; SIZE_MAX when the template has no %T */
};

/*
 * Render tmpl: %T becomes the timestamp token (at most once), %P padding 'x' characters so the
 * whole payload is size bytes (size 0: no padding), %% a '%'. Returns 0 (free p with
 * payload_free()), or -1 with a message in err.
 */
int payload_build(const char *tmpl, size_t size, struct payload *p, char *err, size_t errlen);
void payload_free(struct payload *p);

/* Write ns into the timestamp digits. */
void payload_stamp(struct payload *p, uint64_t ns);

/* Find the first timestamp token in data. Returns 0 with *ns, or -1 when there is none. */
int payload_find_ts(const uint8_t *data, size_t len, uint64_t *ns);

#endif
