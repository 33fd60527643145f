/*
 * libFuzzer target for the token parsers: compact JWS decoding (and, when that succeeds,
 * signature verification with a fixed key of the algorithm the header names), base64url
 * decoding and the JWT shape check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "b64url.h"
#include "jwk.h"
#include "jwt.h"
#include "token.h"

#define FUZZ_MAX_TOKEN 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One key per algorithm, made once; never freed (the process ends with the fuzzer). */
static EVP_PKEY *fixed_key(enum mqp_jws_alg alg)
{
    static EVP_PKEY *rsa, *ec, *ed;

    switch (alg) {
    case MQP_ALG_RS256:
        if (rsa == NULL)
            rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        return rsa;
    case MQP_ALG_ES256:
        if (ec == NULL)
            ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        return ec;
    case MQP_ALG_EDDSA:
        if (ed == NULL)
            ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        return ed;
    case MQP_ALG_UNKNOWN:
        break;
    }
    /* Unknown algorithms still go through verify, which must refuse them. */
    return fixed_key(MQP_ALG_ES256);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct mqp_jwt jwt;
    unsigned char *raw;
    size_t raw_len;
    char err[128];

    if (mqp_jwt_decode(text, size, FUZZ_MAX_TOKEN, &jwt, err, sizeof(err)) == 0) {
        /* A fuzzer cannot forge a signature: success here would mean verify is broken. */
        if (mqp_jwt_verify(&jwt, fixed_key(jwt.alg)) == 0)
            abort();
        mqp_jwt_clear(&jwt);
    }
    raw = mqp_b64url_decode(text, size, &raw_len);
    if (raw != NULL) {
        char *again = mqp_b64url_encode(raw, raw_len, NULL);

        /* Canonical decoding: re-encoding gives the input back, minus padding. */
        if (again == NULL || strlen(again) > size || memcmp(again, text, strlen(again)) != 0)
            abort();
        free(again);
        free(raw);
    }
    (void)mqp_token_looks_like_jwt(text, size);
    return 0;
}
