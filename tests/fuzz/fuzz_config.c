/*
 * Fuzz the streams-file loader: arbitrary bytes through JSON parsing, validation and model
 * building, then everything freed. jwks_file references resolve against an empty directory,
 * so they fail; inline "jwks" sets are parsed for real.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[] = "/tmp/mqp-fuzz-config-XXXXXX";
static int have_dir;

static void remove_dir(void)
{
    rmdir(base_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mqp_config *cfg = NULL;
    struct mqp_errors errs = {0};
    char *copy;

    if (!have_dir) {
        if (mkdtemp(base_dir) == NULL)
            abort();
        have_dir = 1;
        atexit(remove_dir);
    }
    /* An exact-size heap copy, so reading past the end is caught. */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (mqp_config_load_buffer(copy, size, base_dir, &cfg, &errs) == 0) {
        /* A model was handed out: it must be consistent enough to walk. */
        for (size_t i = 0; i < cfg->n_tenants; i++) {
            const struct mqp_tenant *t = &cfg->tenants[i];

            if (mqp_config_tenant(cfg, t->id, strlen(t->id)) != t)
                abort();
            for (size_t j = 0; j < t->n_streams; j++) {
                const struct mqp_stream *s = &t->streams[j];

                if (mqp_tenant_stream(t, s->id, strlen(s->id)) != s || s->index != j)
                    abort();
                for (size_t k = 0; k < s->n_events; k++) {
                    const struct mqp_stream_event *e = &s->events[k];
                    const struct mqp_route *r = mqp_tenant_route(
                        t, e->namespace_, strlen(e->namespace_), e->name, strlen(e->name));

                    if (r == NULL || r->n == 0)
                        abort();
                }
            }
        }
        if (errs.n != 0)
            abort();
    } else if (errs.n == 0) {
        abort(); /* every failure says why */
    }
    mqp_config_free(cfg);
    mqp_errors_clear(&errs);
    free(copy);
    return 0;
}
