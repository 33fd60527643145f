/*
 * mqpushctl: operator tool for mqpush. Generates signing keys and their JWKS, mints tokens for
 * tests and demos, and checks a streams file the way the plugin will load it.
 */
#include "mqpushctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include "config.h"
#include "jwk.h"

static const char usage_text[] = "usage: mqpushctl <command> [options]\n"
                                 "\n"
                                 "commands:\n"
                                 "  keygen        create a signing key pair and its JWKS\n"
                                 "  jwks          print the public JWKS of a private key\n"
                                 "  token         mint a signed JWT\n"
                                 "  check-config  validate a streams file\n"
                                 "  rotate-vapid  have a running bridge replace its VAPID key\n"
                                 "\n"
                                 "Run 'mqpushctl <command> --help' for the options of a command.\n";

static const char check_config_usage[] =
    "usage: mqpushctl check-config FILE\n"
    "\n"
    "Load the streams file FILE as the plugin would. Prints 'ok: <n> tenants, <m> streams'\n"
    "and exits 0 when it is valid; otherwise prints every error as '<json path>: <message>'\n"
    "to stderr and exits 1.\n";

EVP_PKEY *ctl_load_private_key(const char *path)
{
    BIO *in = BIO_new_file(path, "r");
    EVP_PKEY *key = NULL;

    if (in == NULL) {
        fprintf(stderr, "mqpushctl: cannot open %s: %s\n", path, strerror(errno));
        goto out;
    }
    key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    if (key == NULL)
        fprintf(stderr, "mqpushctl: %s holds no readable PEM private key\n", path);
out:
    ERR_clear_error();
    BIO_free(in);
    return key;
}

json_object *ctl_jwks_document(EVP_PKEY *key, const char *kid)
{
    json_object *jwk = mqp_jwk_from_pkey(key), *keys = NULL, *doc = NULL, *result = NULL;

    if (jwk == NULL)
        goto out;
    if (kid != NULL && json_object_object_add(jwk, "kid", json_object_new_string(kid)) != 0)
        goto out;
    keys = json_object_new_array();
    doc = json_object_new_object();
    if (keys == NULL || doc == NULL || json_object_array_add(keys, jwk) != 0)
        goto out;
    jwk = NULL;
    if (json_object_object_add(doc, "keys", keys) != 0)
        goto out;
    keys = NULL;
    result = doc;
    doc = NULL;
out:
    json_object_put(jwk);
    json_object_put(keys);
    json_object_put(doc);
    return result;
}

int ctl_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
    int rc = -1, fd = -1, closed;
    size_t path_len = strlen(path), done = 0;
    char *tmp = malloc(path_len + sizeof(".XXXXXX"));

    if (tmp == NULL) {
        fprintf(stderr, "mqpushctl: out of memory\n");
        goto out;
    }
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".XXXXXX", sizeof(".XXXXXX"));
    /* mkstemp creates the file with mode 0600, so a private key is never readable by others. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "mqpushctl: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "mqpushctl: cannot write %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
        fprintf(stderr, "mqpushctl: cannot finish %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    closed = close(fd);
    fd = -1;
    if (closed != 0) {
        fprintf(stderr, "mqpushctl: cannot close %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "mqpushctl: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp != NULL)
        unlink(tmp);
    free(tmp);
    return rc;
}

int ctl_parse_int64(const char *text, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (text == NULL || *text == '\0')
        return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int ctl_check_config(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};
    size_t streams = 0;
    int opt, rc = CTL_USAGE;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(check_config_usage, stdout);
            return CTL_OK;
        }
        fputs(check_config_usage, stderr);
        return CTL_USAGE;
    }
    if (argc - optind != 1) {
        fputs(check_config_usage, stderr);
        return CTL_USAGE;
    }
    rc = CTL_FAIL;
    if (mqp_config_load_file(argv[optind], &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        if (errs.n == 0)
            fprintf(stderr, "%s: cannot be loaded\n", argv[optind]);
        goto out;
    }
    for (size_t i = 0; i < cfg->n_tenants; i++)
        streams += cfg->tenants[i].n_streams;
    printf("ok: %zu tenants, %zu streams\n", cfg->n_tenants, streams);
    rc = CTL_OK;
out:
    mqp_errors_clear(&errs);
    mqp_config_free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        {"keygen", ctl_keygen}, {"rotate-vapid", ctl_rotate_vapid}, {"jwks", ctl_jwks},
        {"token", ctl_token},   {"check-config", ctl_check_config},
    };

    if (argc < 2) {
        fputs(usage_text, stderr);
        return CTL_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return CTL_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mqpushctl %s\n", MQP_VERSION);
        return CTL_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "mqpushctl: unknown command '%s'\n\n%s", argv[1], usage_text);
    return CTL_USAGE;
}
