/*
 * The discovery request: a GET with a short timeout whose answer is read up to 1 KiB (the
 * document is 28 bytes) and compared as JSON, so that white space and member order do not
 * matter but any other member or value does.
 */
#include "webpush/discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "config_int.h"
#include "criteria.h"
#include "net/curl_loop.h"
#include "net/guard.h"

#define BODY_MAX 1024

struct discovery {
    wp_discover_fn done;
    void *ud;
    CURL *easy;
    struct guard_pin pin;
    char body[BODY_MAX + 1];
    size_t len;
    bool too_long;
};

bool wp_discovery_body_ok(const char *body, size_t len)
{
    char err[128];
    json_object *got = bridge_config__parse_json(body, len, err, sizeof(err)),
                *want = json_tokener_parse("{\"unifiedpush\":{\"version\":1}}");
    bool ok = got && want && mqp_json_equal(got, want);

    json_object_put(got);
    json_object_put(want);
    return ok;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
    struct discovery *d = ud;
    size_t len = size * n;

    if (d->len + len > BODY_MAX) {
        d->too_long = true;
        return 0; /* ends the transfer */
    }
    memcpy(d->body + d->len, data, len);
    d->len += len;
    return len;
}

static void on_done(void *ud, CURL *easy, CURLcode result)
{
    struct discovery *d = ud;
    long status = 0;
    char why[200];

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (d->too_long)
        snprintf(why, sizeof(why), "the endpoint's discovery answer is over %d bytes", BODY_MAX);
    else if (result == CURLE_COULDNT_CONNECT && guard_refusal(&d->pin))
        guard_refusal_text(&d->pin, why, sizeof(why));
    else if (result != CURLE_OK)
        snprintf(why, sizeof(why), "discovery GET failed: %s", curl_easy_strerror(result));
    else if (status < 200 || status > 299)
        snprintf(why, sizeof(why), "discovery GET answered %ld", status);
    else if (!wp_discovery_body_ok(d->body, d->len))
        snprintf(why, sizeof(why),
                 "the endpoint did not answer {\"unifiedpush\":{\"version\":1}}: not a "
                 "UnifiedPush endpoint");
    else
        why[0] = '\0';
    d->done(d->ud, why[0] == '\0', why);
    curl_easy_cleanup(d->easy);
    free(d);
}

int wp_discover(struct bridge *b, const char *url, wp_discover_fn done, void *ud)
{
    struct discovery *d = calloc(1, sizeof(*d));

    if (d == NULL || (d->easy = curl_easy_init()) == NULL)
        goto fail;
    d->done = done;
    d->ud = ud;
    if (guard_apply(b->guard, d->easy, &d->pin) != 0)
        goto fail;
    curl_easy_setopt(d->easy, CURLOPT_URL, url);
    curl_easy_setopt(d->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "mqpush-bridge");
    if (curl_loop_add(b->curl, d->easy, on_done, d) != 0)
        goto fail;
    return 0;
fail:
    if (d && d->easy)
        curl_easy_cleanup(d->easy);
    free(d);
    return -1;
}
