/*
 * Sending: pending messages wait in a heap by due time; a due message is encrypted (RFC 8291:
 * a key pair and an ECDH per message) and given its VAPID header (RFC 8292: the JWT is signed
 * once per origin and cached) on libuv's thread pool, then POSTed through curl multi.
 * The push service's answer decides what happens next (RFC 8030 5, 6, 8.4):
 *   2xx delivered; 404/410 the subscription is gone; 413 dropped; 429/503 wait for
 *   Retry-After (per origin); other 4xx logged and dropped; 3xx (never followed), 5xx and
 *   network errors retried with capped exponential backoff and jitter while the TTL lasts.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "b64url.h"
#include "event.h"
#include "net/curl_loop.h"
#include "net/guard.h"
#include "webpush/webpush_int.h"

#define RETRY_AFTER_MAX_S 3600
/* Requests in flight to one push service (origin): a slow or silent one cannot take every
 * slot of max_inflight from the others. An origin starts with ORIGIN_INFLIGHT_START and earns
 * one more with each answer, up to the maximum; a request that times out or fails to connect
 * halves what it may have (down to one). So silent origins hold a few slots each, not 32, and
 * it takes max_inflight / ORIGIN_INFLIGHT_START of them at once to hold back the others. */
#define ORIGIN_INFLIGHT_MAX 32
#define ORIGIN_INFLIGHT_START 4

struct wp_job {
    uv_work_t work;
    struct webpush *wp;
    struct wp_msg *msg; /* owned while in flight */
    unsigned char p256dh[WEBPUSH_KEY_LEN];
    unsigned char auth[WEBPUSH_AUTH_LEN];
    char *plain; /* what is encrypted: the event, or its compact form */
    size_t plain_len, pad;
    unsigned char *out; /* the aes128gcm body */
    size_t out_len;
    int rc;
    char err[128];
    char *endpoint;
    char *origin;
    bool encrypted; /* Web Push (and UnifiedPush's Web Push form); else UnifiedPush SERV 1.0.1 */
    char *authorization;
    struct webpush_vapid *vapid; /* a reference: the key may rotate meanwhile */
    int64_t now_s;
    char topic[WP_TOPIC_SIZE];
    const char *urgency; /* borrowed from b->cfg */
    unsigned ttl_s;
    CURL *easy;
    struct curl_slist *headers;
    struct guard_pin pin;
    struct wp_origin *org;          /* its origin's entry while it holds a slot there */
    struct curl_loop_body response; /* the start of a refusal, for the log */
};

/* The heap: (due_ms, id) ascending. */
static bool before(const struct wp_msg *a, const struct wp_msg *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->id < b->id);
}

int wp_queue_push(struct webpush *wp, struct wp_msg *m)
{
    size_t i;

    if (wp->heap_len == wp->heap_cap) {
        size_t cap = wp->heap_cap ? wp->heap_cap * 2 : 256;
        struct wp_msg **h = realloc(wp->heap, cap * sizeof(*h));

        if (h == NULL)
            return -1;
        wp->heap = h;
        wp->heap_cap = cap;
    }
    i = wp->heap_len++;
    while (i > 0 && before(m, wp->heap[(i - 1) / 2])) {
        wp->heap[i] = wp->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    wp->heap[i] = m;
    return 0;
}

static struct wp_msg *queue_pop(struct webpush *wp)
{
    struct wp_msg *top = wp->heap[0], *last = wp->heap[--wp->heap_len];
    size_t i = 0;

    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct wp_msg *cand = last;

        if (l < wp->heap_len && before(wp->heap[l], cand)) {
            m = l;
            cand = wp->heap[l];
        }
        if (r < wp->heap_len && before(wp->heap[r], cand))
            m = r;
        if (m == i)
            break;
        wp->heap[i] = wp->heap[m];
        i = m;
    }
    if (wp->heap_len > 0)
        wp->heap[i] = last;
    return top;
}

void wp_msg_free(struct wp_msg *m)
{
    if (m) {
        free(m->body);
        free(m);
    }
}

void wp_queue_clear(struct webpush *wp)
{
    while (wp->heap_len > 0)
        wp_msg_free(queue_pop(wp));
    free(wp->heap);
    wp->heap = NULL;
    wp->heap_cap = 0;
}

static struct wp_origin *origin_get(struct webpush *wp, const char *origin)
{
    struct wp_origin *o = NULL;

    HASH_FIND_STR(wp->origins, origin, o);
    if (o)
        return o;
    o = calloc(1, sizeof(*o));
    if (o == NULL || (o->origin = strdup(origin)) == NULL) {
        free(o);
        return NULL;
    }
    o->cap = ORIGIN_INFLIGHT_START;
    HASH_ADD_KEYPTR(hh, wp->origins, o->origin, strlen(o->origin), o);
    return o;
}

static void unpark_one(struct webpush *wp, struct wp_origin *o);

/* An answer came from o (any HTTP status): one more request may be in flight there, and a
 * parked message takes that slot at once. */
static void origin_answered(struct webpush *wp, struct wp_origin *o)
{
    if (o && o->cap < ORIGIN_INFLIGHT_MAX) {
        o->cap++;
        unpark_one(wp, o);
    }
}

/* No answer from o (time-out, reset, refused connection). */
static void origin_silent(struct wp_origin *o)
{
    if (o && o->cap > 1)
        o->cap /= 2;
}

/* The oldest message parked at o goes back to the queue, due now, when o has room for it: a
 * message that would only be parked again must not be passed on from one to the next. */
static void unpark_one(struct webpush *wp, struct wp_origin *o)
{
    struct wp_msg *m = o->parked;

    if (m == NULL || o->inflight >= o->cap)
        return;
    o->parked = m->next;
    if (o->parked == NULL)
        o->parked_tail = NULL;
    m->next = NULL;
    m->parked_at = o;
    wp->parked--;
    if (wp_queue_push(wp, m) != 0)
        wp_msg_free(m);
}

/* The job gives back its sending slot (overall and its origin's), and the origin's next
 * parked message may take it. */
static void slot_free(struct wp_job *j)
{
    struct wp_origin *o = j->org;

    j->wp->inflight--;
    if (o == NULL)
        return;
    o->inflight--;
    j->org = NULL;
    unpark_one(j->wp, o);
}

static void park(struct webpush *wp, struct wp_origin *o, struct wp_msg *m)
{
    m->next = NULL;
    if (o->parked_tail)
        o->parked_tail->next = m;
    else
        o->parked = m;
    o->parked_tail = m;
    wp->parked++;
}

static void job_free(struct wp_job *j)
{
    if (j == NULL)
        return;
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->headers);
    wp_msg_free(j->msg);
    free(j->plain);
    free(j->out);
    free(j->endpoint);
    free(j->origin);
    free(j->authorization);
    webpush_vapid_free(j->vapid);
    free(j);
}

static void count(struct webpush *wp, enum metrics_push_result r)
{
    wp->b->metrics.push[wp->mch][r]++;
}

/* The message is finished with (delivered, dropped or expired): out of the outbox. */
static void finish(struct webpush *wp, struct wp_job *j, enum metrics_push_result r)
{
    struct store *st = wp->b->store;

    count(wp, r);
    if (st->ops->msg_delete(st, j->msg->id) != 0)
        fprintf(stderr, "mqpush-bridge: webpush: cannot delete message %lld from the outbox\n",
                (long long)j->msg->id);
}

/* Try again at due_ms, or give up when the TTL will be over by then. */
static void retry(struct webpush *wp, struct wp_job *j, int64_t due_ms)
{
    struct store *st = wp->b->store;
    struct wp_msg *m = j->msg;

    if (due_ms >= m->expires_ms) {
        finish(wp, j, METRICS_PUSH_EXPIRED);
        return;
    }
    m->attempts++;
    m->due_ms = due_ms;
    if (st->ops->msg_retry(st, m->id, m->attempts, due_ms) != 0)
        fprintf(stderr, "mqpush-bridge: webpush: cannot update message %lld in the outbox\n",
                (long long)m->id);
    count(wp, METRICS_PUSH_RETRIED);
    if (wp_queue_push(wp, m) == 0)
        j->msg = NULL;
}

/* Capped exponential backoff with jitter: uniform in [d/2, d], d = min * 2^(n-1), capped. */
static int64_t backoff_ms(const struct webpush *wp, int attempts)
{
    uint64_t d = wp->set->retry_min_ms;
    unsigned r = 0;

    while (attempts-- > 1 && d < wp->set->retry_max_ms)
        d *= 2;
    if (d > wp->set->retry_max_ms)
        d = wp->set->retry_max_ms;
    RAND_bytes((unsigned char *)&r, sizeof(r));
    return (int64_t)(d / 2 + (d / 2 + 1) * (r % 1024) / 1024);
}

static void log_reply(struct wp_job *j, long status, const char *what)
{
    /* a push service's words go to the log, but not its control characters */
    for (size_t i = 0; i < j->response.len; i++)
        if ((unsigned char)j->response.text[i] < 0x20 || j->response.text[i] == 0x7f)
            j->response.text[i] = ' ';
    fprintf(stderr, "mqpush-bridge: webpush: %s answered %ld for %s: %s%s%.*s\n", j->origin, status,
            j->msg->event_id, what, j->response.len ? ": " : "", (int)j->response.len,
            j->response.text);
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    struct wp_job *j = ud;
    struct webpush *wp = j->wp;
    struct wp_origin *o, *org;
    struct wp_sub *s;
    long status = 0;
    int64_t now = wp_wall_ms();
    bool up = wp->kind == WP_UNIFIEDPUSH;

    slot_free(j);
    if (wp->closing || result == CURLE_ABORTED_BY_CALLBACK)
        goto out; /* still in the outbox: sent after a restart */
    org = origin_get(wp, j->origin);
    o = up ? origin_get(wp, j->endpoint) : org; /* what a 429 holds back */
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    /* the status came with a body too long to read (net/curl_loop.h): that is the answer */
    if (result == CURLE_WRITE_ERROR && j->response.cut && status != 0)
        result = CURLE_OK;
    if (result != CURLE_OK) {
        char why[160];

        if (result == CURLE_COULDNT_CONNECT && guard_refusal(&j->pin)) {
            fprintf(stderr, "mqpush-bridge: webpush: %s: %s\n", j->origin,
                    guard_refusal_text(&j->pin, why, sizeof(why)));
            finish(wp, j, METRICS_PUSH_REFUSED);
            goto out;
        }
        fprintf(stderr, "mqpush-bridge: webpush: %s: %s\n", j->origin, curl_easy_strerror(result));
        origin_silent(org);
        retry(wp, j, now + backoff_ms(wp, j->msg->attempts + 1));
        goto out;
    }
    origin_answered(wp, org);
    if (status >= 200 && status < 300) {
        if (o)
            o->backoff_ms = 0;
        finish(wp, j, METRICS_PUSH_DELIVERED);
        goto out;
    }
    if (status == 404 || status == 410) {
        /* RFC 8030 7.3: the subscription expired or was removed by the user agent. */
        finish(wp, j, METRICS_PUSH_GONE);
        s = wp_sub_find(wp, j->msg->sub_id);
        if (s)
            wp_sub_remove(wp, s, true);
        goto out;
    }
    if (up && status == 413 && !j->msg->compact) {
        /* UnifiedPush: once more in the compact form, then give up (below). */
        log_reply(j, status, "too large, sending the compact form");
        j->msg->compact = true;
        retry(wp, j, now);
        goto out;
    }
    if (status == 429 || (status == 503 && !up)) {
        curl_off_t ra = 0;
        int64_t wait;

        curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra);
        if (ra > 0) {
            wait = (int64_t)(ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : ra) * 1000;
        } else if (o) {
            o->backoff_ms = o->backoff_ms ? o->backoff_ms * 2 : wp->set->retry_min_ms;
            if (o->backoff_ms > wp->set->retry_max_ms)
                o->backoff_ms = wp->set->retry_max_ms;
            wait = o->backoff_ms;
        } else {
            wait = backoff_ms(wp, j->msg->attempts + 1);
        }
        if (o && now + wait > o->blocked_until_ms)
            o->blocked_until_ms = now + wait;
        retry(wp, j, now + wait);
        goto out;
    }
    if (status >= 400 && status < 500) {
        /* 413: the message is too large for this service; 400/401/403: the request or our
         * VAPID identity is refused. Sending it again would be refused again. */
        log_reply(j, status, status == 413 ? "too large, dropped" : "refused, dropped");
        if (org)
            org->rejected++;
        finish(wp, j, METRICS_PUSH_REJECTED);
        goto out;
    }
    log_reply(j, status, "will retry");
    retry(wp, j, now + backoff_ms(wp, j->msg->attempts + 1));
out:
    job_free(j);
    if (!wp->closing)
        wp_pump(wp);
}

static int start_transfer(struct wp_job *j)
{
    struct webpush *wp = j->wp;
    char ttl[16];

    j->easy = curl_easy_init();
    if (j->easy == NULL)
        return -1;
    snprintf(ttl, sizeof(ttl), "%u", j->ttl_s);
    /* RFC 8030 5 (TTL, Urgency, Topic), RFC 8188 2 (Content-Encoding), RFC 8292 3. A
     * UnifiedPush SERV 1.0.1 message is the plain body; the headers of RFC 8030 are harmless
     * there and the later, Web Push form of the specification reads them. */
    if (curl_loop_header(&j->headers, "TTL: ", ttl) ||
        curl_loop_header(&j->headers, "Urgency: ", j->urgency) ||
        (j->topic[0] && curl_loop_header(&j->headers, "Topic: ", j->topic)) ||
        curl_loop_header(&j->headers, "Expect:", ""))
        return -1;
    if (j->encrypted
            ? curl_loop_header(&j->headers, "Content-Encoding: ", "aes128gcm") ||
                  curl_loop_header(&j->headers, "Content-Type: ", "application/octet-stream") ||
                  curl_loop_header(&j->headers, "Authorization: ", j->authorization)
            : curl_loop_header(&j->headers, "Content-Type: ", "application/json"))
        return -1;
    if (guard_apply(wp->b->guard, j->easy, &j->pin) != 0)
        return -1;
    curl_easy_setopt(j->easy, CURLOPT_URL, j->endpoint);
    curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
    if (j->encrypted) {
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, (const char *)j->out);
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->out_len);
    } else {
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->plain);
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->plain_len);
    }
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, curl_loop_keep_body);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, &j->response);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(j->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "mqpush-bridge");
    return curl_loop_add(wp->b->curl, j->easy, on_done, j);
}

static void work_encrypt(uv_work_t *w)
{
    struct wp_job *j = w->data;

    j->rc = webpush_ece_encrypt(j->p256dh, j->auth, j->plain, j->plain_len, j->pad, NULL, &j->out,
                                &j->out_len, j->err, sizeof(j->err));
    if (j->rc == 0) {
        j->authorization =
            webpush_vapid_authorization(j->vapid, j->endpoint, j->now_s, j->err, sizeof(j->err));
        if (j->authorization == NULL)
            j->rc = -1;
    }
}

static void after_encrypt(uv_work_t *w, int status)
{
    struct wp_job *j = w->data;
    struct webpush *wp = j->wp;

    if (wp->closing || status != 0) {
        slot_free(j);
        job_free(j);
        return;
    }
    if (j->rc != 0) {
        fprintf(stderr, "mqpush-bridge: webpush: cannot encrypt or sign %s: %s\n", j->msg->event_id,
                j->err);
        slot_free(j);
        finish(wp, j, METRICS_PUSH_REJECTED);
        job_free(j);
        wp_pump(wp);
        return;
    }
    if (start_transfer(j) != 0) {
        slot_free(j);
        retry(wp, j, wp_wall_ms() + backoff_ms(wp, j->msg->attempts + 1));
        job_free(j);
        wp_pump(wp);
    }
}

/* RFC 8030 5.4: at most 32 characters of the base64url alphabet; anything else is hashed. */
void wp_topic(const struct wp_stream *ws, json_object *event, char out[WP_TOPIC_SIZE])
{
    json_object *v;
    const char *text;
    int found = 0;
    size_t len, i;
    bool plain = true;

    out[0] = '\0';
    if (ws->topic == NULL || event == NULL)
        return;
    v = mqp_path_get(ws->topic, event, &found);
    if (!found || v == NULL || json_object_is_type(v, json_type_object) ||
        json_object_is_type(v, json_type_array))
        return;
    text = json_object_get_string(v);
    len = strlen(text);
    for (i = 0; i < len && plain; i++)
        plain = (text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z') ||
                (text[i] >= '0' && text[i] <= '9') || text[i] == '-' || text[i] == '_';
    if (plain && len > 0 && len <= 32) {
        snprintf(out, WP_TOPIC_SIZE, "%s", text);
    } else {
        unsigned char md[32];
        unsigned int mdlen = 0;
        char *b64;

        if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) &&
            (b64 = mqp_b64url_encode(md, mdlen, NULL)) != NULL) {
            snprintf(out, WP_TOPIC_SIZE, "%.32s", b64);
            free(b64);
        }
    }
}

/* The event, or when it does not fit its compact form {id, stream, namespace, name}: a push
 * message is never cut. */
char *wp_compact(const char *body, size_t len, const char *stream, size_t *out_len)
{
    static const char *const keep[] = {"id", "namespace", "name"};
    json_tokener *tok = json_tokener_new_ex(MQP_EVENT_MAX_DEPTH);
    json_object *doc = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL,
                *o = json_object_new_object(), *v;
    char *text = NULL;

    /* string members only: the compact form must stay small whatever the event holds */
    for (size_t i = 0; doc && o && i < 3; i++)
        if (json_object_object_get_ex(doc, keep[i], &v) &&
            json_object_is_type(v, json_type_string) && json_object_get_string_len(v) <= 256)
            json_object_object_add(o, keep[i], json_object_get(v));
    if (o) {
        json_object_object_add(o, "stream", json_object_new_string(stream));
        text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(doc);
    json_object_put(o);
    json_tokener_free(tok);
    if (text)
        *out_len = strlen(text);
    return text;
}

/* The event, or when it does not fit its compact form {id, stream, namespace, name}: a push
 * message is never cut. 0, -1 out of memory, -2 not even the compact form fits. */
static int make_plain(struct wp_job *j, const struct wp_stream *ws)
{
    /* UnifiedPush SERV 1.0.1: a message is 1 to 4000 bytes; encrypted, what one record holds */
    size_t max = j->encrypted ? WEBPUSH_MAX_PLAINTEXT : WP_PLAIN_MAX,
           pad = j->encrypted ? j->wp->set->padding : 0;
    const struct wp_msg *m = j->msg;

    if (m->len <= max && !m->compact) {
        j->plain = malloc(m->len + 1);
        if (j->plain == NULL)
            return -1;
        memcpy(j->plain, m->body, m->len);
        j->plain_len = m->len;
    } else {
        j->plain = wp_compact(m->body, m->len, ws->cfg->stream, &j->plain_len);
        if (j->plain == NULL)
            return -1;
        if (j->plain_len > max)
            return -2;
    }
    /* as much of the configured padding as the record holds (RFC 8291 4) */
    j->pad = pad <= max - j->plain_len ? pad : max - j->plain_len;
    return 0;
}

static void start(struct webpush *wp, struct wp_msg *m, struct wp_sub *s, int64_t now)
{
    struct wp_job *j = calloc(1, sizeof(*j));

    if (j == NULL)
        goto fail;
    j->wp = wp;
    j->msg = m;
    m = NULL;
    j->encrypted = s->has_keys;
    if (j->encrypted && wp->vapid == NULL) {
        /* UnifiedPush's Web Push form with Web Push switched off: nothing can sign it */
        fprintf(stderr, "mqpush-bridge: %s: no VAPID key (webpush is off): %s dropped\n",
                wp->channel, j->msg->event_id);
        finish(wp, j, METRICS_PUSH_REJECTED);
        job_free(j);
        return;
    }
    memcpy(j->p256dh, s->p256dh, sizeof(j->p256dh));
    memcpy(j->auth, s->auth, sizeof(j->auth));
    j->endpoint = strdup(s->endpoint);
    j->origin = strdup(s->origin);
    j->urgency = s->ws->cfg->urgency;
    j->ttl_s = j->msg->expires_ms > now ? (unsigned)((j->msg->expires_ms - now) / 1000) : 0;
    memcpy(j->topic, j->msg->topic, sizeof(j->topic));
    j->now_s = now / 1000;
    if (j->endpoint == NULL || j->origin == NULL)
        goto fail;
    switch (make_plain(j, s->ws)) {
    case 0:
        break;
    case -2:
        fprintf(stderr, "mqpush-bridge: %s: %s does not fit a push message, dropped\n", wp->channel,
                j->msg->event_id);
        finish(wp, j, METRICS_PUSH_REJECTED);
        job_free(j);
        return;
    default:
        goto fail;
    }
    wp->inflight++;
    j->org = origin_get(wp, s->origin);
    if (j->org)
        j->org->inflight++;
    if (!j->encrypted) {
        /* SERV 1.0.1: the event itself is the body, nothing to compute */
        if (start_transfer(j) != 0) {
            slot_free(j);
            goto fail;
        }
        return;
    }
    j->vapid = webpush_vapid_ref(wp->vapid);
    j->work.data = j;
    if (uv_queue_work(wp->b->loop, &j->work, work_encrypt, after_encrypt) != 0) {
        slot_free(j);
        goto fail;
    }
    return;
fail:
    fprintf(stderr, "mqpush-bridge: %s: cannot prepare a message for %s\n", wp->channel,
            s->endpoint);
    if (j && j->msg) {
        retry(wp, j, now + backoff_ms(wp, j->msg->attempts + 1));
    }
    job_free(j);
    wp_msg_free(m);
}

static void on_timer(uv_timer_t *t)
{
    wp_pump(t->data);
}

/* Take the next due message: start it, park it, hold it back or drop it. Returns whether it
 * was started. */
static bool pump_one(struct webpush *wp, struct wp_msg *m, int64_t now)
{
    struct wp_sub *s = wp_sub_find(wp, m->sub_id);
    struct wp_origin *o;

    if (s == NULL) { /* unsubscribed: the store dropped the message with it */
        wp_msg_free(m);
        return false;
    }
    /* TTL 0 (RFC 8030 5.2: now or never) still gets its one attempt */
    if (m->attempts > 0 && now >= m->expires_ms) {
        struct wp_job j = {.msg = m};

        finish(wp, &j, METRICS_PUSH_EXPIRED);
        wp_msg_free(m);
        return false;
    }
    o = origin_get(wp, s->origin);
    if (o && o->inflight >= o->cap) {
        park(wp, o, m); /* back in the queue when one of its requests ends */
        return false;
    }
    o = origin_get(wp, wp_block_key(wp, s));
    if (o && o->blocked_until_ms > now) {
        /* Retry-After holds back the whole push service (RFC 8030 8.4), or for UnifiedPush
         * the one endpoint. */
        m->due_ms = o->blocked_until_ms;
        if (wp_queue_push(wp, m) != 0)
            wp_msg_free(m);
        return false;
    }
    start(wp, m, s, now);
    return true;
}

void wp_pump(struct webpush *wp)
{
    int64_t now = wp_wall_ms();

    if (wp->closing)
        return;
    while (wp->heap_len > 0 && wp->inflight < wp->set->max_inflight && wp->heap[0]->due_ms <= now) {
        struct wp_msg *m = queue_pop(wp);
        struct wp_origin *from = m->parked_at;

        m->parked_at = NULL;
        /* a message let go by a parked origin that did not take the slot passes it on */
        if (!pump_one(wp, m, now) && from)
            unpark_one(wp, from);
    }
    if (wp->timer_open && wp->heap_len > 0 && wp->inflight < wp->set->max_inflight) {
        int64_t wait = wp->heap[0]->due_ms - now;

        uv_timer_start(&wp->timer, on_timer, wait > 0 ? (uint64_t)wait : 1, 0);
    }
}
