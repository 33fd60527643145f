/*
 * Test fixtures for the plugin tests: a signing key per issuer, a streams file in a temporary
 * directory, and tokens minted with core's signer.
 */
#ifndef MQP_PLUGIN_TEST_SUPPORT_H
#define MQP_PLUGIN_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define TENANT_ISS "https://idp.test/realms/acme"
#define SERVICE_ISS "https://idp.test/realms/service"
#define AUDIENCE "mqpush"

struct fixture {
    char dir[64];    /* temporary directory, removed by fixture_free() */
    char config[96]; /* dir + "/streams.json" */
    EVP_PKEY *tenant_key;
    EVP_PKEY *service_key;
    EVP_PKEY *stranger_key; /* in no key set, except the tenant's in config variant 2 */
    char *tenant_jwks;      /* JSON text of the tenant's public key set */
    char *service_jwks;
    char *stranger_jwks;
};

/* Make keys and a temporary directory. Returns 0 or -1. */
int fixture_init(struct fixture *f);
void fixture_free(struct fixture *f);

/*
 * Write the streams file. variant 0: tenant "acme" with streams "news" (public, news:published),
 * "cases" (roles case-worker, case:updated with map {"caseId": "payload.id"} and criteria
 * {"payload.kind": "open"}) and "audit" (no roles: stream-listener only, case:updated).
 * variant 1: as 0, but "cases" is public and "audit" is gone. variant 2: as 0, but the tenant's
 * key set holds the stranger's key instead of the tenant's own. variant 3: "news" and "inbox"
 * (public, case:updated, subscriberCriteria {"payload.owner": {"claim": "sub"}}). leeway is
 * limits.token_leeway_seconds, max_event limits.max_event_bytes. Returns 0 or -1.
 */
int fixture_write_config(struct fixture *f, int variant, int leeway, size_t max_event);

/* Overwrite the streams file with text as it is. */
int fixture_write_raw(struct fixture *f, const char *text);

/*
 * A token signed by key for iss with the comma-separated roles (may be ""), expiring ttl
 * seconds from now. Caller frees with free().
 */
char *mint_token(EVP_PKEY *key, const char *iss, const char *roles, int64_t ttl);

#endif
