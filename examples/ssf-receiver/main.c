/*
 * mqpush-ssf-receiver: a small Shared Signals receiver built on the bridge's SET checks
 * (bridge/ssf/set.c) and core's JWKS reader. It takes RFC 8935 pushes from one transmitter,
 * answers 202 or 400 {"err", "description"}, and prints each accepted SET as a JSON line.
 *
 * Usage: mqpush-ssf-receiver --listen 127.0.0.1:PORT --issuer ISS --audience AUD --jwks FILE
 *
 * libwebsockets runs on a libuv loop (a foreign loop, as in the bridge's http/server.c); every
 * POST, whatever its path, is a push. SIGINT or SIGTERM stops it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include <uv.h>

#include "receive.h"
#include "ssf/set.h"

struct receiver {
    uv_loop_t loop;
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
    struct rx_config cfg;
    uv_signal_t sig_int, sig_term;
};

/* One request (lws's per-session data, zeroed by lws for each connection). */
struct request {
    char *body; /* malloc()ed, at most SSF_SET_MAX_BYTES */
    size_t len;
    int too_large, not_post;
    char content_type[128], accept_language[256];
    int has_ct, has_al;
    struct rx_answer ans;
};

static void request_reset(struct request *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static int on_http(struct lws *wsi, struct request *r)
{
    request_reset(r);
    r->not_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0;
    r->has_ct = lws_hdr_copy(wsi, r->content_type, sizeof(r->content_type),
                             WSI_TOKEN_HTTP_CONTENT_TYPE) > 0;
    r->has_al = lws_hdr_copy(wsi, r->accept_language, sizeof(r->accept_language),
                             WSI_TOKEN_HTTP_ACCEPT_LANGUAGE) > 0;
    if (r->not_post) {
        /* no body follows: answer now (405, RFC 9110 15.5.6) */
        r->ans.status = 405;
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int on_body(struct request *r, const void *in, size_t len)
{
    char *grown;

    if (r->too_large || r->len + len > SSF_SET_MAX_BYTES) {
        r->too_large = 1; /* read on, answer at the end */
        return 0;
    }
    grown = realloc(r->body, r->len + len + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + r->len, in, len);
    r->body = grown;
    r->len += len;
    r->body[r->len] = '\0';
    return 0;
}

static void on_body_done(struct receiver *rc, struct lws *wsi, struct request *r)
{
    if (r->too_large) {
        r->ans.status = 413;
    } else {
        rx_receive(&rc->cfg, r->has_ct ? r->content_type : NULL,
                   r->has_al ? r->accept_language : NULL, r->body ? r->body : "", r->len, &r->ans);
    }
    lws_callback_on_writable(wsi);
}

/* The answer, headers and body in one write, as lws wants it in HTTP_WRITEABLE. */
static int write_answer(struct lws *wsi, struct request *r)
{
    unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof(buf) - 1;
    size_t n = strlen(r->ans.body);

    if (r->ans.status == 0)
        return 0; /* not ready: the body is still coming */
    if (lws_add_http_common_headers(wsi, r->ans.status, n ? "application/json" : NULL,
                                    (lws_filepos_t)n, &p, end) ||
        (r->ans.language &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"content-language:",
                                     (const unsigned char *)r->ans.language,
                                     (int)strlen(r->ans.language), &p, end)) ||
        lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < n)
        return -1;
    memcpy(p, r->ans.body, n);
    p += n;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) != (int)(p - start))
        return -1;
    request_reset(r);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct request *r = user;
    struct receiver *rc = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, r);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(r, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        on_body_done(rc, wsi, r);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_answer(wsi, r);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r)
            request_reset(r);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int listen_on(struct receiver *rc, const char *host, int port)
{
    struct lws_context_creation_info info;
    void *loops[1] = {&rc->loop};

    rc->protocols[0].name = "mqpush-ssf-receiver";
    rc->protocols[0].callback = callback;
    rc->protocols[0].per_session_data_size = sizeof(struct request);
    rc->protocols[0].rx_buffer_size = 4096;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = loops;
    info.port = port;
    info.iface = host;
    info.protocols = rc->protocols;
    info.user = rc;
    info.pcontext = &rc->ctx;
    info.timeout_secs = 10;
    info.keepalive_timeout = 30;
    info.count_threads = 1;
    lws_set_log_level(LLL_ERR, NULL);
    rc->ctx = lws_create_context(&info);
    return rc->ctx ? 0 : -1;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct receiver *rc = h->data;

    (void)signum;
    uv_signal_stop(&rc->sig_int);
    uv_signal_stop(&rc->sig_term);
    uv_close((uv_handle_t *)&rc->sig_int, NULL);
    uv_close((uv_handle_t *)&rc->sig_term, NULL);
    lws_context_destroy(rc->ctx);
}

/* "HOST:PORT" into host (cap bytes) and *port. Returns 0 or -1. */
static int split_listen(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    long p;

    if (colon == NULL || colon == s || (size_t)(colon - s) >= cap)
        return -1;
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: mqpush-ssf-receiver --listen HOST:PORT --issuer ISS --audience AUD "
               "--jwks FILE\n"
               "Takes RFC 8935 SET pushes from one transmitter (issuer ISS, keys in the JWKS\n"
               "FILE), answers 202 or 400 {\"err\", \"description\"}, and prints each accepted\n"
               "SET as a JSON line on stdout.\n");
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"listen", required_argument, NULL, 'l'},   {"issuer", required_argument, NULL, 'i'},
        {"audience", required_argument, NULL, 'a'}, {"jwks", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    static struct receiver rc; /* lws and the loop point into it until the very end */
    const char *listen = NULL, *jwks_path = NULL;
    struct mqp_jwks *jwks = NULL;
    char host[256], err[256];
    int port = 0, c, rcode = 1, tries;

    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'i':
            rc.cfg.issuer = optarg;
            break;
        case 'a':
            rc.cfg.audience = optarg;
            break;
        case 'j':
            jwks_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !listen || !rc.cfg.issuer || !rc.cfg.audience || !jwks_path ||
        split_listen(listen, host, sizeof(host), &port) != 0) {
        usage(stderr);
        return 2;
    }
    if (mqp_jwks_load_file(jwks_path, &jwks, err, sizeof(err)) != 0) {
        fprintf(stderr, "mqpush-ssf-receiver: %s: %s\n", jwks_path, err);
        return 1;
    }
    rc.cfg.jwks = jwks;
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&rc.loop) != 0)
        goto out;
    if (listen_on(&rc, host, port) != 0) {
        fprintf(stderr, "mqpush-ssf-receiver: cannot listen on %s:%d\n", host, port);
        goto out;
    }
    uv_signal_init(&rc.loop, &rc.sig_int);
    uv_signal_init(&rc.loop, &rc.sig_term);
    rc.sig_int.data = rc.sig_term.data = &rc;
    uv_signal_start(&rc.sig_int, on_signal, SIGINT);
    uv_signal_start(&rc.sig_term, on_signal, SIGTERM);
    fprintf(stderr, "mqpush-ssf-receiver: listening on %s:%d for SETs of %s (%zu keys)\n", host,
            port, rc.cfg.issuer, mqp_jwks_count(jwks));
    uv_run(&rc.loop, UV_RUN_DEFAULT);
    rcode = 0;
out:
    /* On a foreign loop lws finishes its takedown in steps, each once the loop has run the
     * close callbacks of the last; it clears rc.ctx (info.pcontext) when it is done. */
    for (tries = 0; rc.ctx && tries < 4; tries++) {
        lws_context_destroy(rc.ctx);
        uv_run(&rc.loop, UV_RUN_NOWAIT);
    }
    uv_run(&rc.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&rc.loop) != 0) {
        fprintf(stderr, "mqpush-ssf-receiver: handles left open at exit\n");
        rcode = 1;
    }
    mqp_jwks_free(jwks);
    return rcode;
}
