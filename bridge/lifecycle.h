/*
 * The daemon's life: bring every part up on one loop, reload the streams file on SIGHUP, and
 * on SIGTERM stop accepting, end the streams, leave the broker cleanly and release the store.
 */
#ifndef BRIDGE_LIFECYCLE_H
#define BRIDGE_LIFECYCLE_H

#include "bridge.h"

/*
 * Start b on loop with cfg (b takes ownership of cfg on success only): load the streams file,
 * open the store, start the hub, the broker link and the HTTP server, and watch SIGHUP,
 * SIGTERM and SIGINT. Returns 0, or -1 after logging why (b is then cleaned up).
 */
int bridge_start(struct bridge *b, uv_loop_t *loop, struct bridge_config *cfg);

/* Reload the streams file: a valid one replaces the model and ends the sessions it no longer
 * allows; an invalid one is refused with its errors logged. Returns 0 or -1. */
int bridge_reload(struct bridge *b);

/* Begin the orderly stop; the loop ends once everything is closed. */
void bridge_stop(struct bridge *b);

/* After uv_run() returned: free what is left. */
void bridge_cleanup(struct bridge *b);

#endif
