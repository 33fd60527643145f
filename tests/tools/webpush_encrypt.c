/*
 * webpush_encrypt <p256dh> <auth> <pad>: encrypt standard input for a Web Push subscription
 * with the bridge's encoder (bridge/webpush/ece.c) and print the body in base64url, so that
 * the integration tests can decrypt it with an independent implementation (npm http_ece).
 * Exit 0, or 1 with the reason on standard error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "b64url.h"
#include "webpush/ece.h"

int main(int argc, char **argv)
{
    unsigned char *ua = NULL, *auth = NULL, *body = NULL;
    char buf[8192], err[128], *out = NULL;
    size_t ualen = 0, authlen = 0, len = 0, blen = 0, olen = 0;
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: webpush_encrypt <p256dh> <auth> <pad> < plaintext\n");
        return 1;
    }
    ua = mqp_b64url_decode(argv[1], strlen(argv[1]), &ualen);
    auth = mqp_b64url_decode(argv[2], strlen(argv[2]), &authlen);
    len = fread(buf, 1, sizeof(buf), stdin);
    if (ua == NULL || auth == NULL || ualen != WEBPUSH_KEY_LEN || authlen != WEBPUSH_AUTH_LEN) {
        fprintf(stderr, "webpush_encrypt: p256dh must be 65 bytes and auth 16, in base64url\n");
        goto cleanup;
    }
    if (webpush_ece_encrypt(ua, auth, buf, len, strtoul(argv[3], NULL, 10), NULL, &body, &blen,
                            err, sizeof(err)) != 0) {
        fprintf(stderr, "webpush_encrypt: %s\n", err);
        goto cleanup;
    }
    out = mqp_b64url_encode(body, blen, &olen);
    if (out == NULL)
        goto cleanup;
    printf("%s\n", out);
    rc = 0;
cleanup:
    free(out);
    free(body);
    free(ua);
    free(auth);
    return rc;
}
