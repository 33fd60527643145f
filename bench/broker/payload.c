#include "payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of tmpl once rendered without padding; -1 when a '%' is not followed by T, P or %. */
static long rendered_len(const char *tmpl, int *n_ts, int *n_pad)
{
    long len = 0;

    *n_ts = *n_pad = 0;
    for (; *tmpl; tmpl++) {
        if (*tmpl != '%') {
            len++;
            continue;
        }
        tmpl++;
        if (*tmpl == 'T') {
            (*n_ts)++;
            len += (long)PAYLOAD_TS_LEN;
        } else if (*tmpl == 'P') {
            (*n_pad)++;
        } else if (*tmpl == '%') {
            len++;
        } else {
            return -1;
        }
    }
    return len;
}

int payload_build(const char *tmpl, size_t size, struct payload *p, char *err, size_t errlen)
{
    int n_ts, n_pad;
    long base = rendered_len(tmpl, &n_ts, &n_pad);
    size_t pad = 0, total, at = 0;

    memset(p, 0, sizeof(*p));
    p->ts_off = SIZE_MAX;
    if (base < 0 || n_ts > 1 || n_pad > 1) {
        snprintf(err, errlen, "payload template: use %%T and %%P at most once, %%%% for '%%'");
        return -1;
    }
    if (size) {
        if (!n_pad || (size_t)base > size) {
            snprintf(err, errlen,
                     "payload of %zu bytes needs %%P and a template of at most "
                     "that size (it renders to %ld bytes)",
                     size, base);
            return -1;
        }
        pad = size - (size_t)base;
    }
    total = (size_t)base + pad;
    p->data = malloc(total + 1);
    if (!p->data) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (; *tmpl; tmpl++) {
        if (*tmpl != '%') {
            p->data[at++] = *tmpl;
            continue;
        }
        tmpl++;
        if (*tmpl == 'T') {
            memcpy(p->data + at, PAYLOAD_TS_PREFIX, sizeof(PAYLOAD_TS_PREFIX) - 1);
            at += sizeof(PAYLOAD_TS_PREFIX) - 1;
            p->ts_off = at;
            memset(p->data + at, '0', PAYLOAD_TS_DIGITS);
            at += PAYLOAD_TS_DIGITS;
        } else if (*tmpl == 'P') {
            memset(p->data + at, 'x', pad);
            at += pad;
        } else {
            p->data[at++] = '%';
        }
    }
    p->data[at] = '\0';
    p->len = at;
    return 0;
}

void payload_free(struct payload *p)
{
    if (!p)
        return;
    free(p->data);
    p->data = NULL;
    p->len = 0;
}

void payload_stamp(struct payload *p, uint64_t ns)
{
    int i;

    if (p->ts_off == SIZE_MAX)
        return;
    for (i = PAYLOAD_TS_DIGITS - 1; i >= 0; i--) {
        p->data[p->ts_off + (size_t)i] = (char)('0' + ns % 10);
        ns /= 10;
    }
}

int payload_find_ts(const uint8_t *data, size_t len, uint64_t *ns)
{
    const uint8_t *hit = memmem(data, len, PAYLOAD_TS_PREFIX, sizeof(PAYLOAD_TS_PREFIX) - 1);
    uint64_t v = 0;
    size_t i, off;

    if (!hit)
        return -1;
    off = (size_t)(hit - data) + sizeof(PAYLOAD_TS_PREFIX) - 1;
    if (len - off < PAYLOAD_TS_DIGITS)
        return -1;
    /* 20 digits can exceed UINT64_MAX; monotonic clocks are far below, anything else is bad */
    for (i = 0; i < PAYLOAD_TS_DIGITS; i++) {
        uint8_t d = data[off + i];
        if (d < '0' || d > '9' || v > (UINT64_MAX - (d - '0')) / 10)
            return -1;
        v = v * 10 + (d - '0');
    }
    *ns = v;
    return 0;
}
