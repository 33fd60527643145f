/*
 * A latency histogram with log-linear buckets: exact below 64 ns, then 64 buckets per power of
 * two, so any quantile is within 1/64 (1.6 %) of the true sample. Fixed size, no allocation
 * per sample, so millions of deliveries cost nothing but a counter increment each.
 */
#ifndef MQLOAD_HIST_H
#define MQLOAD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n;
    uint64_t min;
    uint64_t max;
    double sum;
};

/* Empty the histogram. */
void hist_reset(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* The sample at quantile q (0..1), 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Mean of the samples, 0 when empty. */
double hist_mean(const struct hist *h);

#endif
