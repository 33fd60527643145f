/* The result line of a run: one JSON object, built with json-c. */
#include "mqload.h"

#include <stdio.h>
#include <json-c/json.h>

static void put_int(json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}

/* Rounded to 3 decimals so the line stays readable. */
static void put_num(json_object *o, const char *k, double v)
{
    json_object_object_add(o, k, json_object_new_double((double)(int64_t)(v * 1000.0) / 1000.0));
}

static void put_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static json_object *latency_json(const struct hist *h)
{
    json_object *l = json_object_new_object();

    put_int(l, "n", (int64_t)h->n);
    put_num(l, "p50", (double)hist_quantile(h, 0.50) / 1e3);
    put_num(l, "p90", (double)hist_quantile(h, 0.90) / 1e3);
    put_num(l, "p99", (double)hist_quantile(h, 0.99) / 1e3);
    put_num(l, "p999", (double)hist_quantile(h, 0.999) / 1e3);
    put_num(l, "max", (double)h->max / 1e3);
    put_num(l, "mean", hist_mean(h) / 1e3);
    return l;
}

static void add_load(json_object *o, const struct run *r)
{
    const struct options *opt = r->o;
    double window = (double)(r->t_meas_end - r->t_meas_start) / 1e9;
    uint64_t expected = r->published * opt->copies * opt->subs;

    put_num(o, "window_s", window);
    put_int(o, "events", (int64_t)r->published);
    put_num(o, "events_per_s", window > 0 ? (double)r->published_in_window / window : 0);
    put_int(o, "delivered", (int64_t)r->delivered);
    put_num(o, "delivered_per_s", window > 0 ? (double)r->delivered_in_window / window : 0);
    put_int(o, "expected", (int64_t)expected);
    put_int(o, "lost", expected > r->delivered ? (int64_t)(expected - r->delivered) : 0);
    put_int(o, "duplicates", r->delivered > expected ? (int64_t)(r->delivered - expected) : 0);
    put_int(o, "pub_refused", (int64_t)r->pub_refused);
    put_int(o, "pub_no_subscribers", (int64_t)r->pub_no_subs);
    put_int(o, "late_sends", (int64_t)r->late_sends);
    put_int(o, "no_timestamp", (int64_t)r->no_timestamp);
    put_num(o, "rx_bytes_avg",
            r->delivered_in_window ? (double)r->rx_bytes_in_window / (double)r->delivered_in_window
                                   : 0);
    put_int(o, "tx_bytes", (int64_t)r->payload.len);
    json_object_object_add(o, "latency_us", latency_json(&r->latency));
    if (window > 0 && r->meas_ended) {
        put_num(o, "client_cpu", (r->client_cpu_end - r->client_cpu_start) / window);
        if (opt->broker_pid && r->broker_cpu_start >= 0 && r->broker_cpu_end >= 0)
            put_num(o, "broker_cpu", (r->broker_cpu_end - r->broker_cpu_start) / window);
        /* how busy the broker's CPU was, whoever used it: tells sharing from a real limit */
        if (r->cpu_ticks_ok && r->cpu_total_end > r->cpu_total_start)
            put_num(o, "broker_cpu_busy",
                    (double)(r->cpu_busy_end - r->cpu_busy_start) /
                        (double)(r->cpu_total_end - r->cpu_total_start));
    }
}

int result_print(const struct run *r)
{
    const struct options *opt = r->o;
    json_object *o = json_object_new_object();

    if (!o)
        return -1;
    put_str(o, "label", opt->label);
    put_int(o, "pubs", (int64_t)opt->pubs);
    put_int(o, "subs", (int64_t)opt->subs);
    put_int(o, "idle", (int64_t)opt->idle);
    put_int(o, "qos", opt->qos);
    put_int(o, "sub_qos", opt->sub_qos);
    put_num(o, "rate", opt->rate);
    put_int(o, "copies", (int64_t)opt->copies);
    put_int(o, "connected", (int64_t)r->ready);
    if (r->t_all_ready)
        put_num(o, "connect_s", (double)(r->t_all_ready - r->t_first_connect) / 1e9);
    if (opt->pubs || opt->subs)
        add_load(o, r);
    if (opt->idle && opt->broker_pid) {
        put_int(o, "rss_before_kib", r->rss_before_kib);
        put_int(o, "rss_after_kib", r->rss_after_kib);
        if (r->rss_before_kib >= 0 && r->rss_after_kib >= 0)
            put_num(o, "rss_per_client_bytes",
                    (double)(r->rss_after_kib - r->rss_before_kib) * 1024.0 / (double)opt->idle);
    }
    if (r->error[0])
        put_str(o, "error", r->error);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(o);
    return 0;
}
