/*
 * The "description" of an RFC 8935 error reply, in the language the transmitter asked for:
 * section 2.4 wants it chosen by Accept-Language (RFC 9110 section 12.5.4) where the receiver
 * can, named in Content-Language, and understandable in English otherwise (RFC 2277 4.5).
 */
#ifndef BRIDGE_SSF_LANG_H
#define BRIDGE_SSF_LANG_H

#include "ssf/set.h"

enum ssf_lang { SSF_LANG_EN = 0, SSF_LANG_DE, SSF_LANG_FR, SSF_LANG_COUNT };

/* Every language: a mask of (1u << enum ssf_lang) bits. */
#define SSF_LANG_ALL ((1u << SSF_LANG_COUNT) - 1)

/* The BCP 47 tag ("en", "de", "fr"), static. */
const char *ssf_lang_tag(enum ssf_lang lang);

/* The language of tag (exactly "en", "de" or "fr", any case), or -1. */
int ssf_lang_from_tag(const char *tag);

/*
 * The language to answer in, from an Accept-Language value (NULL when the header is absent):
 * the offered language (bits of offered; English is always offered) with the highest q, a
 * range matching a language when it is its tag or begins with it and '-' ("de-CH" is German),
 * "*" matching the first offered language not named otherwise; of equal q the range listed
 * first wins. Ranges with q=0 and malformed elements are skipped. Nothing acceptable: English.
 */
enum ssf_lang ssf_lang_pick(const char *accept_language, unsigned offered);

/* The text of msg in lang (static, UTF-8). */
const char *ssf_lang_text(enum ssf_msg msg, enum ssf_lang lang);

#endif
