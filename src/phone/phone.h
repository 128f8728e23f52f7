/* phone: private helpers shared by the blocking API's files. */
#ifndef SIPCX__PHONE_H
#define SIPCX__PHONE_H

#include <sipcx/phone.h>

#include "base/base.h"

/*
 * Wait until fd is readable (returns 0) or ctx is done (its error). fd -1:
 * only ctx. ctx NULL: only fd. Interrupted system calls are retried.
 */
int sipcx__ctx_wait_fd(struct sipcx_ctx *ctx, int fd);

#endif
