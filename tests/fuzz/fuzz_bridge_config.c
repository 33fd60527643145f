/*
 * bridge.json: the loader takes any bytes an operator (or a broken deploy) puts in the file and
 * must answer with a configuration or a list of errors, never crash or leak. The loader reads
 * a path (relative paths in the file resolve against its directory), so each input is written
 * to a scratch file first.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], path[96];
    struct mqp_errors errs = {0};
    struct bridge_config *cfg = NULL;
    FILE *f;

    if (dir[0] == '\0') {
        strcpy(dir, "/tmp/mqp-fuzz-bridge-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(path, sizeof(path), "%s/bridge.json", dir);
        /* A token file that relative token_file values may name. */
        snprintf(path, sizeof(path), "%s/bridge.token", dir);
        f = fopen(path, "w");
        if (f == NULL)
            abort();
        fputs("a.b.c\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/bridge.json", dir);
    }
    f = fopen(path, "w");
    if (f == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    if (bridge_config_load(path, &cfg, &errs) == 0) {
        if (cfg == NULL || errs.n != 0 || cfg->listen_host == NULL || cfg->streams_file == NULL ||
            cfg->broker_token == NULL)
            abort();
        bridge_config_free(cfg);
    } else if (cfg != NULL || errs.n == 0) {
        abort(); /* a refusal always says why */
    }
    mqp_errors_clear(&errs);
    return 0;
}
