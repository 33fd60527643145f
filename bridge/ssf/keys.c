/*
 * The transmitters' signing keys: a JWKS file read at start and on SIGHUP, or a jwks_uri
 * (SSF 1.0 section 4.1.4) fetched through curl multi and the SSRF guard at start, every
 * jwks_refresh_s (so that a key the transmitter withdrew stops verifying), on SIGHUP, and when
 * a SET names a key not in the set (a rotation), such fetches at most once per
 * SSF_KEYS_REFETCH_MS so that made-up kids cannot make the bridge hammer the transmitter. A
 * failed fetch keeps the keys the set had.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "net/curl_loop.h"
#include "net/guard.h"
#include "ssf/receiver_int.h"

/* As for a JWKS file (core/jwk.c). */
#define JWKS_MAX_BYTES (1024 * 1024)
#define JWKS_MAX_DEPTH 32

struct ssf_fetch {
    struct ssf_receiver *rx;
    struct ssf_tx *tx;
    CURL *easy;
    struct guard_pin pin; /* must stay put while the transfer runs (net/guard.h) */
    char *buf;
    size_t len;
    bool too_big;
};

__attribute__((format(printf, 2, 3))) static void log_tx(const struct ssf_tx *tx, const char *fmt,
                                                         ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "mqpush-bridge: ssf: transmitter %s of tenant %s: ", tx->cfg->issuer,
            tx->cfg->tenant);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ssf__keys_load_file(struct ssf_tx *tx)
{
    struct mqp_jwks *jwks = NULL;
    char err[320];

    if (mqp_jwks_load_file(tx->cfg->jwks_file, &jwks, err, sizeof(err)) != 0) {
        log_tx(tx, "%s", err);
        return -1;
    }
    if (mqp_jwks_count(jwks) == 0) {
        log_tx(tx, "%s holds no usable key", tx->cfg->jwks_file);
        mqp_jwks_free(jwks);
        return -1;
    }
    mqp_jwks_free(tx->jwks);
    tx->jwks = jwks;
    return 0;
}

static void fetch_free(struct ssf_fetch *f)
{
    if (f == NULL)
        return;
    if (f->easy)
        curl_easy_cleanup(f->easy);
    free(f->buf);
    free(f);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct ssf_fetch *f = ud;
    size_t len = size * n;
    char *b;

    if (f->len + len > JWKS_MAX_BYTES) {
        f->too_big = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    b = realloc(f->buf, f->len + len + 1);
    if (b == NULL)
        return 0;
    memcpy(b + f->len, data, len);
    f->buf = b;
    f->len += len;
    f->buf[f->len] = '\0';
    return len;
}

/* The body as a key set: strict JSON (RFC 8259, UTF-8, nothing after it), at least one key. */
static struct mqp_jwks *parse_keys(const struct ssf_fetch *f, char *err, size_t errlen)
{
    json_tokener *tok = json_tokener_new_ex(JWKS_MAX_DEPTH);
    json_object *doc = NULL;
    struct mqp_jwks *jwks = NULL;

    if (tok == NULL || f->buf == NULL) {
        snprintf(err, errlen, f->buf ? "out of memory" : "empty body");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    doc = json_tokener_parse_ex(tok, f->buf, (int)f->len);
    if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != f->len) {
        snprintf(err, errlen, "the body is not a JSON document");
        goto out;
    }
    if (mqp_jwks_parse(doc, &jwks, err, errlen) != 0)
        goto out;
    if (mqp_jwks_count(jwks) == 0) {
        snprintf(err, errlen, "the key set holds no usable key");
        mqp_jwks_free(jwks);
        jwks = NULL;
    }
out:
    json_object_put(doc);
    if (tok)
        json_tokener_free(tok);
    return jwks;
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    struct ssf_fetch *f = ud;
    struct ssf_tx *tx = f->tx;
    struct mqp_jwks *jwks;
    long status = 0;
    char why[200];

    tx->fetch = NULL;
    if (result == CURLE_ABORTED_BY_CALLBACK || f->rx->closing)
        goto out;
    if (result != CURLE_OK) {
        log_tx(tx, "fetching %.200s failed: %s%s%s", tx->cfg->jwks_uri,
               f->too_big ? "over 1 MiB" : curl_easy_strerror(result),
               guard_refusal(&f->pin) ? "; " : "", guard_refusal_text(&f->pin, why, sizeof(why)));
        goto out;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        log_tx(tx, "%.200s answered %ld", tx->cfg->jwks_uri, status);
        goto out;
    }
    jwks = parse_keys(f, why, sizeof(why));
    if (jwks == NULL) {
        log_tx(tx, "%.200s: %s", tx->cfg->jwks_uri, why);
        goto out;
    }
    mqp_jwks_free(tx->jwks);
    tx->jwks = jwks;
out:
    fetch_free(f);
}

void ssf__keys_fetch(struct ssf_receiver *rx, struct ssf_tx *tx)
{
    struct ssf_fetch *f;

    if (tx->cfg->jwks_uri == NULL || tx->fetch != NULL || rx->closing)
        return;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        goto fail;
    f->rx = rx;
    f->tx = tx;
    f->easy = curl_easy_init();
    if (f->easy == NULL || guard_apply(rx->b->guard, f->easy, &f->pin) != 0)
        goto fail;
    curl_easy_setopt(f->easy, CURLOPT_URL, tx->cfg->jwks_uri);
    curl_easy_setopt(f->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "mqpush-bridge");
    if (curl_loop_add(rx->b->curl, f->easy, on_done, f) != 0)
        goto fail;
    tx->fetch = f;
    return;
fail:
    log_tx(tx, "%s", "cannot start fetching the key set");
    fetch_free(f);
}

bool ssf__keys_stale(struct ssf_receiver *rx, struct ssf_tx *tx)
{
    uint64_t now = bridge_now_ms(rx->b);

    if (tx->cfg->jwks_uri == NULL)
        return false;
    if (tx->fetch == NULL && (tx->stale_ms == 0 || now - tx->stale_ms >= SSF_KEYS_REFETCH_MS)) {
        tx->stale_ms = now > 0 ? now : 1; /* 0 means never */
        ssf__keys_fetch(rx, tx);
    }
    return tx->fetch != NULL;
}

static void on_refresh(uv_timer_t *t)
{
    struct ssf_receiver *rx = t->data;

    for (size_t i = 0; i < rx->n_tx; i++)
        ssf__keys_fetch(rx, &rx->tx[i]);
}

int ssf__keys_start(struct ssf_receiver *rx)
{
    uint64_t period = (uint64_t)rx->b->cfg->ssf.jwks_refresh_s * 1000;
    struct guard_url u;
    char err[256];

    for (size_t i = 0; i < rx->n_tx; i++) {
        struct ssf_tx *tx = &rx->tx[i];

        if (tx->cfg->jwks_uri == NULL)
            continue;
        /* The guard's rules for a URL, now rather than at every fetch: https, or plain http
         * inside outbound.allow; never an internal address by literal. */
        if (guard_check_url(rx->b->guard, tx->cfg->jwks_uri, &u, err, sizeof(err)) != 0) {
            log_tx(tx, "jwks_uri refused: %s", err);
            return -1;
        }
        ssf__keys_fetch(rx, tx);
    }
    rx->refresh = malloc(sizeof(*rx->refresh));
    if (rx->refresh == NULL)
        return -1;
    uv_timer_init(rx->b->loop, rx->refresh);
    rx->refresh->data = rx;
    uv_timer_start(rx->refresh, on_refresh, period, period);
    return 0;
}

void ssf__keys_free(struct ssf_receiver *rx)
{
    for (size_t i = 0; i < rx->n_tx; i++) {
        mqp_jwks_free(rx->tx[i].jwks);
        rx->tx[i].jwks = NULL;
    }
}
