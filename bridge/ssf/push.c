/*
 * Push delivery of SETs (RFC 8935): the head of each enabled push stream's queue is signed on
 * libuv's thread pool and POSTed through curl multi to the stream's endpoint_url, one at a
 * time per stream so that its SETs arrive in order. The receiver's answer decides (2.3, 2.4):
 *   2xx delivered; 400 {"err", "description"}: counted per stream and logged; invalid_request,
 *   invalid_issuer, invalid_audience, invalid_key are dropped (the same SET would be refused
 *   again); authentication_failed, access_denied (also a bare 401/403) are tried auth_retries
 *   times, then the stream is paused with a reason and a stream-updated SET, holding its SETs
 *   until the receiver enables it again; other 4xx dropped; 3xx (never followed), 429, 5xx,
 *   timeouts and network errors retried with capped exponential backoff and jitter until
 *   retry_s after the SET was made. The SSRF guard refuses internal addresses (dropped,
 *   counted as refused) unless outbound.allow lists them.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "net/curl_loop.h"
#include "net/guard.h"
#include "ssf/delivery_int.h"
#include "ssf/set_make.h"
#include "ssf/transmitter_int.h"
#include "ssf/tx_keys.h"

#define RETRY_AFTER_MAX_S 3600

struct push_job {
    uv_work_t work;
    struct ssf_delivery *d;
    struct ssf_dstream *ds;
    int64_t item_id;
    char jti[200];
    char *claims;
    EVP_PKEY *key; /* a reference */
    char *kid;
    char *set; /* signed */
    char *url;
    char *authorization; /* the configured header value, or NULL */
    CURL *easy;
    struct curl_slist *headers;
    struct guard_pin pin;
    struct curl_loop_body response; /* the start of the receiver's answer, for the log */
};

static void job_free(struct push_job *j)
{
    if (j == NULL)
        return;
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->headers);
    free(j->claims);
    EVP_PKEY_free(j->key);
    free(j->kid);
    free(j->set);
    free(j->url);
    if (j->authorization)
        memset(j->authorization, 0, strlen(j->authorization)); /* a secret */
    free(j->authorization);
    free(j);
}

static void count(struct ssf_delivery *d, enum metrics_push_result r)
{
    d->b->metrics.push[METRICS_PUSH_SET][r]++;
}

/* The item the job sends, when it is still the head of its stream. */
static struct ssf_item *job_item(const struct push_job *j)
{
    return j->ds->head && j->ds->head->id == j->item_id ? j->ds->head : NULL;
}

static int64_t backoff_ms(const struct ssf_delivery *d, int attempts)
{
    uint64_t min = d->b->cfg->ssf.tx.retry_min_ms, max = d->b->cfg->ssf.tx.retry_max_ms, w = min;
    unsigned r = 0;

    while (attempts-- > 1 && w < max)
        w *= 2;
    if (w > max)
        w = max;
    /* Jitter: uniform in [w/2, w], so that receivers coming back are not hit at once. */
    RAND_bytes((unsigned char *)&r, sizeof(r));
    return (int64_t)(w / 2 + (w / 2 + 1) * (r % 1024) / 1024);
}

static void finish(struct push_job *j, enum metrics_push_result r)
{
    struct ssf_item *it = job_item(j);

    count(j->d, r);
    if (it)
        ssf__item_remove(j->d, j->ds, it, true);
}

static void retry(struct push_job *j, int64_t wait_ms)
{
    struct ssf_delivery *d = j->d;
    struct ssf_item *it = job_item(j);
    struct store *st = d->b->store;
    int64_t now = ssf__wall_ms();

    if (it == NULL)
        return;
    if (now + wait_ms > it->created_ms + (int64_t)d->b->cfg->ssf.tx.retry_s * 1000) {
        fprintf(stderr, "mqpush-bridge: ssf: SET %s to stream %s given up after %d attempts\n",
                it->jti, j->ds->id, it->attempts + 1);
        finish(j, METRICS_PUSH_EXPIRED);
        return;
    }
    it->attempts++;
    it->due_ms = now + wait_ms;
    if (st->ops->ssf_out_retry(st, it->id, it->attempts, it->due_ms) != 0)
        fprintf(stderr, "mqpush-bridge: ssf: cannot update SET %s in the outbox\n", it->jti);
    count(d, METRICS_PUSH_RETRIED);
}

/* The receiver refused our credentials: pause the stream after auth_retries answers. */
static void auth_refused(struct push_job *j, const char *err)
{
    struct ssf_delivery *d = j->d;
    struct store *st = d->b->store;
    struct store_ssf_stream s = {0};
    char reason[160];
    json_object *ev;

    if (++j->ds->auth_failures < d->b->cfg->ssf.tx.auth_retries) {
        retry(j, backoff_ms(d, j->ds->auth_failures));
        return;
    }
    if (st->ops->ssf_stream_get(st, j->ds->tenant, j->ds->id, &s) != 1)
        return;
    /* SSF 8.1.2: paused, so that nothing is lost; the receiver enables it once fixed. */
    snprintf(reason, sizeof(reason), "delivery refused: %s", err);
    free(s.status);
    free(s.reason);
    s.status = strdup("paused");
    s.reason = strdup(reason);
    s.updated_at = ssf__wall_ms() / 1000;
    if (s.status && s.reason && st->ops->ssf_stream_put(st, &s) == 0) {
        fprintf(stderr, "mqpush-bridge: ssf: stream %s paused: %s\n", j->ds->id, reason);
        /* SSF 8.1.5: the receiver learns of the change with a stream-updated event. */
        ev = json_object_new_object();
        json_object_object_add(ev, "status", json_object_new_string("paused"));
        json_object_object_add(ev, "reason", json_object_new_string(reason));
        if (ssf__queue_control(d, s.tenant, s.id, s.aud, SSF_EVENT_STREAM_UPDATED, ev) != 0)
            fprintf(stderr, "mqpush-bridge: ssf: cannot queue stream-updated for %s\n", s.id);
        json_object_put(ev);
    }
    store_ssf_stream_clear(&s);
}

/* RFC 8935 2.4: {"err": ..., "description": ...}; err into buf ("" when none). */
static void read_error(const struct push_job *j, char *err, size_t errcap, char *desc,
                       size_t desccap)
{
    json_object *o = json_tokener_parse(j->response.text), *v;

    err[0] = desc[0] = '\0';
    if (o && json_object_object_get_ex(o, "err", &v) && json_object_is_type(v, json_type_string))
        snprintf(err, errcap, "%s", json_object_get_string(v));
    if (o && json_object_object_get_ex(o, "description", &v) &&
        json_object_is_type(v, json_type_string))
        snprintf(desc, desccap, "%s", json_object_get_string(v));
    json_object_put(o);
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    struct push_job *j = ud;
    struct ssf_delivery *d = j->d;
    long status = 0;
    char why[200], err[64], desc[300];
    enum ssf_err_code code;

    d->inflight--;
    if (d->closing || result == CURLE_ABORTED_BY_CALLBACK)
        goto out; /* still in the outbox: sent after a restart */
    j->ds->sending = false;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    /* the status came with a body too long to read (net/curl_loop.h): that is the answer */
    if (result == CURLE_WRITE_ERROR && j->response.cut && status != 0)
        result = CURLE_OK;
    if (result != CURLE_OK) {
        if (result == CURLE_COULDNT_CONNECT && guard_refusal(&j->pin)) {
            fprintf(stderr, "mqpush-bridge: ssf: stream %s: %s: SET %s dropped\n", j->ds->id,
                    guard_refusal_text(&j->pin, why, sizeof(why)), j->jti);
            finish(j, METRICS_PUSH_REFUSED);
            goto out;
        }
        fprintf(stderr, "mqpush-bridge: ssf: stream %s: %s, will retry\n", j->ds->id,
                curl_easy_strerror(result));
        retry(j, backoff_ms(d, job_item(j) ? job_item(j)->attempts + 1 : 1));
        goto out;
    }
    if (status >= 200 && status < 300) {
        j->ds->auth_failures = 0;
        finish(j, METRICS_PUSH_DELIVERED);
        goto out;
    }
    if (status == 400 || status == 401 || status == 403) {
        read_error(j, err, sizeof(err), desc, sizeof(desc));
        if (err[0] == '\0' && status != 400)
            snprintf(err, sizeof(err), "%s",
                     status == 401 ? "authentication_failed" : "access_denied");
        code = ssf__err_code(err);
        j->ds->errors[code]++;
        fprintf(stderr, "mqpush-bridge: ssf: stream %s refused SET %s: %ld %s%s%s\n", j->ds->id,
                j->jti, status, err[0] ? err : "(no err)", desc[0] ? ": " : "", desc);
        if (code == SSF_ERR_AUTHENTICATION_FAILED || code == SSF_ERR_ACCESS_DENIED)
            auth_refused(j, err);
        else
            finish(j, METRICS_PUSH_REJECTED);
        goto out;
    }
    if (status == 429 || status == 503) {
        curl_off_t ra = 0;

        curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra);
        if (ra > 0) {
            retry(j, (int64_t)(ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : ra) * 1000);
            goto out;
        }
    }
    if (status >= 400 && status < 500 && status != 429) {
        fprintf(stderr, "mqpush-bridge: ssf: stream %s answered %ld for SET %s: dropped\n",
                j->ds->id, status, j->jti);
        finish(j, METRICS_PUSH_REJECTED);
        goto out;
    }
    fprintf(stderr, "mqpush-bridge: ssf: stream %s answered %ld for SET %s, will retry\n",
            j->ds->id, status, j->jti);
    retry(j, backoff_ms(d, job_item(j) ? job_item(j)->attempts + 1 : 1));
out:
    if (!d->closing)
        j->ds->sending = false;
    job_free(j);
    if (!d->closing)
        ssf__push_pump(d);
}

static int start_transfer(struct push_job *j)
{
    const char *lang = j->d->b->cfg->ssf.tx.accept_language;

    j->easy = curl_easy_init();
    if (j->easy == NULL)
        return -1;
    /* RFC 8935 2.1: the SET is the body; 2.4 lets the receiver's description follow
     * Accept-Language. "Expect:" keeps curl from waiting for a 100 Continue. */
    if (curl_loop_header(&j->headers, "Content-Type: ", "application/secevent+jwt") ||
        curl_loop_header(&j->headers, "Accept: ", "application/json") ||
        curl_loop_header(&j->headers, "Expect:", "") ||
        (j->authorization && curl_loop_header(&j->headers, "Authorization: ", j->authorization)) ||
        (lang && curl_loop_header(&j->headers, "Accept-Language: ", lang)))
        return -1;
    if (guard_apply(j->d->b->guard, j->easy, &j->pin) != 0)
        return -1;
    curl_easy_setopt(j->easy, CURLOPT_URL, j->url);
    curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->set);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->set));
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, curl_loop_keep_body);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, &j->response);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "mqpush-bridge");
    return curl_loop_add(j->d->b->curl, j->easy, on_done, j);
}

static void work_sign(uv_work_t *w)
{
    struct push_job *j = w->data;

    j->set = ssf_set_sign(j->claims, j->key, j->kid);
}

static void after_sign(uv_work_t *w, int status)
{
    struct push_job *j = w->data;
    struct ssf_delivery *d = j->d;

    if (d->closing || status != 0) {
        d->inflight--;
        job_free(j);
        return;
    }
    if (j->set == NULL || start_transfer(j) != 0) {
        fprintf(stderr, "mqpush-bridge: ssf: cannot %s SET %s\n", j->set ? "send" : "sign", j->jti);
        d->inflight--;
        j->ds->sending = false;
        retry(j, backoff_ms(d, job_item(j) ? job_item(j)->attempts + 1 : 1));
        job_free(j);
        ssf__push_pump(d);
    }
}

/* The push target of a stream's configuration; false when it is not a push stream. */
static bool push_target(const struct store_ssf_stream *s, char **url, char **authorization)
{
    json_object *cfg = json_tokener_parse(s->config), *dl, *v;
    bool push = false;

    *url = *authorization = NULL;
    if (cfg && json_object_object_get_ex(cfg, "delivery", &dl) &&
        json_object_object_get_ex(dl, "method", &v) &&
        strcmp(json_object_get_string(v), SSF_DELIVERY_PUSH) == 0 &&
        json_object_object_get_ex(dl, "endpoint_url", &v)) {
        push = true;
        *url = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(dl, "authorization_header", &v))
            *authorization = strdup(json_object_get_string(v));
    }
    json_object_put(cfg);
    return push;
}

/* Start the head of ds when its stream is an enabled push stream. */
static void start(struct ssf_delivery *d, struct ssf_dstream *ds)
{
    struct store *st = d->b->store;
    struct store_ssf_stream s = {0};
    struct push_job *j = NULL;
    struct ssf_item *it = ds->head;
    const char *kid = NULL;
    EVP_PKEY *key;
    int found = st->ops->ssf_stream_get(st, ds->tenant, ds->id, &s);

    if (found == 0 || (found == 1 && strcmp(s.status, "disabled") == 0)) {
        ssf__drop_all(d, ds);
        if (ds->head && !ds->sending)
            ssf__item_remove(d, ds, ds->head, true);
        goto out;
    }
    if (found < 0 || strcmp(s.status, "enabled") != 0)
        goto out; /* paused: held */
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        goto out;
    if (!push_target(&s, &j->url, &j->authorization))
        goto out; /* polled */
    key = ssf_tx_keys_current(d->b->ssf_transmitter->keys, &kid);
    j->d = d;
    j->ds = ds;
    j->item_id = it->id;
    snprintf(j->jti, sizeof(j->jti), "%s", it->jti);
    j->claims = strdup(it->claims);
    j->kid = strdup(kid);
    if (j->url == NULL || j->claims == NULL || j->kid == NULL || EVP_PKEY_up_ref(key) != 1)
        goto out;
    j->key = key;
    j->work.data = j;
    if (uv_queue_work(d->b->loop, &j->work, work_sign, after_sign) != 0)
        goto out;
    ds->sending = true;
    d->inflight++;
    j = NULL;
out:
    job_free(j);
    store_ssf_stream_clear(&s);
}

static void on_timer(uv_timer_t *t)
{
    ssf__push_pump(t->data);
}

void ssf__push_pump(struct ssf_delivery *d)
{
    struct ssf_dstream *ds, *tmp;
    int64_t now = ssf__wall_ms(), next = INT64_MAX;

    if (d->closing || !d->timer_open)
        return;
    HASH_ITER(hh, d->streams, ds, tmp)
    {
        if (ds->sending || ds->head == NULL)
            continue;
        if (ds->head->due_ms <= now)
            start(d, ds);
        /* A paused or polled stream's head stays due; it is looked at again when the next
         * SET or a status change comes, or at the latest after retry_max_ms. */
        if (!ds->sending && ds->head && ds->head->due_ms > now && ds->head->due_ms < next)
            next = ds->head->due_ms;
    }
    if (next == INT64_MAX)
        next = now + (int64_t)d->b->cfg->ssf.tx.retry_max_ms;
    uv_timer_start(&d->timer, on_timer, next > now ? (uint64_t)(next - now) : 1, 0);
}
