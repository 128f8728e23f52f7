/* sipcx CLI: the descriptor limit (RLIMIT_NOFILE) raised for commands that hold many calls, and the one line when it is reached. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

/* What the kernel lets a hard limit reach (fs.nr_open); 1,048,576 when it cannot be read. */
static rlim_t nr_open(void)
{
	unsigned long v = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? (rlim_t)v : (rlim_t)1 << 20;
}

unsigned long cli_raise_nofile(unsigned long need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	rlim_t want = need > (1ul << 20) ? (rlim_t)1 << 20 : (rlim_t)need;
	rlim_t top = nr_open();
	if (want > top)
		want = top;
	/* Past the hard limit: only a privileged process (CAP_SYS_RESOURCE, root) may. */
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
		struct rlimit more = { want, want };
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return (unsigned long)want;
	}
	/* The soft limit up to the hard one: anyone may. */
	if (rl.rlim_cur != rl.rlim_max) {
		struct rlimit soft = { rl.rlim_max, rl.rlim_max };
		if (soft.rlim_cur == RLIM_INFINITY || soft.rlim_cur > top)
			soft.rlim_cur = top;
		if (setrlimit(RLIMIT_NOFILE, &soft) == 0)
			rl.rlim_cur = soft.rlim_cur;
	}
	return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)top : (unsigned long)rl.rlim_cur;
}

bool cli_nofile_error(int err)
{
	return err == -EMFILE || err == -ENFILE;
}

void cli_nofile_reached(const char *cmd)
{
	static atomic_bool said;
	if (atomic_exchange(&said, true))
		return;
	struct rlimit rl = { 0, 0 };
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(stderr,
	        "sipcx %s: out of file descriptors (RLIMIT_NOFILE %llu, hard %llu): new calls fail "
	        "(%s) until calls end; one a call (two without rtcp-mux): raise it (ulimit -n, or "
	        "as root)\n",
	        cmd, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
	        strcmp(cmd, "load") ? "answered 503" : "cause local");
}
