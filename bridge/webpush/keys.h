/*
 * The VAPID key pair's life in the store: made on first start, kept across restarts, and
 * replaced by rotation. One key serves the whole bridge (the applicationServerKey that
 * browsers subscribe with); every bridge on one store shares it.
 */
#ifndef BRIDGE_WEBPUSH_KEYS_H
#define BRIDGE_WEBPUSH_KEYS_H

#include <openssl/evp.h>
#include <stdint.h>
#include "store/store.h"

/*
 * The stored key, or a new one (P-256) stored now when there is none or create is set
 * (rotation: the old key is overwritten, so it is gone). *created: when it was made (seconds).
 * Returns 0 and *out (caller frees with EVP_PKEY_free()), or -1 with a message in err.
 */
int webpush_keys_load(struct store *st, int create, int64_t now, EVP_PKEY **out, int64_t *created,
                      char *err, size_t errlen);

#endif
