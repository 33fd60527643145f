/*
 * libcurl's multi-socket API on the bridge's libuv loop, for every outgoing HTTP request the
 * bridge makes (SET push, Web Push, UnifiedPush): curl tells which sockets to watch and when
 * to time out, libuv watches them, nothing blocks the loop. One transfer = one easy handle
 * prepared by the caller (URL, method, body, headers, SSRF guard options) and handed over.
 */
#ifndef BRIDGE_NET_CURL_LOOP_H
#define BRIDGE_NET_CURL_LOOP_H

#include <curl/curl.h>
#include <uv.h>

struct curl_loop;

/* A transfer ended: result is curl's (CURLE_OK for any HTTP status; read the status with
 * curl_easy_getinfo). The easy handle still belongs to the caller, who cleans it up. */
typedef void (*curl_loop_done_fn)(void *ud, CURL *easy, CURLcode result);

/* Returns 0 and *out (free with curl_loop_close()), or -1. curl_global_init() is the caller's. */
int curl_loop_new(uv_loop_t *loop, struct curl_loop **out);

/*
 * Start easy (borrowed until done is called). Returns 0, or -1 when curl refuses it (then done
 * is not called).
 */
int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn done, void *ud);

/* Transfers in flight, for /metrics and tests. */
int curl_loop_running(const struct curl_loop *cl);

/* The first CURL_LOOP_KEEP bytes of a response body, for logs: CURLOPT_WRITEFUNCTION
 * curl_loop_keep_body with CURLOPT_WRITEDATA a struct curl_loop_body (the rest is read and
 * dropped). A body longer than CURL_LOOP_BODY_MAX ends the transfer with CURLE_WRITE_ERROR
 * and sets cut: the status is in by then, and a peer streaming an endless body must not keep
 * the loop reading it until the timeout; callers take such a transfer as answered. */
#define CURL_LOOP_KEEP 512
#define CURL_LOOP_BODY_MAX (64 * 1024)
struct curl_loop_body {
    char text[CURL_LOOP_KEEP + 1]; /* NUL-terminated */
    size_t len;
    size_t seen; /* body bytes read so far */
    int cut;     /* the body went past CURL_LOOP_BODY_MAX and was not read to its end */
};
size_t curl_loop_keep_body(char *data, size_t size, size_t n, void *body);

/* Append the header line "<name><value>" to *list. 0, or -1 (over 2 KiB, out of memory). */
int curl_loop_header(struct curl_slist **list, const char *name, const char *value);

/* Abort what is in flight (done is called with CURLE_ABORTED_BY_CALLBACK), close the handles,
 * and free cl once the loop has run their close callbacks. Accepts NULL. */
void curl_loop_close(struct curl_loop *cl);

#endif
