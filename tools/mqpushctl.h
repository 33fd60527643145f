/*
 * mqpushctl internals: one function per subcommand, and the helpers they share.
 * Subcommands get argv with their own name in argv[0] and return the process exit code.
 */
#ifndef MQPUSHCTL_H
#define MQPUSHCTL_H

#include <stddef.h>
#include <json-c/json.h>
#include <openssl/evp.h>

enum ctl_exit {
    CTL_OK = 0,
    CTL_FAIL = 1,  /* the command was understood but did not succeed */
    CTL_USAGE = 2, /* bad options or arguments */
};

int ctl_keygen(int argc, char **argv);
int ctl_jwks(int argc, char **argv);
int ctl_token(int argc, char **argv);
int ctl_check_config(int argc, char **argv);
int ctl_rotate_vapid(int argc, char **argv);

/* Read a PEM private key. Returns the key (caller frees with EVP_PKEY_free()) or NULL after
 * printing why to stderr. */
EVP_PKEY *ctl_load_private_key(const char *path);

/* {"keys":[<public JWK of key>]}, with "kid" replaced by kid when not NULL. Caller frees with
 * json_object_put(). NULL when out of memory or the key type is not supported. */
json_object *ctl_jwks_document(EVP_PKEY *key, const char *kid);

/* Write len bytes to path through a temporary file in the same directory, created with mode,
 * then renamed over path, so readers never see a half-written file. 0, or -1 after printing
 * why to stderr. */
int ctl_write_file(const char *path, const void *data, size_t len, unsigned mode);

/* Parse a whole decimal integer in [min, max]. 0, or -1 when text is anything else. */
int ctl_parse_int64(const char *text, long long min, long long max, long long *out);

#endif
