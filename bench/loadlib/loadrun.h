/*
 * Pieces of a run that sseload and sioload share: the clock, the descriptor limit, error
 * messages fit for a JSON string, the publisher's configuration and the latency summary.
 */
#ifndef LOADRUN_H
#define LOADRUN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "loadopts.h"
#include "publisher.h"

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t load_now(void);

/* CPU time of this process in seconds. */
double load_self_cpu(void);

/* Raise the soft limit of open files to what `clients` connections need. 0, or -1 (printed,
 * prefixed with prog). */
int load_raise_nofile(const char *prog, int clients);

/* Replace what cannot stand in a JSON string unescaped (quotes, backslashes, controls). */
void load_json_safe(char *s);

/* Format into buf (size bytes) unless it already holds a message, then make it JSON-safe:
 * the run keeps its first error only. */
void load_error_vset(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The publisher's configuration from the shared options (borrowed: pc points into o). */
void load_pub_config(const struct load_opts *o, struct pub_config *pc);

/* Print "latency_us":{n, p50, p90, p99, p999, max} in microseconds, without separators. */
void load_print_latency(const struct hist *lat);

#endif
