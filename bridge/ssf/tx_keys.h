/*
 * The signing keys of the SSF transmitter: one current key (ES256 by default, RS256 for the
 * CAEP interoperability profile) that signs SETs, and the keys it replaced, whose public halves
 * stay in the JWKS for an overlap so that receivers can still verify SETs signed just before a
 * rotation. Every key's "kid" is its RFC 7638 thumbprint. The keys live in the store's
 * key-value table (namespace "ssf-tx", key "keys"), made on first start.
 */
#ifndef BRIDGE_SSF_TX_KEYS_H
#define BRIDGE_SSF_TX_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "jwk.h"
#include "store/store.h"

struct ssf_tx_keys;

/*
 * Load the keys from st (borrowed; must outlive the keys), dropping those retired more than
 * overlap_s before now. configured (may be NULL; a reference is taken) is the operator's key
 * (ssf.transmitter.key_file): when it is not the current key it becomes it. Without one, when
 * there is no current key, or the current one is not of alg (MQP_ALG_ES256 or MQP_ALG_RS256,
 * RSA keys of rsa_bits), a new one is made. Either way the old one is retired (as
 * ssf_tx_keys_rotate()). Returns 0 and *out (free with ssf_tx_keys_free()), or -1 with a
 * message in err.
 */
int ssf_tx_keys_open(struct store *st, enum mqp_jws_alg alg, unsigned rsa_bits, unsigned overlap_s,
                     EVP_PKEY *configured, int64_t now, struct ssf_tx_keys **out, char *err,
                     size_t errlen);
void ssf_tx_keys_free(struct ssf_tx_keys *k);

/* Make a new current key, retire the old one at now, and write both to the store. Nothing
 * changes when this fails: returns 0, or -1 with a message in err. RSA key generation takes
 * a noticeable fraction of a second. */
int ssf_tx_keys_rotate(struct ssf_tx_keys *k, int64_t now, char *err, size_t errlen);

/* The current key (borrowed; valid until the next rotation) and its kid (same). */
EVP_PKEY *ssf_tx_keys_current(const struct ssf_tx_keys *k, const char **kid);

/* How many keys are published at now (the current one and those still in their overlap). */
size_t ssf_tx_keys_count(const struct ssf_tx_keys *k, int64_t now);

/* {"keys": [...]}: the public JWKs published at now, current key first. New object (caller
 * frees with json_object_put()), or NULL when out of memory. */
json_object *ssf_tx_keys_jwks(const struct ssf_tx_keys *k, int64_t now);

#endif
