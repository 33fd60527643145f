/*
 * mqpushctl token: mint a signed JWT with the claims core/token.c reads (RFC 7519 section 4.1
 * registered claims plus roles in the three places Keycloak-style issuers put them).
 */
#include "mqpushctl.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>
#include "b64url.h"
#include "jwk.h"
#include "jwt.h"

#define MAX_REPEATS 32
#define MAX_OFFSET_SECONDS (100LL * 366 * 24 * 3600) /* a century either way */
#define JTI_RANDOM_BYTES 16

static const char token_usage[] =
    "usage: mqpushctl token --key KEY.pem --iss ISS --aud AUD [options]\n"
    "\n"
    "Print a JWT signed with KEY.pem (ES256, RS256 or EdDSA, from the key type).\n"
    "\n"
    "  --aud AUD                   audience; give it twice or more for an array\n"
    "  --sub S, --sid SID          subject and session id claims\n"
    "  --jti J                     token id (default: random)\n"
    "  --roles r1,r2               top-level \"roles\" claim\n"
    "  --realm-roles r1,r2         realm_access.roles\n"
    "  --client-roles CLIENT:r1,r2 resource_access.CLIENT.roles (repeatable)\n"
    "  --ttl SECONDS               exp = now + SECONDS (default 3600; negative mints an\n"
    "                              expired token)\n"
    "  --no-exp                    leave out exp\n"
    "  --nbf SECONDS               nbf = now + SECONDS\n"
    "  --kid KID                   header kid (default: RFC 7638 thumbprint of the key)\n"
    "  --typ TYP                   header typ (default: JWT)\n"
    "  --claim NAME=JSON           set claim NAME to a JSON value (repeatable; applied last)\n";

struct token_opts {
    const char *key_path, *iss, *sub, *sid, *jti, *roles, *realm_roles, *kid, *typ;
    const char *aud[MAX_REPEATS];
    size_t n_aud;
    const char *client_roles[MAX_REPEATS];
    size_t n_client_roles;
    const char *claims[MAX_REPEATS];
    size_t n_claims;
    long long ttl, nbf;
    bool no_exp, has_nbf;
};

static int usage_error(const char *fmt, const char *arg)
{
    if (fmt != NULL) {
        fputs("mqpushctl token: ", stderr);
        fprintf(stderr, fmt, arg);
        fputs("\n\n", stderr);
    }
    fputs(token_usage, stderr);
    return CTL_USAGE;
}

static int push_repeat(const char **list, size_t *n, const char *value)
{
    if (*n >= MAX_REPEATS)
        return -1;
    list[(*n)++] = value;
    return 0;
}

/* CTL_OK when o is filled, CTL_USAGE on a bad command line; -1 after printing --help. */
static int parse_options(int argc, char **argv, struct token_opts *o)
{
    enum { O_SID = 256, O_JTI, O_ROLES, O_REALM, O_CLIENT, O_TTL, O_NOEXP, O_NBF, O_KID, O_TYP };
    static const struct option options[] = {{"key", required_argument, NULL, 'k'},
                                            {"iss", required_argument, NULL, 'i'},
                                            {"aud", required_argument, NULL, 'a'},
                                            {"sub", required_argument, NULL, 's'},
                                            {"sid", required_argument, NULL, O_SID},
                                            {"jti", required_argument, NULL, O_JTI},
                                            {"roles", required_argument, NULL, O_ROLES},
                                            {"realm-roles", required_argument, NULL, O_REALM},
                                            {"client-roles", required_argument, NULL, O_CLIENT},
                                            {"ttl", required_argument, NULL, O_TTL},
                                            {"no-exp", no_argument, NULL, O_NOEXP},
                                            {"nbf", required_argument, NULL, O_NBF},
                                            {"kid", required_argument, NULL, O_KID},
                                            {"typ", required_argument, NULL, O_TYP},
                                            {"claim", required_argument, NULL, 'c'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    o->ttl = 3600;
    o->typ = "JWT";
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'k':
            o->key_path = optarg;
            break;
        case 'i':
            o->iss = optarg;
            break;
        case 's':
            o->sub = optarg;
            break;
        case O_SID:
            o->sid = optarg;
            break;
        case O_JTI:
            o->jti = optarg;
            break;
        case O_ROLES:
            o->roles = optarg;
            break;
        case O_REALM:
            o->realm_roles = optarg;
            break;
        case O_KID:
            o->kid = optarg;
            break;
        case O_TYP:
            o->typ = optarg;
            break;
        case O_NOEXP:
            o->no_exp = true;
            break;
        case 'a':
            if (push_repeat(o->aud, &o->n_aud, optarg) != 0)
                return usage_error("too many --aud", NULL);
            break;
        case O_CLIENT:
            if (push_repeat(o->client_roles, &o->n_client_roles, optarg) != 0)
                return usage_error("too many --client-roles", NULL);
            break;
        case 'c':
            if (push_repeat(o->claims, &o->n_claims, optarg) != 0)
                return usage_error("too many --claim", NULL);
            break;
        case O_TTL:
            if (ctl_parse_int64(optarg, -MAX_OFFSET_SECONDS, MAX_OFFSET_SECONDS, &o->ttl) != 0)
                return usage_error("--ttl takes a whole number of seconds, not '%s'", optarg);
            break;
        case O_NBF:
            o->has_nbf = true;
            if (ctl_parse_int64(optarg, -MAX_OFFSET_SECONDS, MAX_OFFSET_SECONDS, &o->nbf) != 0)
                return usage_error("--nbf takes a whole number of seconds, not '%s'", optarg);
            break;
        case 'h':
            fputs(token_usage, stdout);
            return -1;
        default:
            return usage_error(NULL, NULL);
        }
    }
    if (optind != argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->key_path == NULL || o->iss == NULL || o->n_aud == 0)
        return usage_error("--key, --iss and --aud are required", NULL);
    return CTL_OK;
}

static int set_member(json_object *obj, const char *name, json_object *value)
{
    if (value == NULL || json_object_object_add(obj, name, value) != 0) {
        json_object_put(value);
        return -1;
    }
    return 0;
}

/* "r1,r2" -> ["r1","r2"]; empty items are dropped. */
static json_object *role_array(const char *list, size_t len)
{
    json_object *array = json_object_new_array();
    size_t start = 0;

    for (size_t i = 0; array != NULL && i <= len; i++) {
        if (i < len && list[i] != ',')
            continue;
        if (i > start && json_object_array_add(array, json_object_new_string_len(
                                                          list + start, (int)(i - start))) != 0) {
            json_object_put(array);
            array = NULL;
        }
        start = i + 1;
    }
    return array;
}

/* --client-roles CLIENT:r1,r2 -> resource_access.CLIENT.roles, merged per client. */
static int add_client_roles(json_object *claims, const char *spec)
{
    const char *colon = strchr(spec, ':');
    json_object *access, *client, *roles, *add;
    char *name = NULL;
    int rc = -1;

    if (colon == NULL || colon == spec) {
        usage_error("--client-roles takes CLIENT:r1,r2, not '%s'", spec);
        return CTL_USAGE;
    }
    name = strndup(spec, (size_t)(colon - spec));
    if (name == NULL)
        goto out;
    if (!json_object_object_get_ex(claims, "resource_access", &access) &&
        set_member(claims, "resource_access", access = json_object_new_object()) != 0)
        goto out;
    if (!json_object_object_get_ex(access, name, &client) &&
        set_member(access, name, client = json_object_new_object()) != 0)
        goto out;
    if (!json_object_object_get_ex(client, "roles", &roles) &&
        set_member(client, "roles", roles = json_object_new_array()) != 0)
        goto out;
    add = role_array(colon + 1, strlen(colon + 1));
    if (add == NULL)
        goto out;
    for (size_t i = 0; i < json_object_array_length(add); i++)
        json_object_array_add(roles, json_object_get(json_object_array_get_idx(add, i)));
    json_object_put(add);
    rc = 0;
out:
    free(name);
    return rc;
}

/* --claim NAME=JSON: the value must be one complete JSON text. */
static int add_claim(json_object *claims, const char *spec)
{
    const char *eq = strchr(spec, '=');
    json_tokener *tok = NULL;
    json_object *value = NULL;
    char *name = NULL;
    int rc = CTL_USAGE;
    size_t len;

    if (eq == NULL || eq == spec) {
        usage_error("--claim takes NAME=JSON, not '%s'", spec);
        goto out;
    }
    len = strlen(eq + 1);
    tok = json_tokener_new();
    name = strndup(spec, (size_t)(eq - spec));
    if (tok == NULL || name == NULL) {
        rc = CTL_FAIL;
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* Passing the NUL too lets json-c finish a bare number or literal ("42", "null"). */
    value = json_tokener_parse_ex(tok, eq + 1, (int)len + 1);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len) {
        usage_error("--claim value is not JSON: '%s' (quote strings: name='\"text\"')", spec);
        goto out;
    }
    /* A JSON null is a NULL json_object: the claim is then present with value null. */
    json_object_object_add(claims, name, value);
    value = NULL;
    rc = CTL_OK;
out:
    json_object_put(value);
    if (tok != NULL)
        json_tokener_free(tok);
    free(name);
    return rc;
}

static char *random_jti(void)
{
    unsigned char raw[JTI_RANDOM_BYTES];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return NULL;
    return mqp_b64url_encode(raw, sizeof(raw), NULL);
}

/* Claims in the order a reader expects them. Returns CTL_OK and *out, or an exit code. */
static int build_claims(const struct token_opts *o, json_object **out)
{
    json_object *claims = json_object_new_object(), *aud;
    int64_t now = (int64_t)time(NULL);
    char *jti = o->jti ? NULL : random_jti();
    int rc = CTL_FAIL;

    *out = NULL;
    if (claims == NULL || (o->jti == NULL && jti == NULL))
        goto out;
    aud = o->n_aud == 1 ? json_object_new_string(o->aud[0]) : json_object_new_array();
    for (size_t i = 0; o->n_aud > 1 && aud != NULL && i < o->n_aud; i++)
        json_object_array_add(aud, json_object_new_string(o->aud[i]));
    if (set_member(claims, "iss", json_object_new_string(o->iss)) != 0 ||
        (o->sub && set_member(claims, "sub", json_object_new_string(o->sub)) != 0) ||
        set_member(claims, "aud", aud) != 0 ||
        set_member(claims, "iat", json_object_new_int64(now)) != 0 ||
        (o->has_nbf && set_member(claims, "nbf", json_object_new_int64(now + o->nbf)) != 0) ||
        (!o->no_exp && set_member(claims, "exp", json_object_new_int64(now + o->ttl)) != 0) ||
        set_member(claims, "jti", json_object_new_string(o->jti ? o->jti : jti)) != 0 ||
        (o->sid && set_member(claims, "sid", json_object_new_string(o->sid)) != 0) ||
        (o->roles && set_member(claims, "roles", role_array(o->roles, strlen(o->roles))) != 0))
        goto out;
    if (o->realm_roles != NULL) {
        json_object *realm = json_object_new_object();

        if (set_member(claims, "realm_access", realm) != 0 ||
            set_member(realm, "roles", role_array(o->realm_roles, strlen(o->realm_roles))) != 0)
            goto out;
    }
    for (size_t i = 0; i < o->n_client_roles; i++) {
        rc = add_client_roles(claims, o->client_roles[i]);
        if (rc != CTL_OK)
            goto out;
    }
    for (size_t i = 0; i < o->n_claims; i++) {
        rc = add_claim(claims, o->claims[i]);
        if (rc != CTL_OK)
            goto out;
    }
    *out = claims;
    claims = NULL;
    rc = CTL_OK;
out:
    if (rc == -1)
        rc = CTL_FAIL;
    json_object_put(claims);
    free(jti);
    return rc;
}

int ctl_token(int argc, char **argv)
{
    struct token_opts o;
    EVP_PKEY *key = NULL;
    json_object *claims = NULL, *header = NULL;
    char *kid = NULL, *token = NULL;
    int rc = parse_options(argc, argv, &o);

    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    rc = build_claims(&o, &claims);
    if (rc != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    key = ctl_load_private_key(o.key_path);
    if (key == NULL)
        goto out;
    if (mqp_jws_alg_for_key(key) == MQP_ALG_UNKNOWN) {
        fprintf(stderr, "mqpushctl: %s: key type not supported (use EC P-256, RSA, Ed25519)\n",
                o.key_path);
        goto out;
    }
    kid = o.kid ? strdup(o.kid) : mqp_jwk_thumbprint(key);
    header = json_object_new_object();
    if (kid == NULL || header == NULL ||
        set_member(header, "typ", json_object_new_string(o.typ)) != 0 ||
        set_member(header, "kid", json_object_new_string(kid)) != 0)
        goto out;
    token = mqp_jwt_sign(claims, header, key);
    if (token == NULL) {
        fprintf(stderr, "mqpushctl: signing failed\n");
        goto out;
    }
    printf("%s\n", token);
    rc = CTL_OK;
out:
    free(token);
    free(kid);
    json_object_put(header);
    json_object_put(claims);
    EVP_PKEY_free(key);
    return rc;
}
