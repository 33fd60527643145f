/*
 * Readers of registered JWT claims (RFC 7519 section 4.1) and of the JOSE "typ" header, for
 * the policies that judge a verified JWS: Security Event Tokens (bridge/ssf/set.c) today.
 * They only read; which claim is required, and what a bad one means, is the caller's policy.
 */
#ifndef MQP_CLAIMS_H
#define MQP_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * NumericDate claim name of claims (RFC 7519 section 2: seconds since the epoch, fractions
 * allowed). Returns 0 with the value in *out (fractions cut, values beyond int64 clamped),
 * 1 when the claim is absent, -1 when it is not a number.
 */
int mqp_claim_numeric_date(json_object *claims, const char *name, int64_t *out);

/*
 * String claim name: 0 with *out borrowed from claims (valid while claims lives) or NULL when
 * absent, -1 when present with another type or holding a NUL byte.
 */
int mqp_claim_string(json_object *claims, const char *name, const char **out);

/*
 * Does "aud" (RFC 7519 section 4.1.3: one string, or an array of strings) contain audience?
 * Returns 1 yes, 0 no (also when "aud" is absent), -1 when "aud" is neither a string nor an
 * array of strings.
 */
int mqp_claim_aud_contains(json_object *claims, const char *audience);

/*
 * typ (a JOSE "typ" header value, may be NULL) names media type want: compared without
 * regard to case, and with "application/" optional (RFC 7515 section 4.1.9). NULL: false.
 */
bool mqp_jose_typ_is(const char *typ, const char *want);

#endif
