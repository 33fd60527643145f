/*
 * Accept-Language negotiation and the words of every SSF receiver refusal. The texts name the
 * claims and headers as the specifications spell them, so that a transmitter's developer can
 * find them whatever the language.
 */
#include "ssf/lang.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static const char *const tags[SSF_LANG_COUNT] = {"en", "de", "fr"};

static const char *const texts[SSF_MSG_COUNT][SSF_LANG_COUNT] = {
    [SSF_MSG_NONE] = {"The SET was accepted.", "Das SET wurde angenommen.",
                      "Le SET a été accepté."},
    [SSF_MSG_CONTENT_TYPE] = {"The request must have Content-Type application/secevent+jwt.",
                              "Die Anfrage muss den Content-Type application/secevent+jwt haben.",
                              "La requête doit avoir le Content-Type application/secevent+jwt."},
    [SSF_MSG_NO_BODY] = {"The request body is empty; it must be the SET.",
                         "Der Anfragetext ist leer; er muss das SET sein.",
                         "Le corps de la requête est vide ; il doit être le SET."},
    [SSF_MSG_TOO_LARGE] = {"The SET is too large.", "Das SET ist zu groß.",
                           "Le SET est trop volumineux."},
    [SSF_MSG_NOT_JWS] = {"The body is not a JWS in compact serialization with JSON header and "
                         "claims.",
                         "Der Inhalt ist kein JWS in kompakter Serialisierung mit JSON-Header "
                         "und JSON-Claims.",
                         "Le corps n'est pas un JWS en sérialisation compacte avec en-tête et "
                         "claims JSON."},
    [SSF_MSG_TYP] = {"The JOSE header \"typ\" must be \"secevent+jwt\".",
                     "Der JOSE-Header \"typ\" muss \"secevent+jwt\" lauten.",
                     "L'en-tête JOSE \"typ\" doit valoir \"secevent+jwt\"."},
    [SSF_MSG_CLAIMS] = {"A required claim (iss, iat, jti, events) is missing or has the wrong "
                        "type, or \"aud\" is neither a string nor an array of strings.",
                        "Ein erforderlicher Claim (iss, iat, jti, events) fehlt oder hat den "
                        "falschen Typ, oder \"aud\" ist weder ein String noch ein Array von "
                        "Strings.",
                        "Une claim requise (iss, iat, jti, events) manque ou a un type "
                        "incorrect, ou \"aud\" n'est ni une chaîne ni un tableau de chaînes."},
    [SSF_MSG_EXP] = {"A SET must not contain \"exp\".", "Ein SET darf kein \"exp\" enthalten.",
                     "Un SET ne doit pas contenir \"exp\"."},
    [SSF_MSG_EVENTS] = {"\"events\" must hold exactly one event: an object under its event type "
                        "URI.",
                        "\"events\" muss genau ein Ereignis enthalten: ein Objekt unter der URI "
                        "seines Ereignistyps.",
                        "\"events\" doit contenir exactement un événement : un objet sous l'URI "
                        "de son type d'événement."},
    [SSF_MSG_SUBJECT] = {"The SET names no subject: \"sub_id\" must be a Subject Identifier "
                         "object with a \"format\".",
                         "Das SET nennt kein Subjekt: \"sub_id\" muss ein Subject-Identifier-"
                         "Objekt mit \"format\" sein.",
                         "Le SET ne désigne aucun sujet : \"sub_id\" doit être un objet Subject "
                         "Identifier avec un \"format\"."},
    [SSF_MSG_IAT_FUTURE] = {"\"iat\" lies in the future.", "\"iat\" liegt in der Zukunft.",
                            "\"iat\" est dans le futur."},
    [SSF_MSG_ALG] = {"The SET must be signed with RS256, ES256 or EdDSA.",
                     "Das SET muss mit RS256, ES256 oder EdDSA signiert sein.",
                     "Le SET doit être signé avec RS256, ES256 ou EdDSA."},
    [SSF_MSG_KEY_UNKNOWN] = {"No key of the transmitter matches the \"kid\" and algorithm of "
                             "the SET.",
                             "Kein Schlüssel des Senders passt zu \"kid\" und Algorithmus des "
                             "SET.",
                             "Aucune clé du transmetteur ne correspond au \"kid\" et à "
                             "l'algorithme du SET."},
    [SSF_MSG_SIGNATURE] = {"The signature of the SET does not verify.",
                           "Die Signatur des SET ist ungültig.",
                           "La signature du SET n'est pas valide."},
    [SSF_MSG_ISSUER] = {"\"iss\" names no transmitter of this tenant.",
                        "\"iss\" nennt keinen Sender dieses Mandanten.",
                        "\"iss\" ne désigne aucun transmetteur de ce locataire."},
    [SSF_MSG_AUDIENCE] = {"\"aud\" does not name this receiver.",
                          "\"aud\" nennt diesen Empfänger nicht.",
                          "\"aud\" ne désigne pas ce récepteur."},
    [SSF_MSG_AUTH_MISSING] = {"This receiver requires the Authorization header agreed with the "
                              "transmitter.",
                              "Dieser Empfänger verlangt den mit dem Sender vereinbarten "
                              "Authorization-Header.",
                              "Ce récepteur exige l'en-tête Authorization convenu avec le "
                              "transmetteur."},
    [SSF_MSG_AUTH_BAD] = {"The credentials in the Authorization header are not valid.",
                          "Die Zugangsdaten im Authorization-Header sind ungültig.",
                          "Les identifiants de l'en-tête Authorization ne sont pas valides."},
    [SSF_MSG_ACCESS] = {"These credentials may not deliver SETs of this issuer to this tenant.",
                        "Diese Zugangsdaten dürfen SETs dieses Ausstellers nicht an diesen "
                        "Mandanten liefern.",
                        "Ces identifiants ne permettent pas de remettre à ce locataire les SET "
                        "de cet émetteur."},
};

const char *ssf_lang_tag(enum ssf_lang lang)
{
    return (unsigned)lang < SSF_LANG_COUNT ? tags[lang] : tags[SSF_LANG_EN];
}

int ssf_lang_from_tag(const char *tag)
{
    for (int i = 0; tag != NULL && i < SSF_LANG_COUNT; i++)
        if (strcasecmp(tag, tags[i]) == 0)
            return i;
    return -1;
}

const char *ssf_lang_text(enum ssf_msg msg, enum ssf_lang lang)
{
    if ((unsigned)msg >= SSF_MSG_COUNT)
        msg = SSF_MSG_NONE;
    if ((unsigned)lang >= SSF_LANG_COUNT)
        lang = SSF_LANG_EN;
    return texts[msg][lang];
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* One list element of len bytes: its range (*r, *rlen) and weight in thousandths. */
static bool element(const char *s, size_t len, const char **r, size_t *rlen, int *q)
{
    const char *end = s + len, *p;

    while (s < end && ows(*s))
        s++;
    while (end > s && ows(end[-1]))
        end--;
    for (p = s; p < end && *p != ';' && !ows(*p); p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '*'))
            return false;
    *r = s;
    *rlen = (size_t)(p - s);
    *q = 1000;
    while (p < end && ows(*p))
        p++;
    if (*rlen == 0)
        return false;
    if (p == end)
        return true;
    /* RFC 9110 12.4.2: weight = OWS ";" OWS "q=" qvalue; qvalue = 0[.ddd] / 1[.000] */
    if (*p++ != ';')
        return false;
    while (p < end && ows(*p))
        p++;
    if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' || (p[2] != '0' && p[2] != '1'))
        return false;
    *q = (p[2] - '0') * 1000;
    p += 3;
    if (p < end && *p == '.') {
        int scale = 100, digits = 0;

        for (p++; p < end && *p >= '0' && *p <= '9' && digits < 3; p++, digits++, scale /= 10)
            *q += (*p - '0') * scale;
    }
    return p == end && *q <= 1000;
}

/* The language range r names (RFC 4647 3.3.2 lookup truncation), or -1; "*" is -2. */
static int range_lang(const char *r, size_t rlen, unsigned offered)
{
    if (rlen == 1 && r[0] == '*')
        return -2;
    for (int i = 0; i < SSF_LANG_COUNT; i++) {
        size_t tl = strlen(tags[i]);

        if ((offered & (1u << i)) && rlen >= tl && strncasecmp(r, tags[i], tl) == 0 &&
            (rlen == tl || r[tl] == '-'))
            return i;
    }
    return -1;
}

enum ssf_lang ssf_lang_pick(const char *accept_language, unsigned offered)
{
    unsigned named = 0;
    int best = SSF_LANG_EN, best_q = 0, pass;

    offered = (offered | (1u << SSF_LANG_EN)) & SSF_LANG_ALL;
    if (accept_language == NULL)
        return SSF_LANG_EN;
    /* Pass 0 finds the languages named explicitly (what "*" does not stand for), pass 1
     * weighs. */
    for (pass = 0; pass < 2; pass++) {
        const char *s = accept_language;

        for (;;) {
            const char *comma = strchr(s, ','), *r;
            size_t len = comma ? (size_t)(comma - s) : strlen(s), rlen;
            int q, lang;

            if (element(s, len, &r, &rlen, &q)) {
                lang = range_lang(r, rlen, offered);
                if (pass == 0 && lang >= 0)
                    named |= 1u << lang;
                if (pass == 1 && lang == -2) {
                    lang = -1;
                    for (int i = 0; i < SSF_LANG_COUNT && lang < 0; i++)
                        if ((offered & (1u << i)) && !(named & (1u << i)))
                            lang = i;
                }
                if (pass == 1 && lang >= 0 && q > best_q) {
                    best = lang;
                    best_q = q;
                }
            }
            if (comma == NULL)
                break;
            s = comma + 1;
        }
    }
    return (enum ssf_lang)best;
}
