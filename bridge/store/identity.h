/*
 * A verified token's identity as kept with a push subscription: what the read rules and
 * subscriber criteria need once the token itself is gone (tenant, roles, sub, sid, jti, exp,
 * claims). The claims were verified when the subscription was made; nothing here verifies.
 */
#ifndef BRIDGE_STORE_IDENTITY_H
#define BRIDGE_STORE_IDENTITY_H

#include "token.h"

/* JSON text (caller frees), or NULL when out of memory. */
char *store_identity_encode(const struct mqp_identity *id);

/* Returns 0 and *out (free with mqp_identity_free()), or -1 when text is not such a JSON. */
int store_identity_decode(const char *text, struct mqp_identity **out);

#endif
