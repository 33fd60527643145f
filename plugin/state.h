/*
 * The clients' rights across a broker restart (plugin_opt_state_file). Mosquitto restores
 * persistent sessions from its persistence file, but a session's client has not presented its
 * token to this process yet: without its rights, events published before it reconnects would be
 * refused at queue time and never reach its session. The table is written when the broker
 * stops (and every STATE_SAVE_S seconds while it changes) and read at start; a restored entry
 * grants its rights only to the offline session Mosquitto restored under that client id, until
 * the token expires or the client presents a new one.
 */
#ifndef MQP_PLUGIN_STATE_H
#define MQP_PLUGIN_STATE_H

#include <stdint.h>

#include "clients.h"
#include "config.h"

#define STATE_SAVE_S 30

/*
 * Write every entry of t to path (via path.tmp, mode 0600, then rename). 0, or -1 with errno
 * kept (the caller logs it).
 */
int mqp_state_save(const struct mqp_clients *t, const char *path);

/*
 * Read path into t under cfg, as offline, restored entries; those expired at now (seconds) are
 * skipped. Returns the number restored, 0 when the file does not exist, -1 when it is
 * unreadable or malformed (t then holds what was read before the error).
 */
int mqp_state_load(struct mqp_clients *t, const char *path, const struct mqp_config *cfg,
                   int64_t now);

#endif
