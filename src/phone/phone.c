/* phone: the blocking phone API on one UA; registration that blocks until the first answer (RFC 3261 10.2). */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include <sipcx/phone.h>

#include "phone/phone.h"
#include "ua/ua.h"

struct sipcx_phone {
	struct sipcx_ua *ua;
	struct sipcx_phone_opts opts;
	/* calls, answer handlers: later */
};

int sipcx_phone_new(struct sipcx_phone **out, struct sipcx_ua *ua,
                    const struct sipcx_phone_opts *opts)
{
	if (!out || !ua)
		return -EINVAL;
	struct sipcx_phone *p = sipcx_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ua = ua;
	if (opts)
		p->opts = *opts;
	*out = p;
	return 0;
}

void sipcx_phone_free(struct sipcx_phone *phone)
{
	sipcx_free(phone);
}

/* Is the first answer in? *err gets the outcome when it is. */
static bool settled(const struct sipcx_reg_info *info, unsigned flags, int *err)
{
	switch (info->state) {
	case SIPCX_REG_REGISTERED:
		*err = 0;
		return true;
	case SIPCX_REG_UNREGISTERED:
		*err = (flags & SIPCX_REG_UNREGISTER_ALL) ? 0 : SIPCX_ECLOSED;
		return true;
	case SIPCX_REG_FAILED:
		*err = info->err ? info->err : SIPCX_ESTATUS;
		return true;
	case SIPCX_REG_FAILING:
		/* Only with SIPCX_REG_RETRY_FIRST: keep waiting for a 2xx. */
		return false;
	default:
		return false;
	}
}

int sipcx_phone_register(struct sipcx_phone *phone, struct sipcx_ctx *ctx,
                         const struct sipcx_reg_opts *opts, struct sipcx_reg **out,
                         struct sipcx_reg_info *info)
{
	if (!phone || !opts || !out)
		return -EINVAL;
	int err = sipcx_ctx_err(ctx);
	if (err)
		return err;
	struct sipcx_reg *reg;
	err = sipcx_reg_new(&reg, phone->ua, opts);
	if (err)
		return err;
	int fd = sipcx__reg_fd(reg);
	struct sipcx_reg_info now;
	for (;;) {
		sipcx_reg_info(reg, &now);
		if (settled(&now, opts->flags, &err))
			break;
		err = sipcx__ctx_wait_fd(ctx, fd);
		if (err)
			break;
		uint64_t drain;
		ssize_t rd = read(fd, &drain, sizeof(drain));
		(void)rd; /* EAGAIN: another reader was first; the state says what happened */
	}
	if (info)
		sipcx_reg_info(reg, info);
	if (err) {
		sipcx_reg_free(reg);
		return err;
	}
	*out = reg;
	return 0;
}
