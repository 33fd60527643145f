/*
 * Paths, criteria, map projections and event fan-out on hostile input.
 * Input: <spec> 0x00 <event>. The spec text is compiled as a path; parsed as JSON it is compiled
 * both as criteria and as a map (and so are its "criteria" and "map" members), then applied to
 * the event. The event bytes, and the whole input, also go through mqp_event_fanout() against a
 * fixed configuration, as the plugin calls it for every PUBLISH.
 * Properties checked besides "no crash, no leak": every projection and every emitted copy is
 * JSON that parses back, and every copy starts with its id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "criteria.h"
#include "event.h"
#include "jsonpath.h"
#include "projection.h"

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char config_text[] =
    "{\"tenants\": {\"fz\": {\"issuer\": \"https://idp.test/fz\", \"audience\": \"fz\","
    " \"jwks\": {\"keys\": []}, \"streams\": {"
    "  \"whole\": {\"events\": [{\"namespace\": \"orders\", \"name\": \"created\"}]},"
    "  \"mapped\": {\"events\": ["
    "   {\"namespace\": \"orders\", \"name\": \"created\", \"criteria\": {\"payload.a\": 1},"
    "    \"map\": {\"a\": \"payload.a\", \"n\": {\"b\": \"payload.b[0]\", \"c\": "
    "\"context['x.y']\"}}},"
    "   {\"namespace\": \"orders\", \"name\": \"created\","
    "    \"criteria\": {\"correlationId\": \"\", \"context\": {\"k\": [1, 2.0, null]}},"
    "    \"map\": {\"id\": \"payload\", \"correlationId\": \"payload.c\"}}]}}}}}";

static struct mqp_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct mqp_errors errs = {0};

    (void)argc;
    (void)argv;
    if (mqp_config_load_buffer(config_text, sizeof(config_text) - 1, NULL, &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "fuzz config: %s\n", errs.msgs[i]);
        abort();
    }
    mqp_errors_clear(&errs);
    return 0;
}

static json_object *parse(const char *buf, size_t len, int depth)
{
    json_tokener *tok = json_tokener_new_ex(depth);
    json_object *o;

    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, buf, (int)len);
    json_tokener_free(tok);
    return o;
}

/* JSON text produced by mqpush must parse back. */
static void check_json(const char *text, size_t len)
{
    json_object *back = parse(text, len + 1, 128);

    if (!back && strcmp(text, "null") != 0) {
        fprintf(stderr, "produced text is not JSON: %s\n", text);
        abort();
    }
    json_object_put(back);
}

static int emit(void *ctx, const struct mqp_stream *stream, const char *topic, const char *body,
                size_t body_len)
{
    (void)ctx;
    if (strlen(body) != body_len || strncmp(body, "{\"id\":\"", 7) != 0 ||
        strncmp(topic, "fz/", 3) != 0 || stream == NULL)
        abort();
    check_json(body, body_len);
    return 0;
}

static void apply_spec(json_object *spec, json_object *event)
{
    struct mqp_criteria *c = NULL;
    struct mqp_projection *p = NULL;
    char err[256];

    if (mqp_criteria_compile(spec, &c, err, sizeof(err)) == 0) {
        (void)mqp_criteria_match(c, event);
        mqp_criteria_free(c);
    }
    if (mqp_projection_compile(spec, &p, err, sizeof(err)) == 0) {
        json_object *out = mqp_projection_apply(p, event), *dst;
        size_t len;
        const char *text;

        if (out) {
            text = json_object_to_json_string_length(out, FLAGS, &len);
            if (text)
                check_json(text, len);
            json_object_put(out);
        }
        dst = json_object_new_object();
        if (dst) {
            json_object_object_add(dst, "id", json_object_new_string("x"));
            (void)mqp_projection_apply_into(p, event, dst, true);
            json_object_put(dst);
        }
        mqp_projection_free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t spec_len = nul ? (size_t)(nul - data) : size;
    const char *ev = nul ? (const char *)nul + 1 : "";
    size_t ev_len = nul ? size - spec_len - 1 : 0;
    char *spec_text = malloc(spec_len + 1);
    json_object *spec = NULL, *event = NULL, *member;
    struct mqp_path *path = NULL;
    char err[256];

    /* Larger inputs find nothing new and only slow the search down. */
    if (size > 64 * 1024 || !spec_text) {
        free(spec_text);
        return 0;
    }
    memcpy(spec_text, data, spec_len);
    spec_text[spec_len] = '\0';
    event = parse(ev, (int)ev_len, MQP_EVENT_MAX_DEPTH);
    if (mqp_path_compile(spec_text, &path, err, sizeof(err)) == 0) {
        int found;

        if (strcmp(mqp_path_text(path), spec_text) != 0)
            abort();
        (void)mqp_path_get(path, event, &found);
        mqp_path_free(path);
    }
    spec = parse(spec_text, spec_len, 32);
    apply_spec(spec, event);
    if (json_object_object_get_ex(spec, "map", &member))
        apply_spec(member, event);
    if (json_object_object_get_ex(spec, "criteria", &member))
        apply_spec(member, event);
    if (mqp_json_equal(spec, event) != mqp_json_equal(event, spec))
        abort();
    (void)mqp_event_fanout(cfg, "fz/events/orders/created", ev, ev_len, emit, NULL, NULL);
    /* The whole input as one event: NUL bytes and trailing text must be refused, not cut. */
    (void)mqp_event_fanout(cfg, "fz/events/orders/created", data, size, emit, NULL, NULL);
    json_object_put(spec);
    json_object_put(event);
    free(spec_text);
    return 0;
}
