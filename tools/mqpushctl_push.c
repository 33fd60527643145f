/*
 * mqpushctl rotate-vapid: ask a running bridge to replace its VAPID key. The bridge does the
 * rotation itself (new key in the store, subscriptions of the old key dropped, the new key
 * announced to connected clients), so the tool only calls its admin endpoint with a service
 * token that holds the role mqpush-admin.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "mqpushctl.h"

static const char rotate_usage[] =
    "usage: mqpushctl rotate-vapid --url BRIDGE_URL (--token TOKEN | --token-file FILE)\n"
    "\n"
    "POST BRIDGE_URL/api/push/vapid/rotate with the service token (role mqpush-admin).\n"
    "Prints the new VAPID public key and exits 0; prints the bridge's answer and exits 1\n"
    "when it refused.\n";

struct reply {
    char buf[4096];
    size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n, room = sizeof(r->buf) - 1 - r->len;

    memcpy(r->buf + r->len, data, len < room ? len : room);
    r->len += len < room ? len : room;
    r->buf[r->len] = '\0';
    return len;
}

/* The first line of path, without its line end. Caller frees. */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        fprintf(stderr, "mqpushctl: %s is empty\n", path);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

int ctl_rotate_vapid(int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"token", required_argument, NULL, 't'},
                                         {"token-file", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *url = NULL, *token_file = NULL;
    char *token = NULL, *full = NULL, *auth = NULL;
    struct curl_slist *hdrs = NULL;
    struct reply r = {.len = 0};
    CURL *easy = NULL;
    long status = 0;
    int c, rc = CTL_FAIL;
    CURLcode res;

    while ((c = getopt_long(argc, argv, "u:t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 't':
            free(token);
            token = strdup(optarg);
            break;
        case 'f':
            token_file = optarg;
            break;
        case 'h':
            fputs(rotate_usage, stdout);
            return CTL_OK;
        default:
            fputs(rotate_usage, stderr);
            return CTL_USAGE;
        }
    }
    if (url == NULL || (token == NULL) == (token_file == NULL) || optind != argc) {
        fputs(rotate_usage, stderr);
        free(token);
        return CTL_USAGE;
    }
    if (token_file && (token = read_token(token_file)) == NULL)
        return CTL_FAIL;
    full = malloc(strlen(url) + 32);
    auth = malloc(strlen(token) + 32);
    easy = curl_easy_init();
    if (full == NULL || auth == NULL || easy == NULL)
        goto out;
    /* "http://host:port" or "http://host:port/" */
    sprintf(full, "%.*s/api/push/vapid/rotate",
            (int)(strlen(url) - (url[0] && url[strlen(url) - 1] == '/')), url);
    sprintf(auth, "Authorization: Bearer %s", token);
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_setopt(easy, CURLOPT_URL, full);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
    res = curl_easy_perform(easy);
    if (res != CURLE_OK) {
        fprintf(stderr, "mqpushctl: %s: %s\n", full, curl_easy_strerror(res));
        goto out;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
        json_object *o = json_tokener_parse(r.buf), *k;

        if (o && json_object_object_get_ex(o, "key", &k)) {
            printf("%s\n", json_object_get_string(k));
            rc = CTL_OK;
        } else {
            fprintf(stderr, "mqpushctl: unexpected answer: %s\n", r.buf);
        }
        json_object_put(o);
    } else {
        fprintf(stderr, "mqpushctl: the bridge answered %ld: %s\n", status, r.buf);
    }
out:
    curl_slist_free_all(hdrs);
    if (easy)
        curl_easy_cleanup(easy);
    if (token)
        memset(token, 0, strlen(token));
    if (auth)
        memset(auth, 0, strlen(auth));
    free(token);
    free(auth);
    free(full);
    return rc;
}
