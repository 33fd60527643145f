/*
 * libFuzzer target for what the SSF receiver reads from a transmitter: the SET (shape checks,
 * then verification against a fixed key set with one key per algorithm, the event name and
 * the subject's sessions) and, the same bytes as a header value, Accept-Language.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "jwk.h"
#include "ssf/lang.h"
#include "ssf/set.h"
#include "ssf/subject.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Made once; never freed (the process ends with the fuzzer). */
static struct mqp_jwks *fixed_keys(void)
{
    static struct mqp_jwks *jwks;
    EVP_PKEY *keys[3];
    json_object *doc, *arr;

    if (jwks)
        return jwks;
    keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    doc = json_object_new_object();
    arr = json_object_new_array();
    for (size_t i = 0; i < 3; i++) {
        json_object_array_add(arr, mqp_jwk_from_pkey(keys[i]));
        EVP_PKEY_free(keys[i]);
    }
    json_object_object_add(doc, "keys", arr);
    if (mqp_jwks_parse(doc, &jwks, NULL, 0) != 0)
        abort();
    json_object_put(doc);
    return jwks;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssf_set set;
    enum ssf_msg why;
    char name[MQP_ID_MAX + 1], *text;
    const char *user, *session;

    if (ssf_set_parse((const char *)data, size, &set, &why) == SSF_OK) {
        /* A fuzzer cannot forge a signature: success would mean verification is broken. */
        if (ssf_set_verify(&set, fixed_keys(), "receiver", 0, &why) == SSF_OK)
            abort();
        if (set.type == NULL || set.event == NULL || set.sub_id == NULL)
            abort();
        if (ssf_set_event_name(set.type, name, sizeof(name)) == 0 &&
            !mqp_id_valid(name, strlen(name)))
            abort();
        if (ssf_subject_sessions(set.sub_id, "https://idp.example/", &user, &session) &&
            user == NULL && session == NULL)
            abort();
    } else if (why == SSF_MSG_NONE) {
        abort();
    }
    ssf_set_clear(&set);
    text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if ((unsigned)ssf_lang_pick(text, SSF_LANG_ALL) >= SSF_LANG_COUNT)
        abort();
    free(text);
    return 0;
}
