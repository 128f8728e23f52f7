/* sipcx CLI: subcommand table and shared exit codes (docs/cli.md). */
#ifndef SIPCX_CLI_H
#define SIPCX_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by every subcommand. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,    /* the job failed: bad message, failure status, ... */
	CLI_EXIT_USAGE = 2,   /* bad argument or environment value */
	CLI_EXIT_TIMEOUT = 3, /* no answer in time (a probe's timeout, Timer B/F) */
	CLI_EXIT_AUTH = 4,    /* credentials refused (sipcx register) */
};

/* The kinds of value an option takes (struct cli_opt). */
enum cli_kind {
	CLI_FLAG, /* bool *: set to true */
	CLI_STR,  /* const char **: the argument as given */
	CLI_DUR, /* uint64_t *: microseconds ("250ms", "1.5s", "2"), within [min, max] (max 0: none) */
	CLI_UINT,  /* unsigned long *: a whole number within [min, max] */
	CLI_PROTO, /* enum sipcx_tp_proto *: udp, tcp or tls */
	CLI_PCT,   /* double *: a percentage, 0 to 100 */
	CLI_FN,    /* fn(arg, dst): 0, or the value is refused */
};

/* One option of a command's table; the table ends with a zeroed entry. */
struct cli_opt {
	const char *name; /* long name, without "--" */
	int short_name;   /* 'q', ...; 0: none */
	enum cli_kind kind;
	void *dst;
	const char
	    *bad; /* the usage line when the value is refused: "bad --expiry (seconds, from 1)" */
	uint64_t min, max;
	int (*fn)(const char *arg, void *dst);
};

/* Table entries, one line each. */
#define CLI_OPT_FLAG(n, d)                                \
	{                                                 \
		.name = (n), .kind = CLI_FLAG, .dst = (d) \
	}
#define CLI_OPT_STR(n, d)                                \
	{                                                \
		.name = (n), .kind = CLI_STR, .dst = (d) \
	}
#define CLI_OPT_PROTO(n, d)                                   \
	{                                                     \
		.name = (n), .kind = CLI_PROTO, .dst = (d),   \
		.bad = "--" n " must be udp, tcp or tls, not" \
	}
#define CLI_OPT_DUR(n, d, b, lo, hi)                                                           \
	{                                                                                      \
		.name = (n), .kind = CLI_DUR, .dst = (d), .bad = (b), .min = (lo), .max = (hi) \
	}
#define CLI_OPT_UINT(n, d, b, lo, hi)                                                           \
	{                                                                                       \
		.name = (n), .kind = CLI_UINT, .dst = (d), .bad = (b), .min = (lo), .max = (hi) \
	}
#define CLI_OPT_PCT(n, d, b)                                         \
	{                                                            \
		.name = (n), .kind = CLI_PCT, .dst = (d), .bad = (b) \
	}
#define CLI_OPT_FN(n, d, f, b)                                                 \
	{                                                                      \
		.name = (n), .kind = CLI_FN, .dst = (d), .fn = (f), .bad = (b) \
	}
#define CLI_OPT_END          \
	{                    \
		.name = NULL \
	}

/*
 * What every command takes: -v/--verbose, --trace (or SIP_DEBUG=1), --json,
 * --pcap FILE, --hep SPEC, --ladder, --mermaid FILE, --junit FILE, -h/--help
 * (docs/monitoring.md, docs/json.md).
 */
struct cli_common {
	bool verbose;
	bool trace;
	bool json;
	bool ladder;
	const char *pcap, *hep, *mermaid, *junit;
};

/* The usage lines of the common options, for each command's --help. */
#define CLI_COMMON_HELP                                                                           \
	"  -v, --verbose        the library's log on stderr\n"                                    \
	"  --trace              every SIP message on stderr (also SIP_DEBUG=1)\n"                 \
	"  --json               one JSON object per line for every event (docs/json.md)\n"        \
	"  --pcap FILE          write the SIP, RTP and RTCP sent and received as a pcap\n"        \
	"  --hep udp:HOST:PORT[;id=N][;password=P]  copy every SIP message to a HEP3 collector\n" \
	"  --ladder             draw the messages as a ladder when done\n"                        \
	"  --mermaid FILE       write the same as a Mermaid sequence diagram\n"                   \
	"  --junit FILE         write the result as JUnit XML\n"

/*
 * Set up what the common options ask for (log, wire trace, pcap, HEP, ladder,
 * JUnit). Returns -1 when the command goes on, else the exit code after one
 * line on stderr (a --hep or --pcap value that cannot be used: 2).
 */
int cli_observe_start(const char *cmd, const struct cli_common *c);
/* At the command's end (main calls it): close the pcap, print the ladder, write the files. */
int cli_observe_end(int exit_code);
/* --json was given; seconds since the command started. */
bool cli_json_on(void);
double cli_since(void);

/* One JSON event line: {"event":NAME,"ts":UNIX,"t":SECONDS, ...} (docs/json.md). */
#include <sipcx/base.h>
struct cli_json {
	struct sipcx_buf b;
};
void cli_json_begin(struct cli_json *j, const char *event);
void cli_json_str(struct cli_json *j, const char *key, const char *v);
void cli_json_strn(struct cli_json *j, const char *key, const char *v, size_t n);
void cli_json_int(struct cli_json *j, const char *key, long long v);
void cli_json_num(struct cli_json *j, const char *key, double v, int decimals);
void cli_json_bool(struct cli_json *j, const char *key, bool v);
void cli_json_raw(struct cli_json *j, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Printed as one line on stdout (lines of several threads never mix). */
void cli_json_end(struct cli_json *j);

struct sipcx_call;
struct sipcx_call_event;
struct sipcx_call_info;
struct sipcx_media_stats;
/* A call's state change as a JSON line: ringing, answered, established, media, hangup. */
void cli_json_call_event(unsigned idx, struct sipcx_call *call, const struct sipcx_call_event *ev);
/* Loss, jitter, round trip and the E-model MOS of a call's media. */
struct cli_quality {
	double loss_pct, jitter_ms, rtt_ms, mos;
};
void cli_call_quality(const struct sipcx_media_stats *st, struct cli_quality *q);
/* The final "call" line; extra_json (e.g. the echo check's object) under extra_key. */
void cli_json_call_summary(unsigned idx, const struct sipcx_call_info *in,
                           const struct sipcx_media_stats *st, int err, int exit_code,
                           const char *extra_key, const char *extra_json);
/* Percentiles of one measure (stats.c): p50, p90, p99, max; and the low end p10, p1, min. */
struct cli_pct {
	double p50, p90, p99, max, min, p1, p10;
	size_t n; /* samples; 0: none (nothing is printed) */
};
/* Of the n values in v (sorted in place). */
struct cli_pct cli_pct_of(double *v, size_t n);
/*
 * Under key: {"p50","p90","p99","max"} (3 decimals), or with low (MOS: the bad end matters)
 * {"p50","p10","p1","min"} (2 decimals); nothing when p has no samples.
 */
void cli_json_pct(struct cli_json *j, const char *key, const struct cli_pct *p, bool low);
/* The same as one line of a text summary: the name in 18 columns, unit after the high end. */
void cli_text_pct(const char *name, const struct cli_pct *p, const char *unit, bool low);
/*
 * Samples of several measures (0 .. nmeasures-1) for their percentiles: each keeps at most
 * CLI_STATS_MAX values, the later ones by reservoir sampling (each of the n seen is kept
 * with the same chance), so a long run's memory stays bounded; min and max stay exact. Not
 * thread-safe.
 */
#define CLI_STATS_MAX 1000000
struct cli_stats;
/* 0, or -ENOMEM (*out untouched). */
int cli_stats_new(struct cli_stats **out, size_t nmeasures);
/* One sample (out of memory: dropped). */
void cli_stats_add(struct cli_stats *s, size_t measure, double v);
/* The percentiles of one measure's samples (sorts them). */
struct cli_pct cli_stats_pct(struct cli_stats *s, size_t measure);
void cli_stats_free(struct cli_stats *s);

/* Account files (accounts.c): one user;password (or user,password) a line, as SIPp's -inf;
 * a first line SEQUENTIAL, RANDOM or USER and lines starting with # are skipped. */
#define CLI_MAX_ACCOUNTS 1000000
struct cli_account {
	char *user, *password;
};
/* -1 and *out, *n (free with cli_accounts_free) on success; otherwise the exit code after
 * one line on stderr naming "sipcx CMD", the option, the file and the line. */
int cli_accounts_read(const char *cmd, const char *opt, const char *path, struct cli_account **out,
                      size_t *n);
void cli_accounts_free(struct cli_account *acc, size_t n);

/* --dtmf-mode rfc4733|info (an int: enum sipcx_dtmf_mode); --dtmf/--expect-dtmf DIGITS. */
int cli_parse_dtmf_mode(const char *arg, void *dst);
int cli_parse_digits(const char *arg, void *dst);
/* The expected digits came, in order, one after the other (want NULL: nothing expected). */
bool cli_dtmf_matches(const char *want, const char *got);
#define CLI_DTMF_HELP                                                                   \
	"  --dtmf DIGITS        send these digits once the call is up (0-9 * # A-D)\n"  \
	"  --dtmf-mode M        rfc4733 (in the RTP, default) or info (SIP INFO)\n"     \
	"  --dtmf-delay DUR     wait this long after the answer first (default 0.5s)\n" \
	"  --dtmf-duration DUR  each digit's length (default 100ms; gap the same)\n"    \
	"  --expect-dtmf DIGITS fail the call (exit 1) unless these digits arrive in order\n"

/* --play-file and --rec-file usable (one line and CLI_EXIT_USAGE if not; -1: go on). */
int cli_check_audio(const char *cmd, const char *play, const char *rec);
/* --expect-tone HZ: heard without a break for at least this long. */
#define CLI_TONE_MIN_MS 200
bool cli_tone_ok(unsigned hz, const struct sipcx_call_info *in);
#define CLI_AUDIO_HELP                                                                      \
	"  --play-file F        send this WAV file (PCM 16-bit mono; resampled to 8 kHz)\n" \
	"  --loop               play it again from the start at its end (else silence)\n"   \
	"  --rec-file F         record what the peer sends into this WAV file (8 kHz)\n"    \
	"  --expect-tone HZ     fail the call (exit 1) unless this tone arrives for 200 ms\n"

#define CLI_EXT_HELP                                                                               \
	"  --100rel MODE        reliable 18x (RFC 3262): supported (default: Supported: 100rel,\n" \
	"                       PRACK what comes reliably, send reliably when Required),\n"        \
	"                       required (Require: 100rel; answer: 421 without it), off\n"         \
	"  --session-expires S  session timer (RFC 4028): the interval asked (dial) or the\n"      \
	"                       most granted and imposed (answer); default: none asked\n"          \
	"  --min-se S           the smallest interval taken (default 90; less is for tests)\n"     \
	"  --refresher uac|uas  who refreshes (default: the UAS decides; answer: the UAC)\n"       \
	"  --refresh-method M   our refreshes: invite (default) or update\n"                       \
	"  --srtp MODE          SRTP with keys in the SDP (RFC 4568): optional (default: offer\n"  \
	"                       keys in RTP/AVP, take SRTP or plain), mandatory (RTP/SAVP;\n"      \
	"                       488 without a key), off (no keys; RTP/SAVP offers get 488)\n"      \
	"  --no-rtcp-mux        RTCP on its own port: no a=rtcp-mux offered or answered\n"         \
	"                       (default: RFC 5761, one port for RTP and RTCP when both agree)\n"

/*
 * What a call does once it is up, the same options for dial and answer
 * (incall.c): DTMF to send and to expect, a file to play, a recording, a
 * tone to expect, a transfer to make, a REFER to refuse.
 */
struct cli_incall {
	const char *dtmf, *expect_dtmf, *transfer_to, *play, *rec;
	int dtmf_mode; /* enum sipcx_dtmf_mode */
	uint64_t dtmf_delay_us, dtmf_dur_us, transfer_after_us;
	unsigned long expect_tone;
	bool loop, no_refer, attended;
	/* 100rel, session timers */
	int rel100, refresher, refresh_method;
	unsigned long session_expires, min_se;
	int srtp; /* enum sipcx_srtp_mode */
	bool no_rtcp_mux;
};
void cli_incall_init(struct cli_incall *x);
/* Their entries of a command's option table. */
#define CLI_INCALL_OPTS(x)                                                                       \
	CLI_OPT_FN("dtmf", &(x)->dtmf, cli_parse_digits, "bad --dtmf (1 to 64 of 0-9 * # A-D)"), \
	    CLI_OPT_FN("dtmf-mode", &(x)->dtmf_mode, cli_parse_dtmf_mode,                        \
	               "bad --dtmf-mode (rfc4733 or info)"),                                     \
	    CLI_OPT_DUR("dtmf-delay", &(x)->dtmf_delay_us, "bad --dtmf-delay (at most 60s)", 0,  \
	                60000000),                                                               \
	    CLI_OPT_DUR("dtmf-duration", &(x)->dtmf_dur_us, "bad --dtmf-duration (40ms to 5s)",  \
	                40000, 5000000),                                                         \
	    CLI_OPT_FN("expect-dtmf", &(x)->expect_dtmf, cli_parse_digits,                       \
	               "bad --expect-dtmf (1 to 64 of 0-9 * # A-D)"),                            \
	    CLI_OPT_FLAG("no-refer", &(x)->no_refer),                                            \
	    CLI_OPT_STR("transfer-to", &(x)->transfer_to),                                       \
	    CLI_OPT_FLAG("attended", &(x)->attended),                                            \
	    CLI_OPT_DUR("transfer-after", &(x)->transfer_after_us, "bad --transfer-after", 0,    \
	                3600000000ULL),                                                          \
	    CLI_OPT_STR("play-file", &(x)->play), CLI_OPT_FLAG("loop", &(x)->loop),              \
	    CLI_OPT_STR("rec-file", &(x)->rec),                                                  \
	    CLI_OPT_UINT("expect-tone", &(x)->expect_tone, "bad --expect-tone (50 to 3900 Hz)",  \
	                 50, 3900),                                                              \
	    CLI_OPT_FN("100rel", &(x)->rel100, cli_parse_100rel,                                 \
	               "bad --100rel (supported, required or off)"),                             \
	    CLI_OPT_UINT("session-expires", &(x)->session_expires,                               \
	                 "bad --session-expires (1 to 86400 s)", 1, 86400),                      \
	    CLI_OPT_UINT("min-se", &(x)->min_se, "bad --min-se (1 to 86400 s)", 1, 86400),       \
	    CLI_OPT_FN("refresher", &(x)->refresher, cli_parse_refresher,                        \
	               "bad --refresher (uac or uas)"),                                          \
	    CLI_OPT_FN("refresh-method", &(x)->refresh_method, cli_parse_refresh_method,         \
	               "bad --refresh-method (invite or update)"),                               \
	    CLI_OPT_FN("srtp", &(x)->srtp, cli_parse_srtp,                                       \
	               "bad --srtp (off, optional or mandatory)"),                               \
	    CLI_OPT_FLAG("no-rtcp-mux", &(x)->no_rtcp_mux)
int cli_parse_100rel(const char *arg, void *dst);
int cli_parse_refresher(const char *arg, void *dst);
int cli_parse_refresh_method(const char *arg, void *dst);
int cli_parse_srtp(const char *arg, void *dst);
/* The SRTP suite and the packets that failed authentication, at a call's end, after prefix. */
void cli_srtp_print(const struct sipcx_call_info *in, const struct sipcx_media_stats *st,
                    const char *prefix);
struct sipcx_call_ext;
/* The 100rel and session timer options into the call's (after cli_incall_check). */
void cli_incall_ext(const struct cli_incall *x, struct sipcx_call_ext *e);
/* --transfer-to, --loop, the files: one line and CLI_EXIT_USAGE if not usable; -1: go on. */
int cli_incall_check(const char *cmd, const struct cli_incall *x);
struct sipcx_dtmf_opts cli_incall_dtmf(const struct cli_incall *x);
struct sipcx_call_media;
/* The files and the tone into the call's media (a file to play makes the handler PLAY). */
void cli_incall_media(const struct cli_incall *x, struct sipcx_call_media *m);
/* The call did what was expected of it (digits, tone, transfers); false with why. */
bool cli_incall_met(const struct cli_incall *x, const struct sipcx_call_info *in, char *why,
                    size_t n);
/* The lines saying so at the call's end, each after prefix. */
void cli_incall_print(const struct cli_incall *x, const struct sipcx_call_info *in,
                      const char *prefix);

struct sipcx_ctx;
struct sipcx_call;
struct sipcx_phone;
struct sipcx_dial_opts;
/* Wait in call for ms (0: until it ends) under ctx; false once the call is over or ctx done. */
bool cli_stay(struct sipcx_ctx *ctx, struct sipcx_call *call, uint64_t ms);
/*
 * Hang call up (BYE, CANCEL, 487) and wait for the end under ctx (NULL: the transaction's
 * bound): 0, or ctx's error when it was done first (the call ends with the process).
 */
int cli_hangup(struct sipcx_call *call, struct sipcx_ctx *ctx);
/*
 * --attended (dial and answer): after --transfer-after in call, under ctx, call
 * --transfer-to with o (the consultation: *consult once it is answered, the caller's), then
 * REFER call with Replaces naming it. 0: the REFER is on; 1: the call or ctx ended first;
 * else the error, *what the step that failed ("call the transfer target", "transfer").
 */
int cli_attended(struct sipcx_phone *ph, struct sipcx_ctx *ctx, struct sipcx_call *call,
                 const struct cli_incall *x, const struct sipcx_dial_opts *o, uint64_t timeout_ms,
                 struct sipcx_call **consult, const char **what);
/*
 * The consultation ends when the target takes the transferee (BYE, replaced): wait for that
 * up to 2 s, then hang it up (cli_hangup under ctx), its state into *in, free it.
 */
void cli_consult_end(struct sipcx_ctx *ctx, struct sipcx_call *consult, struct sipcx_call_info *in);

/* A SIPCX_CALL_EV_TRANSFER about our own REFER (not the peer's). */
bool cli_our_transfer(const struct sipcx_call_event *ev);

/* One JUnit testcase (--junit): failure NULL when it passed. */
void cli_junit_case(const char *name, double time_s, const char *failure);

/*
 * Parse argv against opts (and the common options when common is not
 * NULL; -h/--help always). Returns -1 when the command goes on, with
 * *argi the index of the first operand (operands may come between the
 * options: they are moved to the end); else the exit code to return: 0
 * after --help (usage on stdout), CLI_EXIT_USAGE after one clear line on
 * stderr for an unknown option, a missing or refused value.
 */
int cli_parse(const char *cmd, int argc, char **argv, const struct cli_opt *opts,
              struct cli_common *common, void (*usage)(FILE *), int *argi);

/* --header "Name: value", repeatable (CLI_FN with cli_parse_header). */
#define CLI_MAX_HEADERS 16
struct sipcx_hdr;
struct cli_headers {
	size_t n;
	struct {
		int id; /* enum sipcx_hdr_id */
		const char *name, *value;
		size_t name_len, value_len;
	} h[CLI_MAX_HEADERS];
};
int cli_parse_header(const char *arg, void *dst);
/* The headers as the library takes them, into out (CLI_MAX_HEADERS entries). */
size_t cli_headers_get(const struct cli_headers *in, struct sipcx_hdr *out);

/* --codec LIST: pcmu, pcma, g722, opus in preference order, each once (CLI_FN with cli_parse_codecs). */
#define CLI_CODEC_MAX 4
#define CLI_CODEC_ERR "bad --codec (a list of pcmu, pcma, g722, opus)"
struct sipcx_codec_desc;
struct cli_codecs {
	size_t n;
	const struct sipcx_codec_desc *c[CLI_CODEC_MAX];
};
int cli_parse_codecs(const char *arg, void *dst);
struct sipcx_sdp_codec;
/* The codecs for the SDP layer, then telephone-event at each of their clock rates, into out (8 entries); 0: the defaults. */
size_t cli_codecs_get(const struct cli_codecs *in, struct sipcx_sdp_codec *out);

/* --rtp-ports MIN-MAX (CLI_FN with cli_parse_ports): 1024 to 65535, MIN < MAX. */
struct cli_ports {
	uint16_t min, max;
};
int cli_parse_ports(const char *arg, void *dst);

/* "1.5" (seconds), "500ms": milliseconds for the library, bounded to 32 bits. */
uint32_t cli_ms(uint64_t us);

/*
 * RLIMIT_NOFILE for a command that holds many sockets (limits.c): the soft
 * limit raised to the hard one, and the hard one to need when the process
 * may (root; at most fs.nr_open). Returns the soft limit now in force.
 */
unsigned long cli_raise_nofile(unsigned long need);
/* err is "out of descriptors" (-EMFILE, -ENFILE). */
bool cli_nofile_error(int err);
/* One line on stderr, once per process: the descriptor limit was reached (and its value). */
void cli_nofile_reached(const char *cmd);

struct cli_cmd {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

/* One clear line on stderr ("sipcx CMD: what 'arg'"); returns CLI_EXIT_USAGE. arg may be NULL. */
int cli_usage(const char *cmd, const char *what, const char *arg);
/* "250ms", "1.5s", "2" (seconds), "800us" -> microseconds. 0, -EINVAL or -ERANGE. */
int cli_duration_us(const char *s, uint64_t *us);
/* A whole decimal number in [min, max]: no sign, no space. 0 or -EINVAL. */
int cli_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* An environment switch such as SIP_DEBUG=1: set, not empty, not "0". */
bool cli_env_flag(const char *name);
struct sipcx_ctx;
/* SIGINT and SIGTERM cancel ctx from now on; NULL restores the default actions. */
void cli_cancel_on_signals(struct sipcx_ctx *ctx);
/* A signal after the first also cancels ctx (a hurry: stop waiting for the hangups' answers). */
void cli_hurry_on_signals(struct sipcx_ctx *ctx);

/*
 * TLS: --tls-ca FILE|DIR, --tls-cert FILE, --tls-key FILE, --tls-insecure
 * (docs/cli-dial.md, "TLS"), the same for every command that speaks SIP.
 */
struct cli_tls {
	const char *ca, *cert, *key;
	bool insecure;
};
#define CLI_TLS_OPTS(t)                                                       \
	CLI_OPT_STR("tls-ca", &(t)->ca), CLI_OPT_STR("tls-cert", &(t)->cert), \
	    CLI_OPT_STR("tls-key", &(t)->key), CLI_OPT_FLAG("tls-insecure", &(t)->insecure)
#define CLI_TLS_HELP                                                                                 \
	"  --tls-ca FILE|DIR    CA certificates that TLS servers are checked against (PEM file\n"    \
	"                       or hashed directory; default: the system store)\n"                   \
	"  --tls-cert FILE      our TLS certificate chain (PEM): a tls: or wss: listener needs it\n" \
	"  --tls-key FILE       its private key (PEM; default: in --tls-cert)\n"                     \
	"  --tls-insecure       do not verify TLS servers (tests only: says so on stderr)\n"
struct sipcx_ua_opts;
/*
 * Check the TLS options (files readable, --tls-key with --tls-cert; a tls:
 * listener in listen needs --tls-cert when need_cert), say loudly on
 * stderr when --tls-insecure is on, and put them in uo. Returns -1 (go
 * on) or CLI_EXIT_USAGE after one line.
 */
int cli_tls_apply(const char *cmd, const struct cli_tls *t, const char *listen, bool need_cert,
                  struct sipcx_ua_opts *uo);
/*
 * --dns-server IP:PORT: the DNS server of RFC 3263 lookups (NAPTR, SRV,
 * A/AAAA) for host names; default /etc/resolv.conf (docs/cli-options.md,
 * "Host names"). The same for every command that sends to a URI.
 */
#define CLI_DNS_OPT(p) CLI_OPT_STR("dns-server", (p))
#define CLI_DNS_HELP                                                                          \
	"  --dns-server IP[:PORT]  ask this DNS server (port 53) for host names (RFC 3263:\n" \
	"                       NAPTR, SRV, A/AAAA; default: the servers of /etc/resolv.conf)\n"
/* Check --dns-server (NULL: not given) and put it in uo. Returns -1 (go on) or CLI_EXIT_USAGE after one line. */
int cli_dns_apply(const char *cmd, const char *server, struct sipcx_ua_opts *uo);
/* uri (sip:/sips:) goes over TLS: sips, ;transport=tls|wss, or --transport tls|wss. */
bool cli_uri_tls(const char *uri, int transport);
/* The default listen addresses of a client: UDP, TCP and WS (and TLS, WSS when tls) on any address, port 0. */
const char *cli_client_listen(bool v6, bool tls);

int cmd_answer(int argc, char **argv);
int cmd_dial(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_options(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_registrar(int argc, char **argv);
int cmd_rtp(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
