/*
 * Fuzz what the broker does with outside JSON: criteria and map specs (from streams files) and
 * event bodies (from any publisher). The input is "<spec JSON>\0<event JSON>": the spec is
 * compiled as a map and as criteria and both are applied to the event; the event bytes also go
 * through the whole fan-out of a fixed configuration, as the plugin calls it per PUBLISH.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "criteria.h"
#include "event.h"
#include "projection.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_config[] =
    "{\"tenants\":{\"t\":{\"issuer\":\"https://idp/t\",\"audience\":\"a\",\"jwks\":{\"keys\":[]},"
    "\"streams\":{"
    "\"whole\":{\"events\":[{\"namespace\":\"ns\",\"name\":\"ev\"}]},"
    "\"mapped\":{\"events\":[{\"namespace\":\"ns\",\"name\":\"ev\","
    "\"map\":{\"a\":\"payload.a\",\"b\":\"payload.items[1].x\",\"n\":{\"c\":\"context['k.y']\"}},"
    "\"criteria\":{\"context\":{\"k\":1}}},"
    "{\"namespace\":\"ns\",\"name\":\"ev\",\"criteria\":{\"payload.items.0\":true}}]}}}}}";

static struct mqp_config *cfg;

static int count_emit(void *ctx, const struct mqp_stream *stream, const char *topic,
                      const char *body, size_t body_len)
{
    size_t *total = ctx;

    (void)stream;
    /* Every copy must be complete JSON text that names its topic. */
    if (topic[0] == '\0' || body_len != strlen(body))
        abort();
    *total += body_len;
    return 0;
}

static json_object *parse(const char *buf, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *obj;

    if (tok == NULL)
        return NULL;
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *split = memchr(data, 0, size);
    size_t spec_len = split ? (size_t)(split - (const char *)data) : size;
    const char *event_buf = split ? split + 1 : "";
    size_t event_len = split ? size - spec_len - 1 : 0;
    json_object *spec, *event;
    struct mqp_projection *map = NULL;
    struct mqp_criteria *crit = NULL;
    char err[256];
    size_t emitted = 0, total = 0;

    if (size > 64 * 1024)
        return 0;
    if (cfg == NULL) {
        struct mqp_errors errs = {0};

        if (mqp_config_load_buffer(fixed_config, sizeof(fixed_config) - 1, NULL, &cfg, &errs))
            abort();
    }

    spec = parse((const char *)data, spec_len);
    event = parse(event_buf, event_len);
    if (spec != NULL && mqp_projection_compile(spec, &map, err, sizeof(err)) == 0 && event) {
        json_object *out = mqp_projection_apply(map, event);

        if (out != NULL)
            json_object_to_json_string(out);
        json_object_put(out);
    }
    if (spec != NULL && mqp_criteria_compile(spec, &crit, err, sizeof(err)) == 0 && event)
        (void)mqp_criteria_match(crit, event);

    mqp_event_fanout(cfg, "t/events/ns/ev", event_buf, event_len, count_emit, &total, &emitted);
    mqp_event_fanout(cfg, "t/events/ns/ev", data, size, count_emit, &total, &emitted);

    mqp_projection_free(map);
    mqp_criteria_free(crit);
    json_object_put(spec);
    json_object_put(event);
    return 0;
}
