/*
 * Error messages into caller-provided buffers, the convention of every core function that takes
 * (char *err, size_t errlen): err may be NULL or errlen 0 (no message wanted), and a message
 * longer than the buffer is cut, never overflowed.
 */
#ifndef MQP_ERRMSG_H
#define MQP_ERRMSG_H

#include <stddef.h>

__attribute__((format(printf, 3, 4))) void mqp_errmsg(char *err, size_t errlen, const char *fmt,
                                                      ...);

#endif
