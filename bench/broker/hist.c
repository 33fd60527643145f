#include "hist.h"

#include <string.h>

static unsigned bucket_of(uint64_t v)
{
    unsigned e;

    if (v < HIST_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
           (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of a bucket's value range. */
static uint64_t bucket_value(unsigned b)
{
    unsigned e, sub;
    uint64_t low, width;

    if (b < HIST_SUB)
        return b;
    e = (b - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
    sub = (b - HIST_SUB) % HIST_SUB;
    width = 1ull << (e - HIST_SUB_BITS);
    low = (1ull << e) + sub * width;
    return low + width / 2;
}

void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_add(struct hist *h, uint64_t v)
{
    h->counts[bucket_of(v)]++;
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->n++;
    h->sum += (double)v;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t rank, seen = 0;
    unsigned b;

    if (h->n == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* nearest-rank definition: the smallest sample with at least q*n samples at or below it */
    rank = (uint64_t)(q * (double)h->n);
    if ((double)rank < q * (double)h->n)
        rank++;
    if (rank == 0)
        rank = 1;
    for (b = 0; b < HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t v = bucket_value(b);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->n ? h->sum / (double)h->n : 0;
}
