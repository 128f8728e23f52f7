/* sipcx load: real calls (dialogs, RTP) at a rate, or a registration storm; what they measured (RFC 3261, RFC 3550, RFC 6076). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <sipcx/sipcx.h>

#include "cli.h"

#define LOAD_EXIT_INTERRUPTED 130
#define LOAD_MAX_THREADS 64

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: sipcx load [OPTIONS] URI\n"
	    "Place real calls to URI at a rate (INVITE with SDP, 2xx, ACK, RTP both ways, BYE),\n"
	    "or register accounts (--register-only), and report what they measured.\n\n"
	    "  --rate N             calls (or registrations) started per second (default 10)\n"
	    "  --calls N            how many in all (default 100; with --accounts and\n"
	    "                       --register-only: one per account)\n"
	    "  --concurrent N       at most this many at once; the next waits (default 1000)\n"
	    "  --duration DUR       each call lasts this long after the answer, then BYE\n"
	    "                       (default 10s); --register-only: registered this long\n"
	    "  --ring-timeout DUR   no answer this long after the first 18x: CANCEL (default\n"
	    "                       60s; with no response at all the INVITE gives up at 32 s)\n"
	    "  --tone HZ            the tone each call sends (default 1000)\n"
	    "  --ptime MS           packet time asked in the offer and sent, 10 to 200 (default\n"
	    "                       20; a=ptime, RFC 4566): fewer packets a call\n"
	    "  --echo-check         the peer echoes (sipcx echo, sipp -rtp_echo): a call whose\n"
	    "                       tone does not come back fails (cause media)\n"
	    "  --no-media           signalling only: the SDP offer names one shared discard\n"
	    "                       port, a call opens no RTP socket, nothing is sent or counted\n"
	    "  --codec LIST         what we offer, in preference order: pcmu, pcma, g722, opus\n"
	    "                       (default: pcmu,pcma)\n"
	    "  --srtp MODE          off (default: plain RTP, the capacity measured), optional\n"
	    "                       or mandatory: SRTP with keys in the SDP, as sipcx dial\n"
	    "  --no-rtcp-mux        do not offer a=rtcp-mux (default: offered, RFC 5761; a call\n"
	    "                       whose answer takes it keeps one socket, RTP and RTCP)\n"
	    "  --username USER      digest user answering 401/407 (default: $SIP_USERNAME)\n"
	    "  --password PASS      digest password (default: $SIP_PASSWORD)\n"
	    "  --accounts FILE      accounts, one per line: user;password (SIPp -inf style; a\n"
	    "                       first line SEQUENTIAL or RANDOM is skipped); call n uses\n"
	    "                       account n modulo their number; [user] in URI becomes its user\n"
	    "  --register-only      register each account (REGISTER, digest), keep it refreshed\n"
	    "                       for --duration, unregister (Expires: 0); URI: the registrar\n"
	    "  --expiry SECONDS     --register-only: the expiry asked (default 3600)\n"
	    "  --transport udp|tcp|tls|ws|wss  transport (default: the URI's: sips or ;transport=, else udp)\n" CLI_TLS_HELP
	    "  --proxy ADDR         send the requests to this outbound proxy (udp:10.0.0.1:5060)\n"
	    "  --header 'N: v'      an extra header of each INVITE (repeatable)\n"
	    "  --threads N          engine loops, each with its own sockets and calls\n"
	    "                       (default: the number of cores)\n"
	    "  --rtp-ports MIN-MAX  the RTP port range (default 10000-20000: 5,000 calls)\n"
	    "  --max-failed PCT     exit 1 when more than PCT %% of the attempts failed (default 0)\n"
	    "  --csv FILE           one line per call (or registration) into FILE\n"
	    "  --merge FILE...      no calls: merge the --json summaries of several runs\n"
	    "  -q, --quiet          no progress line (it is drawn on a terminal only)\n" CLI_COMMON_HELP
	    "  -h, --help           this text\n\n"
	    "--json: a progress object every second, the summary last (docs/load.md).\n"
	    "DUR is a number with an optional unit: 250ms, 1.5s, 2 (seconds).\n"
	    "Exit: 0 failures within --max-failed; 1 more failed, or the target cannot be used;\n"
	    "      2 usage error; 130 interrupted (SIGINT/SIGTERM: the calls are hung up and\n"
	    "      the summary printed).\n");
}

static int bad(const char *what, const char *arg)
{
	return cli_usage("load", what, arg);
}

/* Why an attempt failed. */
enum cause {
	C_OK = 0,
	C_STATUS,    /* a failure status */
	C_TIMEOUT,   /* no final response in time */
	C_TRANSPORT, /* the request could not go out, or a connection broke */
	C_MEDIA,     /* --echo-check: the tone did not come back; or no SDP answer */
	C_AUTH,      /* credentials refused */
	C_LOCAL,     /* not started here: no RTP port, no file descriptor */
	C_STOPPED,   /* cut short by SIGINT/SIGTERM: not a failure */
	C_NCAUSE
};
static const char *const cause_names[C_NCAUSE] = { "ok",    "status", "timeout", "transport",
	                                           "media", "auth",   "local",   "stopped" };

/* One call or registration. */
struct rec {
	struct sipcx_call *call; /* while it lives (under load.lock) */
	struct sipcx_reg *reg;
	uint64_t start_us, ring_us, answer_us, end_us;
	uint64_t tx, rx;
	float loss_pct, jitter_ms, mos;
	int err;
	uint32_t attempt; /* its number in the schedule (which account, which loop) */
	uint16_t status;
	uint8_t cause;
	uint8_t pacer; /* the pacer that started it, whose share it counts in */
	bool done, answered, has_media, unreg_sent;
	char call_id[40];
};

/* One pacer thread per loop (at most --concurrent of them): attempt i is started by pacer
 * i % npacer, at its time in the schedule, within the pacer's share of --concurrent. */
struct pacer {
	pthread_t thread;
	unsigned id;
	unsigned long share; /* of --concurrent: the shares differ by one at most */
	atomic_ulong active; /* its attempts not over yet */
	atomic_bool waiting; /* for an ending call to free a slot of its share */
	int wake_fd;
	bool joinable;
};

struct load {
	const char *uri;
	struct sipcx_ua *ua[LOAD_MAX_THREADS];
	unsigned nua;
	struct rec *recs;
	unsigned long n;
	struct sipcx_dial_opts base;
	struct cli_account *acc;
	size_t nacc;
	bool echo_check, register_only, json, progress;
	uint32_t expiry_s, duration_ms;
	const char *proxy;
	enum sipcx_tp_proto transport;
	uint64_t t0, wall0_us;
	unsigned long rate;
	struct pacer pacer[LOAD_MAX_THREADS];
	unsigned npacer;
	atomic_uint pacing; /* pacers still running */
	atomic_bool halt;   /* SIGINT/SIGTERM: the pacers start nothing more */
	int wake_fd;        /* the main thread's: progress, expiries, the end */
	pthread_mutex_t lock;
	/* started: also the next record; the records of started attempts are L.recs[0, started) */
	atomic_ulong started, answered, ended, failed, stopped;
	atomic_ulong by_status[700];
	atomic_ulong by_cause[C_NCAUSE];
	atomic_bool stopping;
	unsigned long unreg_from; /* --register-only: the first not unregistered yet */
};

static struct load L;

static void wake(int fd)
{
	uint64_t one = 1;
	ssize_t w = write(fd, &one, sizeof(one));
	(void)w;
}

/* The attempts not over yet, every pacer's. */
static unsigned long active(void)
{
	unsigned long n = 0;
	for (unsigned p = 0; p < L.npacer; p++)
		n += atomic_load(&L.pacer[p].active);
	return n;
}

static enum cause cause_of(int err, uint16_t status)
{
	if (err == SIPCX_EAUTH)
		return C_AUTH;
	if (err == -ETIMEDOUT) /* also our CANCEL after --ring-timeout, answered 487 */
		return C_TIMEOUT;
	if (err == -ECANCELED || err == SIPCX_ECLOSED)
		return atomic_load(&L.stopping) ? C_STOPPED : C_LOCAL;
	if (status >= 300)
		return C_STATUS;
	if (err == SIPCX_ENOCODEC || err == -EPROTO)
		return C_MEDIA;
	return C_TRANSPORT;
}

/* An attempt is over: counted once, under its cause. */
static void finish(struct rec *r, enum cause c)
{
	r->cause = (uint8_t)c;
	if (c == C_STOPPED)
		atomic_fetch_add(&L.stopped, 1);
	else if (c != C_OK) {
		atomic_fetch_add(&L.failed, 1);
		/* The first of each cause but a status says why, once (the summary only counts). */
		if (atomic_fetch_add(&L.by_cause[c], 1) == 0 && c != C_STATUS && r->err)
			fprintf(stderr,
			        "sipcx load: an attempt failed (%s): %s; more are only counted\n",
			        cause_names[c], sipcx_strerror(r->err));
		if (r->status >= 300 && r->status < 700)
			atomic_fetch_add(&L.by_status[r->status], 1);
	}
	atomic_fetch_add(&L.ended, 1);
	struct pacer *p = &L.pacer[r->pacer];
	atomic_fetch_sub(&p->active, 1);
	if (atomic_exchange(&p->waiting, false)) /* its share was full: a slot is free */
		wake(p->wake_fd);
	if (!atomic_load(&L.pacing)) /* the main thread waits for the last */
		wake(L.wake_fd);
}

static void call_ended(struct sipcx_call *call, struct rec *r)
{
	struct sipcx_call_info in;
	struct sipcx_media_stats st;
	sipcx_call_info(call, &in);
	sipcx_call_stats(call, &st);
	r->start_us = in.start_us;
	r->ring_us = in.ringing_us;
	r->answer_us = in.answered_us;
	r->end_us = in.ended_us ? in.ended_us : sipcx_now_us();
	r->status = in.status;
	r->err = in.err;
	r->answered = in.answered_us != 0;
	snprintf(r->call_id, sizeof(r->call_id), "%.39s", in.call_id);
	r->tx = st.tx_packets;
	r->rx = st.rx_packets;
	r->has_media = r->answered && (st.tx_packets || st.rx_packets);
	struct cli_quality q;
	cli_call_quality(&st, &q);
	r->loss_pct = (float)q.loss_pct;
	r->jitter_ms = (float)q.jitter_ms;
	r->mos = (float)q.mos;
	enum cause c = C_OK;
	if (!r->answered)
		c = cause_of(in.err, in.status);
	else if (in.ended_by == SIPCX_CALL_END_ERROR && in.err)
		c = cause_of(in.err, 0);
	else if (L.echo_check && !cli_tone_ok(L.base.media.detect_hz, &in))
		c = C_MEDIA;
	pthread_mutex_lock(&L.lock);
	r->call = NULL;
	r->done = true;
	pthread_mutex_unlock(&L.lock);
	finish(r, c);
	sipcx_call_unref(call); /* the reference sipcx_call_dial() gave */
}

static void on_call_event(struct sipcx_call *call, const struct sipcx_call_event *ev, void *arg)
{
	if (ev->type == SIPCX_CALL_EV_ANSWERED)
		atomic_fetch_add(&L.answered, 1);
	else if (ev->type == SIPCX_CALL_EV_ENDED)
		call_ended(call, arg);
}

/* ---- registrations (--register-only) ---- */

static void on_reg(const struct sipcx_reg_info *in, void *arg)
{
	struct rec *r = arg;
	enum cause c = C_NCAUSE;
	pthread_mutex_lock(&L.lock);
	if (r->done) {
		pthread_mutex_unlock(&L.lock);
		return;
	}
	switch (in->state) {
	case SIPCX_REG_REGISTERED:
		if (!r->answered) {
			r->answered = true;
			r->answer_us = in->registered_us;
			r->status = in->status;
			snprintf(r->call_id, sizeof(r->call_id), "%.39s", in->call_id);
			atomic_fetch_add(&L.answered, 1);
			wake(L.wake_fd); /* its unregistration is now scheduled */
		}
		r->rx = in->refreshes;
		break;
	case SIPCX_REG_FAILING: /* a refresh failed: the registration failed, it retries */
		if (!r->err) {
			r->err = in->err ? in->err : SIPCX_ESTATUS;
			r->status = in->status;
		}
		break;
	case SIPCX_REG_FAILED: /* the first registration failed */
		r->err = in->err ? in->err : SIPCX_ESTATUS;
		r->status = in->status;
		snprintf(r->call_id, sizeof(r->call_id), "%.39s", in->call_id);
		c = cause_of(r->err, r->status);
		break;
	case SIPCX_REG_UNREGISTERED:
		if (r->answered && !in->err)
			r->tx = 1; /* the Expires: 0 was answered 2xx */
		c = r->err ? cause_of(r->err, r->status) : r->answered ? C_OK : C_STOPPED;
		break;
	default:
		break;
	}
	if (c != C_NCAUSE) {
		r->done = true;
		r->end_us = sipcx_now_us();
	}
	pthread_mutex_unlock(&L.lock);
	if (c != C_NCAUSE)
		finish(r, c);
}

/* ---- accounts ---- */

static void accounts_free(void)
{
	cli_accounts_free(L.acc, L.nacc);
	L.acc = NULL;
	L.nacc = 0;
}

/* uri with [user] replaced by the account's user, into buf. */
static const char *uri_for(const char *uri, const struct cli_account *a, char *buf, size_t n)
{
	const char *p = a ? strstr(uri, "[user]") : NULL;
	if (!p)
		return uri;
	snprintf(buf, n, "%.*s%s%s", (int)(p - uri), uri, a->user, p + 6);
	return buf;
}

/* ---- starting one ---- */

/* Attempt i, by pacer p: its record is the next one (so started ones stay a prefix). */
static void start_one(struct pacer *p, unsigned long i)
{
	struct sipcx_ua *ua = L.ua[i % L.nua];
	const struct cli_account *a = L.nacc ? &L.acc[i % L.nacc] : NULL;
	char ubuf[600];
	const char *uri = uri_for(L.uri, a, ubuf, sizeof(ubuf));
	atomic_fetch_add(&p->active, 1);
	struct rec *r = &L.recs[atomic_fetch_add(&L.started, 1)];
	r->attempt = (uint32_t)i;
	r->pacer = (uint8_t)p->id;
	r->start_us = sipcx_now_us();
	int err;
	if (L.register_only) {
		struct sipcx_reg_opts ro = {
			.registrar = uri,
			.username = a ? a->user : L.base.username,
			.password = a ? a->password : L.base.password,
			.dst = L.proxy,
			.transport = L.transport,
			.expires_s = L.expiry_s,
			.cb = on_reg,
			.arg = r,
		};
		struct sipcx_reg *reg = NULL;
		err = sipcx_reg_new(&reg, ua, &ro);
		if (!err) {
			pthread_mutex_lock(&L.lock);
			r->reg = reg;
			pthread_mutex_unlock(&L.lock);
			return;
		}
	} else {
		struct sipcx_dial_opts o = L.base;
		if (a) {
			o.username = a->user;
			o.password = a->password;
		}
		o.arg = r;
		struct sipcx_call *c = NULL;
		err = sipcx_call_dial(ua, uri, &o, &c);
		if (!err) {
			pthread_mutex_lock(&L.lock);
			if (!r->done)
				r->call = c; /* else ENDED came first and dropped it */
			pthread_mutex_unlock(&L.lock);
			return;
		}
	}
	if (cli_nofile_error(err))
		cli_nofile_reached("load");
	pthread_mutex_lock(&L.lock); /* the main thread reads it (regs_expire) */
	r->err = err;
	r->end_us = sipcx_now_us();
	r->done = true;
	pthread_mutex_unlock(&L.lock);
	finish(r, err == -EMFILE || err == -ENFILE || err == -EADDRINUSE || err == -ENOMEM
	              ? C_LOCAL
	              : cause_of(err, 0));
}

/* Registrations held for --duration: unregistered (Expires: 0) once it is over; all: now.
 * Returns when the next one is due (UINT64_MAX: none known yet). */
static uint64_t regs_expire(bool all)
{
	uint64_t now = sipcx_now_us(), next = UINT64_MAX;
	unsigned long n = atomic_load(&L.started);
	for (unsigned long i = L.unreg_from; i < n; i++) {
		struct rec *r = &L.recs[i];
		pthread_mutex_lock(&L.lock);
		struct sipcx_reg *reg = r->reg;
		bool live = reg && !r->done && !r->unreg_sent;
		uint64_t at = r->answer_us + (uint64_t)L.duration_ms * 1000u;
		bool due = live && (all || (r->answered && now >= at));
		if (due)
			r->unreg_sent = true;
		else if (live && r->answered && at < next)
			next = at;
		bool settled = r->unreg_sent || r->done;
		pthread_mutex_unlock(&L.lock);
		if (due && sipcx_reg_unregister(reg) != 0) {
			pthread_mutex_lock(&L.lock);
			bool was = r->done;
			r->done = true;
			pthread_mutex_unlock(&L.lock);
			if (!was)
				finish(r, C_STOPPED);
		}
		/* they expire in the order they were made: skip the settled head next time */
		if (i == L.unreg_from && settled)
			L.unreg_from++;
	}
	return next;
}

/* SIGINT/SIGTERM: hang up every live call (BYE, CANCEL). */
static void stop_all(void)
{
	atomic_store(&L.stopping, true);
	pthread_mutex_lock(&L.lock);
	for (unsigned long i = 0; i < atomic_load(&L.started); i++)
		if (L.recs[i].call)
			sipcx_call_end(L.recs[i].call, "SIP;cause=200;text=\"load stopped\"");
	pthread_mutex_unlock(&L.lock);
}

/* ---- progress and summary ---- */

static uint64_t retransmissions(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < L.nua; i++) {
		struct sipcx_ua_stats st;
		sipcx_ua_stats(L.ua[i], &st);
		n += st.retransmissions;
	}
	return n;
}

static void status_list(char *buf, size_t n)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned s = 300; s < 700 && o + 16 < n; s++) {
		unsigned long k = atomic_load(&L.by_status[s]);
		if (k)
			o += (size_t)snprintf(buf + o, n - o, "%s%u:%lu", o ? " " : "", s, k);
	}
	for (unsigned c = C_TIMEOUT; c < C_NCAUSE && o + 24 < n; c++) {
		unsigned long k = atomic_load(&L.by_cause[c]);
		if (k)
			o += (size_t)snprintf(buf + o, n - o, "%s%s:%lu", o ? " " : "",
			                      cause_names[c], k);
	}
}

static void progress(uint64_t now, unsigned long *last_started, uint64_t *last_us)
{
	unsigned long s = atomic_load(&L.started);
	double dt = (double)(now - *last_us) / 1e6;
	double rate = dt > 0 ? (double)(s - *last_started) / dt : 0;
	*last_started = s;
	*last_us = now;
	if (L.json) {
		struct cli_json j;
		cli_json_begin(&j, "progress");
		cli_json_raw(&j, "started", "%lu", s);
		cli_json_raw(&j, "active", "%lu", active());
		cli_json_raw(&j, "completed", "%lu", atomic_load(&L.ended));
		cli_json_raw(&j, "failed", "%lu", atomic_load(&L.failed));
		cli_json_num(&j, "rate", rate, 1);
		cli_json_raw(&j, "retransmissions", "%llu", (unsigned long long)retransmissions());
		cli_json_end(&j);
	}
	if (!L.progress)
		return;
	char fails[160];
	status_list(fails, sizeof(fails));
	fprintf(stderr,
	        "\r%7.1fs  %6.1f/s  started %lu  active %lu  completed %lu  failed %lu%s%s%s  "
	        "retrans %llu\033[K",
	        (double)(now - L.t0) / 1e6, rate, s, active(), atomic_load(&L.ended),
	        atomic_load(&L.failed), fails[0] ? " (" : "", fails, fails[0] ? ")" : "",
	        (unsigned long long)retransmissions());
	fflush(stderr);
}

/* One measure over the answered attempts, by field. */
enum measure { M_SETUP, M_PDD, M_LOSS, M_JITTER, M_MOS };

static struct cli_pct measure(enum measure m, double *v)
{
	size_t k = 0;
	unsigned long n = atomic_load(&L.started);
	for (unsigned long i = 0; i < n; i++) {
		const struct rec *r = &L.recs[i];
		if (!r->answered || !r->done)
			continue;
		switch (m) {
		case M_SETUP:
			v[k++] = (double)(r->answer_us - r->start_us) / 1e3;
			break;
		case M_PDD: /* post-dial delay (RFC 6076 4.1): to the first 18x, or the answer */
			v[k++] =
			    (double)((r->ring_us ? r->ring_us : r->answer_us) - r->start_us) / 1e3;
			break;
		case M_LOSS:
			if (r->has_media)
				v[k++] = r->loss_pct;
			break;
		case M_JITTER:
			if (r->has_media)
				v[k++] = r->jitter_ms;
			break;
		case M_MOS:
			if (r->has_media && r->rx)
				v[k++] = r->mos;
			break;
		}
	}
	return cli_pct_of(v, k);
}

/* How fast they were started: the first to the last. */
static double start_rate(unsigned long n)
{
	if (n < 2)
		return n;
	uint64_t span = L.recs[n - 1].start_us - L.recs[0].start_us;
	return span ? (double)(n - 1) * 1e6 / (double)span : 0;
}

static void summary(int exit_code, double secs)
{
	unsigned long n = atomic_load(&L.started);
	double *v = malloc((n ? n : 1) * sizeof(double));
	if (!v)
		return;
	struct cli_pct setup = measure(M_SETUP, v), pdd = measure(M_PDD, v),
	               loss = measure(M_LOSS, v), jit = measure(M_JITTER, v),
	               mos = measure(M_MOS, v);
	free(v);
	uint64_t tx = 0, rx = 0, refreshes = 0;
	unsigned long answered = 0;
	for (unsigned long i = 0; i < n; i++) {
		tx += L.recs[i].tx;
		rx += L.recs[i].rx;
		answered += L.recs[i].answered;
	}
	refreshes = rx;
	unsigned long failed = atomic_load(&L.failed), stopped = atomic_load(&L.stopped);
	const char *what = L.register_only ? "registrations" : "calls";
	if (L.json) {
		struct cli_json j;
		cli_json_begin(&j, "summary");
		cli_json_str(&j, "uri", L.uri);
		cli_json_str(&j, "kind", L.register_only ? "register" : "call");
		cli_json_raw(&j, "attempted", "%lu", n);
		cli_json_raw(&j, "answered", "%lu", answered);
		cli_json_raw(&j, "failed", "%lu", failed);
		cli_json_raw(&j, "stopped", "%lu", stopped);
		cli_json_num(&j, "duration_s", secs, 3);
		cli_json_num(&j, "rate", start_rate(n), 1);
		cli_json_raw(&j, "threads", "%u", L.nua);
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		sipcx_buf_append(&b, "{", 1);
		for (unsigned s = 300; s < 700; s++)
			if (atomic_load(&L.by_status[s]))
				sipcx_buf_printf(&b, "%s\"%u\":%lu", b.len > 1 ? "," : "", s,
				                 atomic_load(&L.by_status[s]));
		sipcx_buf_append(&b, "}", 1);
		cli_json_raw(&j, "failed_by_status", "%.*s", (int)b.len, b.p);
		b.len = 0;
		sipcx_buf_append(&b, "{", 1);
		for (unsigned c = C_STATUS; c < C_STOPPED; c++)
			if (atomic_load(&L.by_cause[c]))
				sipcx_buf_printf(&b, "%s\"%s\":%lu", b.len > 1 ? "," : "",
				                 cause_names[c], atomic_load(&L.by_cause[c]));
		sipcx_buf_append(&b, "}", 1);
		cli_json_raw(&j, "failed_by_cause", "%.*s", (int)b.len, b.p);
		sipcx_buf_free(&b);
		cli_json_pct(&j, L.register_only ? "register_ms" : "setup_ms", &setup, false);
		if (!L.register_only) {
			cli_json_pct(&j, "pdd_ms", &pdd, false);
			cli_json_raw(&j, "rtp", "{\"tx\":%llu,\"rx\":%llu}", (unsigned long long)tx,
			             (unsigned long long)rx);
			cli_json_pct(&j, "loss_pct", &loss, false);
			cli_json_pct(&j, "jitter_ms", &jit, false);
			cli_json_pct(&j, "mos", &mos, true);
		} else {
			cli_json_raw(&j, "refreshes", "%llu", (unsigned long long)refreshes);
			cli_json_raw(&j, "unregistered", "%llu", (unsigned long long)tx);
		}
		cli_json_raw(&j, "retransmissions", "%llu", (unsigned long long)retransmissions());
		cli_json_int(&j, "exit", exit_code);
		cli_json_end(&j);
		return;
	}
	printf("--- %s: %lu %s in %.1f s (started at %.1f/s), %u thread%s\n", L.uri, n, what, secs,
	       start_rate(n), L.nua, L.nua == 1 ? "" : "s");
	printf("attempted %lu  answered %lu  failed %lu", n, answered, failed);
	if (stopped)
		printf("  stopped %lu", stopped);
	printf("\n");
	if (failed) {
		char fails[256];
		status_list(fails, sizeof(fails));
		printf("failed by           %s\n", fails);
	}
	if (L.register_only) {
		cli_text_pct("register time", &setup, "ms", false);
		printf("%-18s %llu\n", "refreshes", (unsigned long long)refreshes);
		printf("%-18s %llu (Expires: 0 answered 2xx)\n", "unregistered",
		       (unsigned long long)tx);
	} else {
		cli_text_pct("setup time", &setup, "ms (INVITE to 2xx)", false);
		cli_text_pct("post-dial delay", &pdd, "ms (INVITE to 18x or 2xx)", false);
		printf("%-18s sent %llu  received %llu packets\n", "rtp", (unsigned long long)tx,
		       (unsigned long long)rx);
		cli_text_pct("loss", &loss, "%", false);
		cli_text_pct("jitter", &jit, "ms", false);
		cli_text_pct("MOS", &mos, "", true);
	}
	printf("%-18s %llu\n", "retransmissions", (unsigned long long)retransmissions());
	fflush(stdout);
}

static int write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sipcx load: cannot write --csv %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, L.register_only ? "n,call_id,start_ms,status,cause,register_ms,refreshes\n"
	                           : "n,call_id,start_ms,status,cause,setup_ms,pdd_ms,"
	                             "duration_ms,rtp_tx,rtp_rx,loss_pct,jitter_ms,mos\n");
	unsigned long n = atomic_load(&L.started);
	for (unsigned long i = 0; i < n; i++) {
		const struct rec *r = &L.recs[i];
		double start = (double)(L.wall0_us + (r->start_us - L.t0)) / 1e3;
		double setup = r->answered ? (double)(r->answer_us - r->start_us) / 1e3 : -1;
		if (L.register_only) {
			fprintf(f, "%lu,%s,%.3f,%u,%s,%.3f,%llu\n", r->attempt + 1ul, r->call_id,
			        start, r->status, cause_names[r->cause], setup,
			        (unsigned long long)r->rx);
			continue;
		}
		double pdd = r->ring_us     ? (double)(r->ring_us - r->start_us) / 1e3
		             : r->answer_us ? setup
		                            : -1;
		double dur = r->answered && r->end_us > r->answer_us
		                 ? (double)(r->end_us - r->answer_us) / 1e3
		                 : 0;
		fprintf(f, "%lu,%s,%.3f,%u,%s,%.3f,%.3f,%.3f,%llu,%llu,%.2f,%.3f,%.2f\n",
		        r->attempt + 1ul, r->call_id, start, r->status, cause_names[r->cause],
		        setup, pdd, dur, (unsigned long long)r->tx, (unsigned long long)r->rx,
		        r->loss_pct, r->jitter_ms, r->mos);
	}
	return fclose(f) ? -1 : 0;
}

/* ---- the run ---- */

/* Wait for fd (an eventfd), a signal, or until the deadline (sipcx_now_us()). */
static void wait_until(int fd, struct sipcx_ctx *sig, uint64_t deadline)
{
	uint64_t now = sipcx_now_us();
	int ms = deadline == UINT64_MAX ? -1
	         : deadline > now       ? (int)((deadline - now + 999) / 1000)
	                                : 0;
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
		               { .fd = sipcx_ctx_fd(sig), .events = POLLIN } };
	if (poll(p, sig ? 2 : 1, ms) > 0 && (p[0].revents & POLLIN)) {
		uint64_t v;
		ssize_t rd = read(fd, &v, sizeof(v));
		(void)rd;
	}
}

/* Catching up after a stall (a full share of --concurrent, a busy machine) is bounded: at most
 * this much of the schedule is started at once, then the rate resumes from where it is. */
#define LOAD_MAX_LAG_US 100000u

/* Attempts due together, started in one turn of their loop: one cross-thread call (and one
 * wake of the pacer) for all of them instead of one each. */
#define LOAD_BATCH 64
struct batch {
	struct pacer *p;
	unsigned n;
	unsigned long i[LOAD_BATCH];
};

static void start_batch(void *arg)
{
	struct batch *b = arg;
	for (unsigned k = 0; k < b->n; k++)
		start_one(b->p, b->i[k]);
}

static void flush(struct batch *b)
{
	if (!b->n)
		return;
	/* with a pacer per loop every attempt of this one goes to the same loop */
	if (L.npacer != L.nua || b->n == 1 || sipcx_ua_call(L.ua[b->i[0] % L.nua], start_batch, b))
		start_batch(b);
	b->n = 0;
}

/* A pacer: attempts id, id + npacer, ... each at i/rate after the start; its own share of
 * --concurrent full or early, it sleeps on its eventfd (an ending call or the main thread's
 * halt wakes it). It makes only the cross-thread call of starting them (those due together at
 * once): its loop does the rest. */
static void *pace(void *arg)
{
	struct pacer *p = arg;
	struct batch b = { .p = p };
	uint64_t base_us = L.t0; /* attempt base_i is due at base_us, the next every 1/rate s */
	unsigned long base_i = 0;
	for (unsigned long i = p->id; i < L.n; i += L.npacer) {
		uint64_t due = base_us + (uint64_t)((double)(i - base_i) * 1e6 / (double)L.rate);
		for (;;) {
			if (atomic_load(&L.halt))
				goto out;
			uint64_t now = sipcx_now_us();
			if (b.n && (now < due || atomic_load(&p->active) + b.n >= p->share))
				flush(&b); /* nothing more joins them now */
			bool room = atomic_load(&p->active) + b.n < p->share;
			if (!room) { /* say so before looking again: an ending call then wakes us */
				atomic_store(&p->waiting, true);
				room = atomic_load(&p->active) + b.n < p->share;
				if (room)
					atomic_store(&p->waiting, false);
			}
			if (room && now >= due) {
				if (now >
				    due + LOAD_MAX_LAG_US) { /* behind: no burst past the lag */
					base_us = now - LOAD_MAX_LAG_US;
					base_i = i;
				}
				break;
			}
			wait_until(p->wake_fd, NULL, room ? due : UINT64_MAX);
		}
		b.i[b.n++] = i;
		if (b.n == LOAD_BATCH)
			flush(&b);
	}
	flush(&b);
out:
	atomic_fetch_sub(&L.pacing, 1);
	wake(L.wake_fd);
	return NULL;
}

/* No attempt starts after this returns. */
static void pacers_stop(void)
{
	atomic_store(&L.halt, true);
	for (unsigned p = 0; p < L.npacer; p++)
		wake(L.pacer[p].wake_fd);
	for (unsigned p = 0; p < L.npacer; p++)
		if (L.pacer[p].joinable) {
			pthread_join(L.pacer[p].thread, NULL);
			L.pacer[p].joinable = false;
		}
}

/* Start the pacers: one per loop, at most one per slot of --concurrent. */
static int pacers_start(unsigned long concurrent)
{
	L.npacer = L.nua < concurrent ? L.nua : (unsigned)concurrent;
	for (unsigned p = 0; p < L.npacer; p++)
		L.pacer[p].wake_fd = -1;
	for (unsigned p = 0; p < L.npacer; p++) {
		L.pacer[p].id = p;
		L.pacer[p].share = concurrent / L.npacer + (p < concurrent % L.npacer);
		L.pacer[p].wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (L.pacer[p].wake_fd < 0)
			return -errno;
	}
	atomic_store(&L.pacing, L.npacer);
	for (unsigned p = 0; p < L.npacer; p++) {
		int err = pthread_create(&L.pacer[p].thread, NULL, pace, &L.pacer[p]);
		if (err) {
			atomic_fetch_sub(&L.pacing, L.npacer - p);
			pacers_stop();
			return -err;
		}
		L.pacer[p].joinable = true;
	}
	return 0;
}

static void pacers_free(void)
{
	for (unsigned p = 0; p < L.npacer; p++)
		if (L.pacer[p].wake_fd >= 0)
			close(L.pacer[p].wake_fd);
}

/* The main thread: progress each second, --register-only expiries, signals; returns when
 * every attempt is over (or 40 s after a signal). 1: interrupted, <0: no pacer thread. */
static int run(struct sipcx_ctx *sig, unsigned long concurrent)
{
	uint64_t tick = L.t0 + 1000000, last_us = L.t0;
	unsigned long last_started = 0;
	bool interrupted = false;
	int err = pacers_start(concurrent);
	if (err)
		return err;
	/* Every attempt ends by itself (its duration, its transaction's timers). */
	uint64_t stop_deadline = 0;
	while (atomic_load(&L.pacing) > 0 || active() > 0) {
		if (sipcx_ctx_err(sig) && !stop_deadline) {
			interrupted = true;
			pacers_stop();
			stop_deadline = sipcx_now_us() + 40000000; /* a BYE's 64*T1, and some */
			if (L.register_only)
				regs_expire(true);
			else
				stop_all();
		}
		uint64_t now = sipcx_now_us();
		if (stop_deadline && now > stop_deadline)
			break;
		if (now >= tick) {
			progress(now, &last_started, &last_us);
			tick += 1000000;
		}
		uint64_t next_reg = L.register_only ? regs_expire(false) : UINT64_MAX;
		wait_until(L.wake_fd, stop_deadline ? NULL : sig,
		           next_reg < tick ? next_reg : tick);
	}
	pacers_stop();
	if (L.progress)
		fprintf(stderr, "\n");
	return interrupted;
}

/* ---- --merge: the summaries of several runs as one ---- */

/* The number after "key": in the JSON object line (0 when absent). */
static double jnum(const char *line, const char *obj, const char *key)
{
	const char *p = line;
	char k[64];
	if (obj) {
		snprintf(k, sizeof(k), "\"%s\":{", obj);
		p = strstr(line, k);
		if (!p)
			return 0;
	}
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *end = obj ? strchr(p, '}') : NULL;
	p = strstr(p, k);
	if (!p || (end && p > end))
		return 0;
	return strtod(p + strlen(k), NULL);
}

/* Add the "k":n pairs of the object obj in line into the table (keys as given). */
struct kv {
	char k[16];
	double v;
};
static void jdict_add(const char *line, const char *obj, struct kv *t, size_t *n, size_t cap)
{
	char key[64];
	snprintf(key, sizeof(key), "\"%s\":{", obj);
	const char *p = strstr(line, key);
	if (!p)
		return;
	p += strlen(key);
	while (*p == '"') {
		const char *q = strchr(p + 1, '"');
		if (!q || q[1] != ':' || (size_t)(q - p - 1) >= sizeof(t->k))
			return;
		char *e;
		double v = strtod(q + 2, &e);
		size_t i = 0;
		while (i < *n && (strlen(t[i].k) != (size_t)(q - p - 1) ||
		                  strncmp(t[i].k, p + 1, (size_t)(q - p - 1))))
			i++;
		if (i == *n) {
			if (*n == cap)
				return;
			snprintf(t[i].k, sizeof(t[i].k), "%.*s", (int)(q - p - 1), p + 1);
			t[i].v = 0;
			(*n)++;
		}
		t[i].v += v;
		p = *e == ',' ? e + 1 : e;
	}
}

static void kv_print(struct sipcx_buf *b, const struct kv *t, size_t n)
{
	sipcx_buf_append(b, "{", 1);
	for (size_t i = 0; i < n; i++)
		sipcx_buf_printf(b, "%s\"%s\":%.0f", i ? "," : "", t[i].k, t[i].v);
	sipcx_buf_append(b, "}", 1);
}

static int load_merge(int nfiles, char **files, bool json)
{
	double att = 0, ans = 0, fail = 0, stopped = 0, secs = 0, rate = 0, retx = 0, tx = 0,
	       rx = 0;
	/* percentiles do not add up: the worst run's tail, and the p50s weighted by answers */
	double p50w = 0, p90 = 0, p99 = 0, pmax = 0;
	struct kv st[64], ca[16];
	size_t nst = 0, nca = 0;
	for (int i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");
		if (!f) {
			fprintf(stderr, "sipcx load: cannot read %s: %s\n", files[i],
			        strerror(errno));
			return CLI_EXIT_USAGE;
		}
		char line[8192], last[8192] = "";
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "\"event\":\"summary\"") && strstr(line, "\"attempted\":"))
				snprintf(last, sizeof(last), "%s", line);
		fclose(f);
		if (!last[0]) {
			fprintf(stderr, "sipcx load: %s has no summary of sipcx load --json\n",
			        files[i]);
			return CLI_EXIT_USAGE;
		}
		double a = jnum(last, NULL, "answered");
		att += jnum(last, NULL, "attempted");
		ans += a;
		fail += jnum(last, NULL, "failed");
		stopped += jnum(last, NULL, "stopped");
		rate += jnum(last, NULL, "rate");
		retx += jnum(last, NULL, "retransmissions");
		tx += jnum(last, "rtp", "tx");
		rx += jnum(last, "rtp", "rx");
		double d = jnum(last, NULL, "duration_s");
		secs = d > secs ? d : secs;
		const char *m = strstr(last, "\"register_ms\":") ? "register_ms" : "setup_ms";
		p50w += a * jnum(last, m, "p50");
		double v;
		if ((v = jnum(last, m, "p90")) > p90)
			p90 = v;
		if ((v = jnum(last, m, "p99")) > p99)
			p99 = v;
		if ((v = jnum(last, m, "max")) > pmax)
			pmax = v;
		jdict_add(last, "failed_by_status", st, &nst, 64);
		jdict_add(last, "failed_by_cause", ca, &nca, 16);
	}
	if (json) {
		struct cli_json j;
		struct sipcx_buf b;
		sipcx_buf_init(&b);
		cli_json_begin(&j, "summary");
		cli_json_int(&j, "runs", nfiles);
		cli_json_num(&j, "attempted", att, 0);
		cli_json_num(&j, "answered", ans, 0);
		cli_json_num(&j, "failed", fail, 0);
		cli_json_num(&j, "stopped", stopped, 0);
		cli_json_num(&j, "duration_s", secs, 3);
		cli_json_num(&j, "rate", rate, 1);
		kv_print(&b, st, nst);
		cli_json_raw(&j, "failed_by_status", "%.*s", (int)b.len, b.p);
		b.len = 0;
		kv_print(&b, ca, nca);
		cli_json_raw(&j, "failed_by_cause", "%.*s", (int)b.len, b.p);
		sipcx_buf_free(&b);
		cli_json_raw(&j, "setup_ms",
		             "{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
		             ans > 0 ? p50w / ans : 0, p90, p99, pmax);
		cli_json_raw(&j, "rtp", "{\"tx\":%.0f,\"rx\":%.0f}", tx, rx);
		cli_json_num(&j, "retransmissions", retx, 0);
		cli_json_end(&j);
	} else {
		printf("--- %d runs: %.0f attempted in %.1f s (%.1f/s together)\n", nfiles, att,
		       secs, rate);
		printf("attempted %.0f  answered %.0f  failed %.0f", att, ans, fail);
		if (stopped)
			printf("  stopped %.0f", stopped);
		printf("\n");
		for (size_t i = 0; i < nst; i++)
			printf("failed %s: %.0f\n", st[i].k, st[i].v);
		for (size_t i = 0; i < nca; i++)
			printf("failed by %s: %.0f\n", ca[i].k, ca[i].v);
		printf("%-18s p50 %.3f (mean of the runs')  p90 %.3f  p99 %.3f  max %.3f ms "
		       "(the worst run's)\n",
		       "setup time", ans > 0 ? p50w / ans : 0, p90, p99, pmax);
		printf("%-18s sent %.0f  received %.0f packets\n", "rtp", tx, rx);
		printf("%-18s %.0f\n", "retransmissions", retx);
	}
	return fail > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_load(int argc, char **argv)
{
	const char *username = getenv("SIP_USERNAME"), *password = getenv("SIP_PASSWORD");
	const char *accounts = NULL, *csv = NULL, *proxy = NULL;
	unsigned long rate = 10, calls = 0, concurrent = 1000, tone = 1000, ptime = 0,
	              expiry = 3600, threads = 0;
	uint64_t duration_us = 10000000, ring_us = 60000000;
	bool echo_check = false, no_media = false, register_only = false, quiet = false,
	     merge = false;
	double max_failed = 0;
	enum sipcx_tp_proto transport = SIPCX_TP_NONE;
	struct cli_tls tls = { 0 };
	struct cli_headers hs = { 0 };
	struct cli_codecs cs = { 0 };
	struct cli_ports ports = { 0, 0 };
	if (username && !*username)
		username = NULL;
	struct cli_common cc;
	int srtp = SIPCX_SRTP_OFF; /* load measures plain RTP unless asked */
	bool no_rtcp_mux = false;
	const struct cli_opt opts[] = {
		CLI_OPT_UINT("rate", &rate, "bad --rate (per second, 1 to 100000)", 1, 100000),
		CLI_OPT_UINT("calls", &calls, "bad --calls (1 to 100000000)", 1, 100000000),
		CLI_OPT_UINT("concurrent", &concurrent, "bad --concurrent (1 to 1000000)", 1,
		             1000000),
		CLI_OPT_DUR("duration", &duration_us, "bad --duration (at most a day)", 0,
		            86400000000ULL),
		CLI_OPT_DUR("ring-timeout", &ring_us, "bad --ring-timeout", 1000, 86400000000ULL),
		CLI_OPT_UINT("tone", &tone, "bad --tone (50 to 3900 Hz)", 50, 3900),
		CLI_OPT_UINT("ptime", &ptime, "bad --ptime (10 to 200 ms)", 10, 200),
		CLI_OPT_FLAG("echo-check", &echo_check),
		CLI_OPT_FLAG("no-media", &no_media),
		CLI_OPT_FN("codec", &cs, cli_parse_codecs, CLI_CODEC_ERR),
		CLI_OPT_FN("srtp", &srtp, cli_parse_srtp,
		           "bad --srtp (off, optional or mandatory)"),
		CLI_OPT_FLAG("no-rtcp-mux", &no_rtcp_mux),
		CLI_OPT_STR("username", &username),
		CLI_OPT_STR("password", &password),
		CLI_OPT_STR("accounts", &accounts),
		CLI_OPT_FLAG("register-only", &register_only),
		CLI_OPT_UINT("expiry", &expiry, "bad --expiry (seconds, 1 to 86400)", 1, 86400),
		CLI_OPT_PROTO("transport", &transport),
		CLI_TLS_OPTS(&tls),
		CLI_OPT_STR("proxy", &proxy),
		CLI_OPT_FN("header", &hs, cli_parse_header,
		           "bad --header (\"Name: value\", at most 16)"),
		CLI_OPT_UINT("threads", &threads, "bad --threads (1 to 64)", 1, LOAD_MAX_THREADS),
		CLI_OPT_FN("rtp-ports", &ports, cli_parse_ports,
		           "bad --rtp-ports (MIN-MAX, 1024 to 65534)"),
		CLI_OPT_PCT("max-failed", &max_failed, "bad --max-failed (a percentage, 0 to 100)"),
		CLI_OPT_STR("csv", &csv),
		CLI_OPT_FLAG("merge", &merge),
		{ .name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .dst = &quiet },
		CLI_OPT_END,
	};
	int argi, rc = cli_parse("load", argc, argv, opts, &cc, usage, &argi);
	if (rc >= 0)
		return rc;
	if (merge) {
		if (argi >= argc)
			return bad("--merge needs the files of --json runs", NULL);
		rc = cli_observe_start("load", &cc);
		return rc >= 0 ? rc : load_merge(argc - argi, argv + argi, cc.json);
	}
	if (argi != argc - 1)
		return bad(argi >= argc ? "missing URI" : "expected one URI, got more", NULL);
	const char *uri = argv[argi];
	struct sipcx_uri u;
	char probe[600];
	struct cli_account dummy = { .user = "u" };
	const char *probe_uri = uri_for(uri, &dummy, probe, sizeof(probe));
	if (sipcx_uri_parse(&u, sipcx_str_c(probe_uri)) != 0 ||
	    (u.scheme != SIPCX_URI_SIP && u.scheme != SIPCX_URI_SIPS))
		return bad("not a sip: URI:", uri);
	if (password && !username)
		return bad("--password without --username", NULL);
	if (echo_check && no_media)
		return bad("--echo-check needs the media: not with --no-media", NULL);
	if (register_only && (echo_check || no_media))
		return bad("--register-only places no call: no --echo-check or --no-media", NULL);
	if (register_only && !username && !accounts)
		return bad("--register-only needs --username or --accounts", NULL);
	struct sipcx_tp_addr pa;
	if (proxy && sipcx_tp_addr_parse(&pa, proxy) != 0)
		return bad("bad --proxy (e.g. udp:127.0.0.1:5060)", proxy);
	memset(&L, 0, sizeof(L));
	if (accounts &&
	    (rc = cli_accounts_read("load", "--accounts", accounts, &L.acc, &L.nacc)) >= 0) {
		accounts_free();
		return rc;
	}
	if (!calls)
		calls = register_only && L.nacc ? L.nacc : 100;
	if (!threads) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		threads = nc < 1 ? 1 : nc > LOAD_MAX_THREADS ? LOAD_MAX_THREADS : (unsigned long)nc;
	}
	if (threads > calls)
		threads = calls;
	/* Every loop its own sockets on port 0, TLS among them for sips: (one connection a loop). */
	bool v6 = proxy ? pa.sa.sa.sa_family == AF_INET6 : u.host_ipv6;
	const char *listen = cli_client_listen(
	    v6, cli_uri_tls(probe_uri, transport) ||
	            (proxy && (pa.proto == SIPCX_TP_TLS || pa.proto == SIPCX_TP_WSS)));
	struct sipcx_ua_opts uo_all = { .listen = listen, .user = username };
	if ((rc = cli_tls_apply("load", &tls, listen, false, &uo_all)) >= 0) {
		accounts_free();
		return rc;
	}
	rc = cli_observe_start("load", &cc);
	if (rc >= 0) {
		accounts_free();
		return rc;
	}
	cli_raise_nofile(2 * (concurrent < calls ? concurrent : calls) + 16 * threads + 64);

	struct sipcx_hdr hdrs[CLI_MAX_HEADERS];
	struct sipcx_sdp_codec codecs[8];
	L.uri = uri;
	L.n = calls;
	L.json = cc.json;
	L.progress = !quiet && isatty(STDERR_FILENO);
	L.echo_check = echo_check;
	L.register_only = register_only;
	L.expiry_s = (uint32_t)expiry;
	L.duration_ms = cli_ms(duration_us);
	L.proxy = proxy;
	L.transport = transport;
	L.base = (struct sipcx_dial_opts){
		.username = username,
		.password = username ? (password ? password : "") : NULL,
		.hdrs = hdrs,
		.nhdrs = cli_headers_get(&hs, hdrs),
		.transport = transport,
		.proxy = proxy,
		.ring_timeout_ms = cli_ms(ring_us),
		.hangup_ms = cli_ms(duration_us) ? cli_ms(duration_us) : 1,
		.media = {
			.codecs = codecs,
			.ncodecs = cli_codecs_get(&cs, codecs),
			.handler = no_media ? SIPCX_MEDIA_NONE : SIPCX_MEDIA_TONE,
			.tone_hz = (unsigned)tone,
			.detect_hz = echo_check ? (unsigned)tone : 0,
			.port_min = ports.min,
			.port_max = ports.max,
			.debug = cli_env_flag("RTP_DEBUG"),
			.srtp = (enum sipcx_srtp_mode)srtp,
			.sdp_only = no_media,
			.no_rtcp_mux = no_rtcp_mux,
			.ptime = (unsigned)ptime,
		},
		.cb = on_call_event,
	};
	pthread_mutex_init(&L.lock, NULL);
	L.recs = calloc(calls, sizeof(*L.recs));
	L.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct sipcx_ctx *sig = NULL;
	int exit_code = CLI_EXIT_FAIL;
	if (!L.recs || L.wake_fd < 0 || sipcx_ctx_new(&sig, NULL, 0)) {
		fprintf(stderr, "sipcx load: out of memory\n");
		goto out;
	}
	for (L.nua = 0; L.nua < threads; L.nua++) {
		struct sipcx_ua_opts uo = uo_all;
		int r = sipcx_ua_new(&L.ua[L.nua], &uo);
		if (r) {
			fprintf(stderr, "sipcx load: cannot listen on %s: %s\n", listen,
			        sipcx_strerror(r));
			goto out;
		}
	}
	cli_cancel_on_signals(sig);
	L.t0 = sipcx_now_us();
	struct timeval tv;
	gettimeofday(&tv, NULL);
	L.wall0_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	L.rate = rate;
	int interrupted = run(sig, concurrent);
	double secs = (double)(sipcx_now_us() - L.t0) / 1e6;
	cli_cancel_on_signals(NULL);
	if (interrupted < 0) {
		fprintf(stderr, "sipcx load: cannot start the pacer threads: %s\n",
		        sipcx_strerror(interrupted));
		goto out;
	}
	unsigned long n = atomic_load(&L.started), failed = atomic_load(&L.failed);
	exit_code = interrupted                                            ? LOAD_EXIT_INTERRUPTED
	            : n && 100.0 * (double)failed / (double)n > max_failed ? CLI_EXIT_FAIL
	            : n == 0                                               ? CLI_EXIT_FAIL
	                                                                   : CLI_EXIT_OK;
	if (csv && write_csv(csv) && exit_code == CLI_EXIT_OK)
		exit_code = CLI_EXIT_FAIL;
	summary(exit_code, secs);
out:
	for (unsigned long i = 0; L.recs && i < atomic_load(&L.started); i++)
		sipcx_reg_free(L.recs[i].reg);
	for (unsigned i = 0; i < L.nua; i++)
		sipcx_ua_free(L.ua[i]);
	sipcx_ctx_free(sig);
	pacers_free();
	if (L.wake_fd >= 0)
		close(L.wake_fd);
	free(L.recs);
	accounts_free();
	pthread_mutex_destroy(&L.lock);
	return exit_code;
}
