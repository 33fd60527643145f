/*
 * mqpush-bridge: carries stream events from Mosquitto to HTTP clients (Server-Sent Events,
 * WebSocket, polling). Usage: mqpush-bridge -c bridge.json [--check-config].
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <curl/curl.h>
#include "bridge.h"
#include "config.h"
#include "core/config.h"
#include "lifecycle.h"
#include "stream.h"

#ifndef MQP_VERSION
#define MQP_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "Usage: mqpush-bridge -c <bridge.json> [--check-config]\n"
               "       mqpush-bridge --version | --help\n"
               "\n"
               "  -c, --config FILE   the bridge configuration (schemas/bridge.schema.json)\n"
               "      --check-config  validate FILE and the streams file it names, then exit\n"
               "  -V, --version       print the version\n"
               "  -h, --help          this text\n"
               "\n"
               "Signals: SIGHUP reloads the streams file; SIGTERM stops cleanly.\n");
}

static int load(const char *path, struct bridge_config **cfg)
{
    struct mqp_errors errs = {0};
    size_t i;

    if (bridge_config_load(path, cfg, &errs) == 0) {
        mqp_errors_clear(&errs);
        return 0;
    }
    fprintf(stderr, "mqpush-bridge: %s: invalid configuration\n", path);
    for (i = 0; i < errs.n; i++)
        fprintf(stderr, "mqpush-bridge: %s\n", errs.msgs[i]);
    mqp_errors_clear(&errs);
    return -1;
}

static int check_streams(const struct bridge_config *cfg)
{
    struct mqp_errors errs = {0};
    struct mqp_config *streams = NULL;
    size_t i;
    int rc = 0;

    if (mqp_config_load_file(cfg->streams_file, &streams, &errs) != 0) {
        fprintf(stderr, "mqpush-bridge: %s: invalid streams file\n", cfg->streams_file);
        for (i = 0; i < errs.n; i++)
            fprintf(stderr, "mqpush-bridge: %s\n", errs.msgs[i]);
        rc = -1;
    }
    mqp_errors_clear(&errs);
    mqp_config_free(streams);
    return rc;
}

/* Each client stream holds a descriptor: allow as many as the configuration admits. */
static void raise_fd_limit(size_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want <= rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "mqpush-bridge: cannot raise the descriptor limit: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check-config", no_argument, NULL, 'k'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    struct bridge_config *cfg = NULL;
    struct bridge b;
    uv_loop_t loop;
    int check = 0, c, rc = 1;

    while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'k':
            check = 1;
            break;
        case 'V':
            printf("mqpush-bridge %s\n", MQP_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (load(path, &cfg) != 0)
        return 1;
    if (check) {
        rc = check_streams(cfg) == 0 ? 0 : 1;
        if (rc == 0)
            printf("%s: ok\n", path);
        bridge_config_free(cfg);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(cfg->limits.max_connections + 256);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (uv_loop_init(&loop) != 0)
        goto out;
    if (bridge_start(&b, &loop, cfg) != 0) {
        bridge_config_free(cfg);
        uv_run(&loop, UV_RUN_NOWAIT);
        uv_loop_close(&loop);
        goto out;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    bridge_cleanup(&b);
    /* Let the close callbacks of the last handles run. */
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop) == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "mqpush-bridge: handles left open at exit\n");
out:
    curl_global_cleanup();
    /* Join libuv's thread pool now: its threads encrypt and sign with OpenSSL, whose per-thread
     * state (error queue, DRBGs) is freed when a thread ends. Left to libuv's own destructor,
     * the threads ended after OpenSSL's atexit cleanup had dropped that state's key, and the
     * state leaked (valgrind: "definitely lost" under EVP_RAND_CTX_new and ERR_set_mark). */
    uv_library_shutdown();
    return rc;
}
