/*
 * mqpushctl keygen and jwks: signing keys for issuers, and the JWKS the streams file names.
 */
#include "mqpushctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#define RSA_DEFAULT_BITS 2048
#define RSA_MIN_BITS 2048 /* core/jwk.c refuses smaller keys */
#define RSA_MAX_BITS 8192

static const char keygen_usage[] =
    "usage: mqpushctl keygen --type ec|rsa|ed25519 --key OUT.pem --jwks OUT.json\n"
    "                        [--kid KID] [--bits N]\n"
    "\n"
    "Create a signing key pair. The private key is written as PEM (PKCS#8) with mode 0600,\n"
    "the public key as a JWKS {\"keys\":[...]}. The kid is the RFC 7638 thumbprint of the\n"
    "key unless --kid is given; it is printed on stdout.\n"
    "\n"
    "  --type T     ec (P-256, ES256), rsa (RS256) or ed25519 (EdDSA)\n"
    "  --bits N     RSA modulus size, 2048 to 8192 (default 2048)\n";

static const char jwks_usage[] =
    "usage: mqpushctl jwks --key KEY.pem [--kid KID]\n"
    "\n"
    "Print the public JWKS {\"keys\":[...]} of a PEM private key. The kid is the RFC 7638\n"
    "thumbprint of the key unless --kid is given.\n";

static int usage_error(const char *usage)
{
    fputs(usage, stderr);
    return CTL_USAGE;
}

static EVP_PKEY *generate(const char *type, long long bits)
{
    EVP_PKEY *key = NULL;

    if (strcmp(type, "ec") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(type, "rsa") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    else if (strcmp(type, "ed25519") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL)
        fprintf(stderr, "mqpushctl: key generation failed\n");
    ERR_clear_error();
    return key;
}

static int write_private_key(const char *path, EVP_PKEY *key)
{
    int rc = -1;
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    if (mem == NULL || PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) != 1) {
        fprintf(stderr, "mqpushctl: cannot encode the private key\n");
        goto out;
    }
    len = BIO_get_mem_data(mem, &data);
    if (len <= 0)
        goto out;
    rc = ctl_write_file(path, data, (size_t)len, 0600);
    OPENSSL_cleanse(data, (size_t)len);
out:
    ERR_clear_error();
    BIO_free(mem);
    return rc;
}

static int write_jwks(const char *path, json_object *doc)
{
    const char *text = json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = -1;
    size_t len;
    char *copy = NULL;

    if (text == NULL)
        goto out;
    len = strlen(text);
    copy = malloc(len + 2);
    if (copy == NULL)
        goto out;
    memcpy(copy, text, len);
    copy[len] = '\n';
    rc = ctl_write_file(path, copy, len + 1, 0644);
out:
    free(copy);
    return rc;
}

/* The kid the JWKS ended up with (borrowed from doc). */
static const char *jwks_kid(json_object *doc)
{
    json_object *keys, *kid;

    if (!json_object_object_get_ex(doc, "keys", &keys) ||
        !json_object_object_get_ex(json_object_array_get_idx(keys, 0), "kid", &kid))
        return "";
    return json_object_get_string(kid);
}

int ctl_keygen(int argc, char **argv)
{
    static const struct option options[] = {{"type", required_argument, NULL, 't'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"jwks", required_argument, NULL, 'j'},
                                            {"kid", required_argument, NULL, 'i'},
                                            {"bits", required_argument, NULL, 'b'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *type = NULL, *key_path = NULL, *jwks_path = NULL, *kid = NULL, *bits_arg = NULL;
    long long bits = RSA_DEFAULT_BITS;
    EVP_PKEY *key = NULL;
    json_object *doc = NULL;
    int opt, rc = CTL_FAIL;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 't':
            type = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'j':
            jwks_path = optarg;
            break;
        case 'i':
            kid = optarg;
            break;
        case 'b':
            bits_arg = optarg;
            break;
        case 'h':
            fputs(keygen_usage, stdout);
            return CTL_OK;
        default:
            return usage_error(keygen_usage);
        }
    }
    if (optind != argc || type == NULL || key_path == NULL || jwks_path == NULL)
        return usage_error(keygen_usage);
    if (strcmp(type, "ec") != 0 && strcmp(type, "rsa") != 0 && strcmp(type, "ed25519") != 0) {
        fprintf(stderr, "mqpushctl: --type must be ec, rsa or ed25519\n");
        return usage_error(keygen_usage);
    }
    if (bits_arg != NULL && (strcmp(type, "rsa") != 0 ||
                             ctl_parse_int64(bits_arg, RSA_MIN_BITS, RSA_MAX_BITS, &bits) != 0)) {
        fprintf(stderr, "mqpushctl: --bits takes %d to %d, with --type rsa only\n", RSA_MIN_BITS,
                RSA_MAX_BITS);
        return usage_error(keygen_usage);
    }
    if (kid != NULL && *kid == '\0') {
        fprintf(stderr, "mqpushctl: --kid must not be empty\n");
        return usage_error(keygen_usage);
    }
    key = generate(type, bits);
    if (key == NULL)
        goto out;
    doc = ctl_jwks_document(key, kid);
    if (doc == NULL) {
        fprintf(stderr, "mqpushctl: cannot build the JWKS\n");
        goto out;
    }
    if (write_private_key(key_path, key) != 0 || write_jwks(jwks_path, doc) != 0)
        goto out;
    printf("%s\n", jwks_kid(doc));
    rc = CTL_OK;
out:
    json_object_put(doc);
    EVP_PKEY_free(key);
    return rc;
}

int ctl_jwks(int argc, char **argv)
{
    static const struct option options[] = {{"key", required_argument, NULL, 'k'},
                                            {"kid", required_argument, NULL, 'i'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *kid = NULL;
    EVP_PKEY *key = NULL;
    json_object *doc = NULL;
    int opt, rc = CTL_FAIL;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'k':
            key_path = optarg;
            break;
        case 'i':
            kid = optarg;
            break;
        case 'h':
            fputs(jwks_usage, stdout);
            return CTL_OK;
        default:
            return usage_error(jwks_usage);
        }
    }
    if (optind != argc || key_path == NULL || (kid != NULL && *kid == '\0'))
        return usage_error(jwks_usage);
    key = ctl_load_private_key(key_path);
    if (key == NULL)
        goto out;
    doc = ctl_jwks_document(key, kid);
    if (doc == NULL) {
        fprintf(stderr, "mqpushctl: %s: key type not supported (use EC P-256, RSA, Ed25519)\n",
                key_path);
        goto out;
    }
    printf("%s\n",
           json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    rc = CTL_OK;
out:
    json_object_put(doc);
    EVP_PKEY_free(key);
    return rc;
}
