/* ua: calls: the call object, its dialogs in the UA's table, its media and SDP, requests inside a dialog, ending (RFC 3261 12, 14, 15; RFC 3264; RFC 3326). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <sipcx/call.h>
#include <sipcx/dsp.h>
#include <sipcx/wav.h>

#include "media/media.h"
#include "msg/msg.h"
#include "ua/call.h"

const char *sipcx_call_state_name(enum sipcx_call_state state)
{
	static const char *const names[] = { "calling", "ringing", "connecting", "established",
		                             "ended" };
	return (unsigned)state < SIPCX_ARRAY_SIZE(names) ? names[state] : "";
}

const char *sipcx_call_end_name(enum sipcx_call_end end)
{
	static const char *const names[] = { "none", "local", "remote", "error" };
	return (unsigned)end < SIPCX_ARRAY_SIZE(names) ? names[end] : "";
}

/* ---- options ---- */

bool sipcx__call_strdup(char **dst, const char *s)
{
	*dst = s ? sipcx_strdup(s) : NULL;
	return !s || *dst;
}

void sipcx__call_cfg_put(struct call_cfg *cfg)
{
	if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (cfg->release)
		cfg->release(cfg->arg);
	sipcx_free(cfg->hdrs);
	sipcx_free(cfg->hdr_mem);
	char *strs[] = { cfg->local_addr, cfg->uri,        cfg->from,  cfg->to,
		         cfg->username,   cfg->password,   cfg->realm, cfg->answer_reason,
		         cfg->play_file,  cfg->record_file };
	for (size_t i = 0; i < SIPCX_ARRAY_SIZE(strs); i++)
		sipcx_free(strs[i]);
	sipcx_free(cfg);
}

struct call_cfg *sipcx__call_cfg_new(const struct sipcx_call_media *m, const struct sipcx_hdr *hdrs,
                                     size_t nhdrs, int *err)
{
	static const struct sipcx_call_media none = { 0 };
	if (!m)
		m = &none;
	*err = -EINVAL;
	if (m->ncodecs > CALL_MAX_CODECS || (m->ncodecs && !m->codecs) ||
	    m->handler > SIPCX_MEDIA_PLAY || m->handler == SIPCX_MEDIA_USER ||
	    (m->handler == SIPCX_MEDIA_PLAY && !m->play_file) || m->io_queue > 4096 ||
	    (m->detect_hz && (m->detect_hz < 50 || m->detect_hz > 3900)) ||
	    (m->port_min && m->port_max && m->port_min > m->port_max) ||
	    (unsigned)m->srtp > SIPCX_SRTP_MANDATORY ||
	    (m->ptime && (m->ptime < 10 || m->ptime > 200)))
		return NULL;
	struct call_cfg *cfg = sipcx_calloc(1, sizeof(*cfg));
	if (!cfg) {
		*err = -ENOMEM;
		return NULL;
	}
	cfg->refs = 1;
	for (size_t i = 0; i < m->ncodecs; i++) {
		const struct sipcx_sdp_codec *in = &m->codecs[i];
		if (!in->name || strlen(in->name) >= sizeof(cfg->codec_name[i]) ||
		    (in->fmtp && strlen(in->fmtp) >= sizeof(cfg->codec_fmtp[i]))) {
			sipcx__call_cfg_put(cfg);
			return NULL;
		}
		cfg->codecs[i] = *in;
		snprintf(cfg->codec_name[i], sizeof(cfg->codec_name[i]), "%s", in->name);
		cfg->codecs[i].name = cfg->codec_name[i];
		if (in->fmtp) {
			snprintf(cfg->codec_fmtp[i], sizeof(cfg->codec_fmtp[i]), "%s", in->fmtp);
			cfg->codecs[i].fmtp = cfg->codec_fmtp[i];
		}
	}
	cfg->ncodecs = m->ncodecs;
	cfg->handler = m->handler;
	cfg->tone_hz = m->tone_hz;
	cfg->port_min = m->port_min;
	cfg->port_max = m->port_max;
	cfg->io_queue = m->io_queue;
	cfg->inactivity_ms = m->inactivity_ms;
	cfg->debug = m->debug;
	cfg->play_loop = m->play_loop;
	cfg->detect_hz = m->detect_hz;
	cfg->srtp = m->srtp;
	cfg->sdp_only = m->sdp_only;
	cfg->rtcp_mux = !m->no_rtcp_mux;
	cfg->ptime = m->ptime;
	*err = sipcx__hdrs_dup(hdrs, nhdrs, 0, &cfg->hdrs, &cfg->hdr_mem);
	cfg->nhdrs = *err ? 0 : nhdrs;
	if (!*err && (!sipcx__call_strdup(&cfg->local_addr, m->local_addr) ||
	              !sipcx__call_strdup(&cfg->play_file, m->play_file) ||
	              !sipcx__call_strdup(&cfg->record_file, m->record_file)))
		*err = -ENOMEM;
	if (*err) {
		sipcx__call_cfg_put(cfg);
		return NULL;
	}
	return cfg;
}

/* ---- the UA's calls: dialog table, live list, shutdown ---- */

static void calls_close(void *arg);

struct ua_calls *sipcx__calls_get(struct sipcx_ua *ua)
{
	if (ua->calls)
		return ua->calls;
	struct ua_calls *cs = sipcx_calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->mask = 63;
	cs->tab = sipcx_calloc(cs->mask + 1, sizeof(*cs->tab));
	cs->sdp = sipcx_malloc(sizeof(*cs->sdp));
	cs->msg = sipcx_malloc(sizeof(*cs->msg));
	if (!cs->tab || !cs->sdp || !cs->msg) {
		sipcx_free(cs->tab);
		sipcx_free(cs->sdp);
		sipcx_free(cs->msg);
		sipcx_free(cs);
		return NULL;
	}
	for (int f = 0; f < 2; f++) {
		cs->sink_fd[f][0] = cs->sink_fd[f][1] = -1;
		cs->echo_fd[f][0] = cs->echo_fd[f][1] = -1;
	}
	cs->closer = (struct ua_closer){ .close = calls_close, .arg = ua };
	sipcx__ua_closer_add(ua, &cs->closer);
	ua->calls = cs;
	return cs;
}

const char *sipcx__calls_supported(const struct sipcx_ua *ua)
{
	if (!ua->calls)
		return "";
	return ua->calls->listen ? sipcx__call_supported(ua->calls->listen) : SIPCX__CALL_TAGS_ALL;
}

bool sipcx__calls_listening(const struct sipcx_ua *ua)
{
	return ua->calls && ua->calls->listen;
}

static void table_grow(struct ua_calls *cs)
{
	size_t n = (cs->mask + 1) * 2;
	struct call_dlg **tab = sipcx_calloc(n, sizeof(*tab));
	if (!tab)
		return; /* longer chains, still correct */
	for (size_t i = 0; i <= cs->mask; i++) {
		for (struct call_dlg *cd = cs->tab[i], *next; cd; cd = next) {
			next = cd->hnext;
			cd->hnext = tab[cd->hash & (n - 1)];
			tab[cd->hash & (n - 1)] = cd;
		}
	}
	sipcx_free(cs->tab);
	cs->tab = tab;
	cs->mask = n - 1;
}

static void table_link(struct ua_calls *cs, struct call_dlg *cd)
{
	if (cd->linked)
		return;
	if (cs->ndlg >= cs->mask + 1)
		table_grow(cs);
	cd->hash = sipcx_dialog_hash(cd->d);
	cd->hnext = cs->tab[cd->hash & cs->mask];
	cs->tab[cd->hash & cs->mask] = cd;
	cd->linked = true;
	cs->ndlg++;
}

static void table_unlink(struct ua_calls *cs, struct call_dlg *cd)
{
	if (!cd->linked)
		return;
	for (struct call_dlg **pp = &cs->tab[cd->hash & cs->mask]; *pp; pp = &(*pp)->hnext) {
		if (*pp == cd) {
			*pp = cd->hnext;
			break;
		}
	}
	cd->linked = false;
	cs->ndlg--;
}

struct call_dlg *sipcx__call_dlg_add(struct sipcx_call *c, struct sipcx_dialog *d)
{
	struct call_dlg *cd = sipcx_calloc(1, sizeof(*cd));
	if (!cd)
		return NULL;
	cd->d = d;
	cd->call = c;
	table_link(c->ua->calls, cd);
	return cd;
}

void sipcx__call_dlg_free(struct call_dlg *cd)
{
	if (!cd)
		return;
	table_unlink(cd->call->ua->calls, cd);
	sipcx__call_hop_forget(cd);
	sipcx_dialog_free(cd->d);
	sipcx_free(cd->ack);
	sipcx_free(cd);
}

void sipcx__call_dlg_release(struct call_dlg *cd)
{
	if (!cd || !cd->hop_job) {
		sipcx__call_dlg_free(cd);
		return;
	}
	table_unlink(cd->call->ua->calls, cd);
	cd->released = true;
}

struct call_dlg *sipcx__calls_find_dialog(struct sipcx_ua *ua, struct sipcx_str call_id,
                                          struct sipcx_str local_tag, struct sipcx_str remote_tag)
{
	struct ua_calls *cs = ua->calls;
	if (!cs || !cs->ndlg)
		return NULL;
	uint32_t h = sipcx_dialog_key_hash(call_id, local_tag);
	for (struct call_dlg *cd = cs->tab[h & cs->mask]; cd; cd = cd->hnext)
		if (cd->hash == h && sipcx_str_eq(sipcx_dialog_call_id(cd->d), call_id) &&
		    sipcx_str_eq(sipcx_dialog_local_tag(cd->d), local_tag) &&
		    sipcx_str_eq(sipcx_dialog_remote_tag(cd->d), remote_tag))
			return cd;
	return NULL;
}

struct call_dlg *sipcx__call_dlg_find(struct sipcx_call *c, struct sipcx_str remote_tag)
{
	if (c->dlg && sipcx_str_eq(sipcx_dialog_remote_tag(c->dlg->d), remote_tag))
		return c->dlg;
	for (unsigned i = 0; i < c->nforks; i++)
		if (sipcx_str_eq(sipcx_dialog_remote_tag(c->forks[i]->d), remote_tag))
			return c->forks[i];
	return NULL;
}

/* ---- the object ---- */

static void call_timer_fired(struct sipcx__wheel_entry *e);
static void call_audio_close(struct sipcx_call *c);

static void echo_forget(struct sipcx_call *c);

struct sipcx_call *sipcx__call_new(struct sipcx_ua *ua, struct call_cfg *cfg, bool outgoing)
{
	struct ua_calls *cs = sipcx__calls_get(ua);
	struct sipcx_call *c = cs ? sipcx_calloc(1, sizeof(*c)) : NULL;
	if (!c)
		return NULL;
	if (uv_mutex_init(&c->lock)) {
		sipcx_free(c);
		return NULL;
	}
	c->ua = ua;
	c->echo_family = -1;
	c->refs = 1; /* the engine's */
	c->engine_ref = true;
	c->cfg = cfg;
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL);
	c->outgoing = outgoing;
	c->state = SIPCX_CALL_CALLING;
	c->timer.fire = call_timer_fired;
	c->info.outgoing = outgoing;
	c->info.pt = -1;
	c->info.dtmf_pt = -1;
	c->info.start_us = sipcx_now_us();
	sipcx_sdp_session_init(&c->sdp);
	c->next = cs->live;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &cs->live;
	cs->live = c;
	return c;
}

static void call_destroy(struct sipcx_call *c)
{
	sipcx__media_io_release(c->io);
	sipcx__call_cfg_put(c->cfg);
	sipcx_auth_client_free(c->auth);
	sipcx_free(c->auth_mem);
	sipcx_free(c->invite);
	sipcx_free(c->targets);
	sipcx_free(c->reinv_ack);
	sipcx_call_unref(c->xfer);
	sipcx_free(c->offer);
	sipcx_free(c->answer);
	sipcx__call_srtp_forget(c);
	uv_mutex_destroy(&c->lock);
	sipcx_free(c);
}

struct sipcx_call *sipcx_call_ref(struct sipcx_call *call)
{
	if (call)
		__atomic_add_fetch(&call->refs, 1, __ATOMIC_ACQ_REL);
	return call;
}

void sipcx_call_unref(struct sipcx_call *call)
{
	/* The last reference: the call is over (the engine's goes at the end); any thread. */
	if (call && __atomic_sub_fetch(&call->refs, 1, __ATOMIC_ACQ_REL) == 0)
		call_destroy(call);
}

struct sipcx_ua *sipcx_call_ua(const struct sipcx_call *call)
{
	return call ? call->ua : NULL;
}

void sipcx__call_event(struct sipcx_call *c, enum sipcx_call_event_type type,
                       const struct sipcx_msg *msg)
{
	if (!c->cfg->cb || c->silent)
		return;
	struct sipcx_call_event ev = { .type = type, .msg = msg };
	c->cfg->cb(c, &ev, c->cfg->arg);
}

void sipcx__call_set_state(struct sipcx_call *c, enum sipcx_call_state st)
{
	uint64_t now = sipcx_now_us();
	c->state = st;
	uv_mutex_lock(&c->lock);
	c->info.state = st;
	if (st == SIPCX_CALL_RINGING && !c->info.ringing_us)
		c->info.ringing_us = now;
	if ((st == SIPCX_CALL_CONNECTING || st == SIPCX_CALL_ESTABLISHED) && !c->info.answered_us)
		c->info.answered_us = now;
	uv_mutex_unlock(&c->lock);
}

static void copy_str(char *dst, size_t n, struct sipcx_str s)
{
	size_t len = s.len < n ? s.len : n - 1;
	if (len)
		memcpy(dst, s.p, len);
	dst[len] = '\0';
}

/* The dialog's identity into the snapshot. */
void sipcx__call_info_dialog(struct sipcx_call *c, const struct sipcx_dialog *d)
{
	uv_mutex_lock(&c->lock);
	copy_str(c->info.call_id, sizeof(c->info.call_id), sipcx_dialog_call_id(d));
	copy_str(c->info.local_tag, sizeof(c->info.local_tag), sipcx_dialog_local_tag(d));
	copy_str(c->info.remote_tag, sizeof(c->info.remote_tag), sipcx_dialog_remote_tag(d));
	copy_str(c->info.local_uri, sizeof(c->info.local_uri), sipcx_dialog_local_uri(d));
	copy_str(c->info.remote_uri, sizeof(c->info.remote_uri), sipcx_dialog_remote_uri(d));
	uv_mutex_unlock(&c->lock);
}

void sipcx__call_timer(struct sipcx_call *c, enum call_timer kind, uint32_t ms)
{
	c->timer_kind = kind;
	sipcx__ua_timer_set(c->ua, &c->timer,
	                    kind == CT_NONE ? UINT64_MAX : sipcx_now_us() + (uint64_t)ms * 1000u);
}

static void call_timer_fired(struct sipcx__wheel_entry *e)
{
	struct sipcx_call *c =
	    (struct sipcx_call *)(void *)((char *)e - offsetof(struct sipcx_call, timer));
	enum call_timer kind = c->timer_kind;
	c->timer_kind = CT_NONE;
	if (c->ended)
		return;
	if (kind == CT_RING)
		sipcx__call_out_timer(c);
	else if (kind == CT_HANGUP && c->outgoing && !c->ending)
		sipcx__call_out_end(c); /* up for hangup_ms: BYE */
	else if (kind == CT_ANSWER || kind == CT_HANGUP)
		sipcx__call_in_timer(c, kind);
}

void sipcx__call_waiter_add(struct sipcx_call *c, struct call_waiter *w)
{
	w->next = c->waiters;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = &c->waiters;
	c->waiters = w;
}

void sipcx__call_waiter_del(struct call_waiter *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->pprev = NULL;
	w->next = NULL;
}

bool sipcx__call_is_over(const struct sipcx_call *c)
{
	return c->ended;
}

/* The Reason value (RFC 3326) of a message, "" when none. */
static void reason_of(const struct sipcx_msg *m, char *out, size_t n)
{
	out[0] = '\0';
	const struct sipcx_hdr *h = m ? sipcx_msg_hdr(m, SIPCX_HDR_REASON) : NULL;
	if (h)
		copy_str(out, n, h->value);
}

void sipcx__call_ended(struct sipcx_call *c, enum sipcx_call_end by, int err, uint16_t status,
                       const char *reason, const struct sipcx_msg *why)
{
	if (c->ended)
		return;
	struct ua_calls *cs = c->ua->calls;
	c->ended = true;
	c->ending = true;
	c->state = SIPCX_CALL_ENDED;
	sipcx__ua_timer_set(c->ua, &c->timer, UINT64_MAX);
	if (c->info_timer.fire)
		sipcx__ua_timer_set(c->ua, &c->info_timer, UINT64_MAX);
	if (c->refer_timer.fire)
		sipcx__ua_timer_set(c->ua, &c->refer_timer, UINT64_MAX);
	if (c->rel_timer.fire)
		sipcx__ua_timer_set(c->ua, &c->rel_timer, UINT64_MAX);
	if (c->se_timer.fire)
		sipcx__ua_timer_set(c->ua, &c->se_timer, UINT64_MAX);
	if (c->reinv) {
		/* its transaction lives on (2xx absorbed, Timer M) without us */
		c->reinv->cb = NULL;
		c->reinv = NULL;
	}
	if (c->upd) {
		c->upd->cb = NULL;
		c->upd = NULL;
	}
	struct sipcx_media_stats st;
	memset(&st, 0, sizeof(st));
	if (c->media)
		sipcx_media_stats(c->media, &st);
	uv_mutex_lock(&c->lock);
	c->info.state = SIPCX_CALL_ENDED;
	c->info.ended_by = by;
	c->info.err = err;
	if (status) {
		c->info.status = status;
		snprintf(c->info.reason, sizeof(c->info.reason), "%s",
		         reason ? reason : sipcx_msg_reason_phrase(status));
	}
	if (why && why->request)
		reason_of(why, c->info.end_reason, sizeof(c->info.end_reason));
	else if (by != SIPCX_CALL_END_REMOTE && c->end_reason[0])
		snprintf(c->info.end_reason, sizeof(c->info.end_reason), "%.127s", c->end_reason);
	c->info.ended_us = sipcx_now_us();
	if (c->media)
		c->last_stats = st;
	uv_mutex_unlock(&c->lock);
	/* The sockets go now; readers of the RTP queue drain it, then see -ECANCELED. */
	sipcx_media_free(c->media);
	c->media = NULL;
	c->sdp_port = 0;
	echo_forget(c);
	call_audio_close(c);
	for (unsigned i = 0; i < c->nforks; i++)
		sipcx__call_dlg_free(c->forks[i]);
	c->nforks = 0;
	sipcx__call_dlg_free(c->dlg);
	c->dlg = NULL;
	if (c->outgoing)
		sipcx__call_out_release(c);
	else
		sipcx__call_in_release(c);
	if (c->counted && cs->incoming)
		cs->incoming--;
	c->counted = false;
	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		c->pprev = NULL;
	}
	sipcx__call_event(c, SIPCX_CALL_EV_ENDED, why);
	while (c->waiters) {
		struct call_waiter *w = c->waiters;
		sipcx__call_waiter_del(w);
		w->fn(w);
	}
	if (c->engine_ref) {
		c->engine_ref = false;
		sipcx_call_unref(c);
	}
}

size_t sipcx__calls_end_all(struct sipcx_ua *ua, const char *reason, bool end)
{
	size_t n = 0;
	for (struct sipcx_call *c = ua->calls ? ua->calls->live : NULL; c; c = c->next, n++)
		if (end)
			sipcx_call_end(c, reason); /* on a later turn; -EALREADY: ending already */
	return n;
}

/* The UA shuts down: every call ends, nothing more is sent. */
static void calls_close(void *arg)
{
	struct sipcx_ua *ua = arg;
	struct ua_calls *cs = ua->calls;
	while (cs->live)
		sipcx__call_ended(cs->live, SIPCX_CALL_END_ERROR, SIPCX_ECLOSED, 0, NULL, NULL);
	sipcx__call_cfg_put(cs->listen);
	cs->listen = NULL;
	for (int f = 0; f < 2; f++) {
		sipcx__reflect_free(cs->echo[f]); /* its watchers stop before the sockets go */
		for (int i = 0; i < 2; i++) {
			if (cs->sink_fd[f][i] >= 0)
				close(cs->sink_fd[f][i]);
			if (cs->echo_fd[f][i] >= 0)
				close(cs->echo_fd[f][i]);
		}
	}
	sipcx_free(cs->tab);
	sipcx_free(cs->sdp);
	sipcx_free(cs->msg);
	sipcx_free(cs);
	ua->calls = NULL;
}

/* ---- media and SDP (RFC 3264) ---- */

/* The media's events the call tells its owner: RTCP reports from the peer (loop thread). */
static void call_media_event(struct sipcx_media *m, const struct sipcx_media_event *ev, void *arg)
{
	struct sipcx_call *c = arg;
	(void)m;
	if (c->state == SIPCX_CALL_ENDED)
		return;
	if (ev->type == SIPCX_MEDIA_EV_RTCP) {
		sipcx__call_event(c, SIPCX_CALL_EV_RTCP, NULL);
	} else if (ev->type == SIPCX_MEDIA_EV_DTMF && ev->dtmf_end) {
		/* an event is reported once, when its duration is final (RFC 4733 2.5.1.4) */
		char digit = sipcx_rtp_event_char(ev->dtmf);
		uint32_t clock = c->info.clock ? c->info.clock : 8000;
		if (digit) /* other events (tones, RFC 4734) are not digits */
			sipcx__call_dtmf(c, digit,
			                 (unsigned)((uint64_t)ev->dtmf_duration * 1000u / clock),
			                 SIPCX_DTMF_RFC4733, NULL);
	}
}

void sipcx__call_dtmf(struct sipcx_call *c, char digit, unsigned ms, enum sipcx_dtmf_mode mode,
                      const struct sipcx_msg *msg)
{
	uv_mutex_lock(&c->lock);
	size_t n = strlen(c->info.dtmf_rx);
	if (n + 1 < sizeof(c->info.dtmf_rx)) {
		c->info.dtmf_rx[n] = digit;
		c->info.dtmf_rx[n + 1] = '\0';
	}
	uv_mutex_unlock(&c->lock);
	if (!c->cfg->cb || c->silent)
		return;
	struct sipcx_call_event ev = { .type = SIPCX_CALL_EV_DTMF,
		                       .msg = msg,
		                       .dtmf = digit,
		                       .dtmf_ms = ms,
		                       .dtmf_mode = mode };
	c->cfg->cb(c, &ev, c->cfg->arg);
}

/* The call's files and tone detector, for its media session (loop thread). */
static int call_audio_open(struct sipcx_call *c, struct sipcx_media_opts *mo)
{
	const struct call_cfg *cfg = c->cfg;
	int r = 0;
	if (cfg->play_file)
		r = sipcx_wav_open_read(cfg->play_file, &c->play);
	if (!r && cfg->record_file)
		r = sipcx_wav_open_write(cfg->record_file, 8000, &c->record);
	if (!r && cfg->detect_hz) {
		c->detect = sipcx_calloc(1, sizeof(*c->detect));
		r = !c->detect ? -ENOMEM
		               : sipcx_tone_detect_init(c->detect, &cfg->detect_hz, 1, 8000, 160);
	}
	mo->play = c->play;
	mo->play_loop = cfg->play_loop;
	mo->record = c->record;
	mo->detect = c->detect;
	return r;
}

/* After the media is freed: what the detector heard into the info, the files closed. */
static void call_audio_close(struct sipcx_call *c)
{
	if (c->detect) {
		struct sipcx_tone_counts n;
		if (sipcx_tone_detect_counts(c->detect, c->cfg->detect_hz, &n) == 0) {
			uv_mutex_lock(&c->lock);
			c->info.tone_ms = (unsigned)(n.longest * 20u); /* 160-sample blocks */
			c->info.tone_total_ms = (unsigned)(n.present * 20u);
			uv_mutex_unlock(&c->lock);
		}
		sipcx_free(c->detect);
		c->detect = NULL;
	}
	sipcx_wav_close(c->play);
	c->play = NULL;
	if (c->record && sipcx_wav_close_write(c->record) != 0)
		SIPCX_LOG(SIPCX_LOG_WARN, "call %s: the recording could not be written whole",
		          c->info.call_id);
	c->record = NULL;
}

/* The port of the UA's discard pair for family, or with echo its reflected pair; bound by the
 * first sdp_only call that needs it (loop thread). */
static int shared_port(struct sipcx_call *c, int family, bool echo, uint16_t *port)
{
	struct ua_calls *cs = c->ua->calls;
	int f = family == AF_INET6;
	int *fd = echo ? cs->echo_fd[f] : cs->sink_fd[f];
	uint16_t *got = echo ? &cs->echo_port[f] : &cs->sink_port[f];
	if (!*got) {
		union sipcx__maddr any;
		int r = sipcx__maddr_parse(&any,
		                           c->cfg->local_addr ? c->cfg->local_addr
		                           : f                ? "::"
		                                              : "0.0.0.0",
		                           0, 0);
		if (!r)
			r = sipcx__media_bind_pair(&any, 0, c->cfg->port_min, c->cfg->port_max,
			                           &fd[0], &fd[1], got);
		if (!r && echo &&
		    (r = sipcx__reflect_new(&cs->echo[f], &c->ua->loop, fd[0], fd[1]))) {
			close(fd[0]);
			close(fd[1]);
			fd[0] = fd[1] = -1;
			*got = 0;
		}
		if (r)
			return r;
	}
	*port = *got;
	return 0;
}

/* An sdp_only echo call lets the UA's reflector answer sa: slot 0 its signalling peer, slot 1
 * its SDP's c= (replaced when a re-INVITE or UPDATE moves it). */
static void echo_allow(struct sipcx_call *c, unsigned slot, const struct sockaddr *sa)
{
	if (c->echo_family < 0)
		return;
	struct sipcx__reflect *r = c->ua->calls->echo[c->echo_family];
	if ((c->echo_set & (1u << slot)) && sipcx_sa_equal_host(&c->echo_ok[slot].sa, sa))
		return;
	if (c->echo_set & (1u << slot))
		sipcx__reflect_forget(r, &c->echo_ok[slot].sa);
	c->echo_set &= ~(1u << slot);
	if (sipcx__reflect_allow(r, sa) == 0) {
		memcpy(&c->echo_ok[slot], sa,
		       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                 : sizeof(struct sockaddr_in));
		c->echo_set |= 1u << slot;
	}
}

static void echo_forget(struct sipcx_call *c)
{
	for (unsigned i = 0; c->echo_family >= 0 && i < 2; i++)
		if (c->echo_set & (1u << i))
			sipcx__reflect_forget(c->ua->calls->echo[c->echo_family],
			                      &c->echo_ok[i].sa);
	c->echo_set = 0;
	c->echo_family = -1;
}

int sipcx__call_media_new(struct sipcx_call *c, const struct sipcx_tp_addr *toward, bool mux)
{
	union sipcx_sa local;
	int r = sipcx_transport_local(c->ua->tp, toward, &local);
	if (!r && sipcx_sa_host(&local.sa, c->local_ip, sizeof(c->local_ip)) < 0)
		r = -EINVAL;
	if (r)
		return r;
	const struct call_cfg *cfg = c->cfg;
	if (cfg->sdp_only) {
		uint16_t port = 0;
		bool echo = cfg->handler == SIPCX_MEDIA_ECHO;
		r = shared_port(c, local.sa.sa_family, echo, &port);
		if (!r && echo) {
			c->echo_family = local.sa.sa_family == AF_INET6;
			echo_allow(c, 0, &toward->sa.sa);
		}
		if (!r)
			r = sipcx__call_srtp_keys(c); /* offered like any call's, never used */
		if (r)
			return r;
		c->sdp_port = port;
		uv_mutex_lock(&c->lock);
		c->info.local_port = port;
		uv_mutex_unlock(&c->lock);
		return 0;
	}
	struct sipcx_media_opts mo = {
		.local_addr = cfg->local_addr ? cfg->local_addr
		                              : (local.sa.sa_family == AF_INET6 ? "::" : "0.0.0.0"),
		.port_min = cfg->port_min,
		.port_max = cfg->port_max,
		.handler = SIPCX_MEDIA_NONE, /* the handler starts with the negotiated codec */
		.tone_hz = cfg->tone_hz,
		.ptime = cfg->ptime,
		.inactivity_ms = cfg->inactivity_ms,
		.debug = cfg->debug,
		.io_queue = cfg->io_queue,
		.io_max_len = cfg->io_queue ? 1500 : 0,
		.rtcp_mux = mux,
		.on_event = call_media_event,
		.arg = c,
	};
	mo.handler = cfg->handler;
	if (mo.handler == SIPCX_MEDIA_SILENCE || mo.handler == SIPCX_MEDIA_TONE ||
	    mo.handler == SIPCX_MEDIA_PLAY)
		mo.codec = "PCMU"; /* replaced by the negotiated one */
	r = sipcx__call_srtp_keys(c);
	if (!r)
		r = call_audio_open(c, &mo);
	struct sipcx__media_owner owner = { 0 };
	if (!r)
		r = sipcx__media_new(&c->media, &c->ua->loop, &mo, &owner);
	if (r) {
		call_audio_close(c);
		return r;
	}
	c->io = sipcx__media_io_hold(c->media);
	uv_mutex_lock(&c->lock);
	c->info.local_port = sipcx_media_port(c->media);
	uv_mutex_unlock(&c->lock);
	return 0;
}

const struct sipcx_sdp *sipcx__call_sdp_of(struct sipcx_call *c, const struct sipcx_msg *m)
{
	struct sipcx_str ct = sipcx_msg_content_type(m);
	if (!m->body.len || ct.len < 15 || strncasecmp(ct.p, "application/sdp", 15) != 0)
		return NULL;
	struct sipcx_sdp *sdp = c->ua->calls->sdp;
	return sipcx_sdp_parse(sdp, m->body) == 0 ? sdp : NULL;
}

static void local_of(struct sipcx_call *c, enum sipcx_sdp_dir dir, struct sipcx_sdp_local *l)
{
	memset(l, 0, sizeof(*l));
	l->addr = c->local_ip;
	l->port = c->media ? sipcx_media_port(c->media) : c->sdp_port;
	l->dir = dir;
	l->codecs = c->cfg->ncodecs ? c->cfg->codecs : NULL;
	l->ncodecs = c->cfg->ncodecs;
	l->username = "sipcx";
	l->srtp = c->cfg->srtp;
	l->ptime = c->cfg->ptime;
	l->crypto = c->keys;
	l->ncrypto = c->nkeys;
	/*
	 * RFC 5761: offered and taken unless turned off. A session left with one socket
	 * (answered with it, or our offer taken) can only multiplex: its offers say
	 * mux-only (RFC 8858) and its a=rtcp names the RTP port for a peer that will not.
	 */
	bool one = sipcx__media_one_socket(c->media);
	l->rtcp_mux = c->cfg->rtcp_mux || one;
	l->rtcp_mux_only = one;
	l->rtcp_port = one ? l->port : 0;
}

/* Take what was agreed: the media follows it, the snapshot says it. */
static int apply(struct sipcx_call *c, const struct sipcx_sdp_result *res)
{
	int r = 0;
	if (c->media) {
		r = res->addr_is_ip ? sipcx_media_apply_sdp(c->media, res) : -EINVAL;
		if (!r)
			r = sipcx_media_start(c->media);
	} else if (c->echo_family >= 0 && res->addr_is_ip) {
		union sipcx__maddr a;
		if (sipcx__maddr_parse(&a, res->addr, res->rtp_port, 0) == 0)
			echo_allow(c, 1, &a.sa);
	}
	uv_mutex_lock(&c->lock);
	snprintf(c->info.codec, sizeof(c->info.codec), "%s", res->codec);
	c->info.pt = res->pt;
	c->info.clock = res->clock;
	c->info.dtmf_pt = res->dtmf_pt;
	c->info.remote_hold = res->on_hold;
	snprintf(c->info.srtp, sizeof(c->info.srtp), "%s", sipcx_srtp_suite_name(res->srtp));
	snprintf(c->info.remote_media, sizeof(c->info.remote_media),
	         res->family == 6 ? "[%s]:%u" : "%s:%u", res->addr, res->rtp_port);
	uv_mutex_unlock(&c->lock);
	return r;
}

/* apply() unless the negotiation failed (r); the result's SRTP master keys are wiped either way. */
static int applied(struct sipcx_call *c, int r, struct sipcx_sdp_result *res)
{
	if (!r)
		r = apply(c, res);
	OPENSSL_cleanse(res, sizeof(*res));
	return r;
}

int sipcx__call_sdp_offer(struct sipcx_call *c, enum sipcx_sdp_dir dir, struct sipcx_buf *b)
{
	struct sipcx_sdp_local l;
	local_of(c, dir, &l);
	return sipcx_sdp_offer(&c->sdp, &l, b);
}

int sipcx__call_sdp_answer(struct sipcx_call *c, const struct sipcx_sdp *offer, struct sipcx_buf *b)
{
	struct sipcx_sdp_local l;
	struct sipcx_sdp_result res;
	local_of(c, SIPCX_SDP_SENDRECV, &l);
	int r = sipcx_sdp_answer(&c->sdp, &l, offer, b, &res);
	return applied(c, r, &res);
}

int sipcx__call_sdp_process(struct sipcx_call *c, const struct sipcx_sdp *answer)
{
	struct sipcx_sdp_local l;
	struct sipcx_sdp_result res;
	local_of(c, SIPCX_SDP_SENDRECV, &l);
	int r = sipcx_sdp_process_answer(&l, answer, &res);
	return applied(c, r, &res);
}

void sipcx__call_reason(struct sipcx_call *c, const char *text)
{
	if (!text || !*text) {
		c->end_reason[0] = '\0';
		return;
	}
	/* A protocol-qualified value is taken as it is; plain text is a normal clearing. */
	if (!strncasecmp(text, "SIP;", 4) || !strncasecmp(text, "Q.850;", 6))
		snprintf(c->end_reason, sizeof(c->end_reason), "%s", text);
	else
		snprintf(c->end_reason, sizeof(c->end_reason), "Q.850;cause=16;text=\"%.200s\"",
		         text);
}

struct bye {
	struct sipcx_call *c;
	enum sipcx_call_end by;
	int err;
};

static void bye_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct bye *b = arg;
	if (!err && resp->status < 200)
		return;
	/* Answered or not (481, a timeout), the dialog is over (RFC 3261 15.1.1). */
	sipcx__call_ended(b->c, b->by, b->err, 0, NULL, NULL);
	sipcx_call_unref(b->c);
	sipcx_free(b);
}

void sipcx__call_bye(struct sipcx_call *c, enum sipcx_call_end by, int err)
{
	if (c->ended || !c->dlg)
		return;
	c->ending = true;
	struct bye *b = sipcx_calloc(1, sizeof(*b));
	struct sipcx_hdr reason = { SIPCX_HDR_REASON, SIPCX_STR_NULL, sipcx_str_c(c->end_reason) };
	int r = b ? 0 : -ENOMEM;
	if (b) {
		b->c = sipcx_call_ref(c);
		b->by = by;
		b->err = err;
		r = sipcx__call_request(c, c->dlg, "BYE", c->end_reason[0] ? &reason : NULL,
		                        c->end_reason[0] ? 1 : 0, NULL, SIPCX_STR_NULL, bye_resp,
		                        b);
	}
	if (r) {
		if (b)
			sipcx_call_unref(c);
		sipcx_free(b);
		sipcx__call_ended(c, by, err ? err : r, 0, NULL, NULL);
	}
}

/* ---- receiving in a dialog ---- */

bool sipcx__calls_dispatch(struct sipcx_ua *ua, const struct ua_origin *og,
                           const struct sipcx_msg *m)
{
	struct ua_calls *cs = ua->calls;
	const struct sipcx_addr *to = sipcx_msg_to(m);
	uint32_t h;
	if (!cs || !cs->ndlg || !to || !to->tag.len || sipcx_dialog_msg_hash(m, &h) != 0)
		return false;
	for (struct call_dlg *cd = cs->tab[h & cs->mask]; cd; cd = cd->hnext) {
		if (cd->hash == h && sipcx_dialog_match_request(cd->d, m)) {
			sipcx__call_in_dialog(cd->call, cd, og, m);
			return true;
		}
	}
	return false;
}

/* ---- the public face ---- */

struct end_arg {
	struct sipcx_call *c;
};

struct end_job {
	struct sipcx_call *c;
	char reason[]; /* "" for none */
};

static void end_on_loop(void *arg)
{
	struct end_job *j = arg;
	struct sipcx_call *c = j->c;
	if (!c->ended && !c->ending) {
		/* end_reason is the loop's: set here, not by the thread that asked. */
		if (j->reason[0] && !c->end_reason[0])
			sipcx__call_reason(c, j->reason);
		if (c->outgoing)
			sipcx__call_out_end(c);
		else
			sipcx__call_in_end(c);
	}
	sipcx_call_unref(c);
	sipcx_free(j);
}

int sipcx_call_end(struct sipcx_call *call, const char *reason)
{
	if (!call)
		return -EINVAL;
	uv_mutex_lock(&call->lock);
	bool over = call->info.state == SIPCX_CALL_ENDED || call->info.ended_by != 0;
	uv_mutex_unlock(&call->lock);
	if (over)
		return -EALREADY;
	size_t n = reason ? strlen(reason) : 0;
	struct end_job *j = sipcx_malloc(sizeof(*j) + n + 1);
	if (!j)
		return -ENOMEM;
	memcpy(j->reason, reason ? reason : "", n + 1);
	j->c = sipcx_call_ref(call);
	/* On a later turn even on the loop thread: the ENDED event is not delivered inside this call. */
	int r = sipcx__ua_post(call->ua, end_on_loop, j);
	if (r) {
		sipcx_call_unref(call);
		sipcx_free(j);
	}
	return r;
}

/* ---- hold and resume: our re-INVITE (RFC 3261 14.1, RFC 3264 8.4) ---- */

/* Our ACK to a re-INVITE's 2xx, kept for its retransmissions (RFC 3261 13.2.2.4). */
static int reinv_ack_keep(struct sipcx_call *c, struct call_dlg *cd, struct sipcx_buf *b,
                          const struct sipcx_tp_addr *dst)
{
	(void)cd;
	c->reinv_ack_wait = false;
	return sipcx__call_ack_keep(c, b, dst, &c->reinv_ack, &c->reinv_ack_len, &c->reinv_ack_dst);
}

static void reinv_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_call *c = arg;
	if (!err && resp && resp->status < 200)
		return;
	if (!err && resp && resp->status < 300) {
		if (c->reinv_ack || c->reinv_ack_wait) {
			/* a 2xx again: our ACK again (13.2.2.4), unless it waits for its hop */
			if (c->reinv_ack)
				sipcx_transport_send(c->ua->tp, &c->reinv_ack_dst, 0, c->reinv_ack,
				                     c->reinv_ack_len);
			return;
		}
		const struct sipcx_sdp *sdp = sipcx__call_sdp_of(c, resp);
		int r = sdp && sipcx__call_has_sdp(c) ? sipcx__call_sdp_process(c, sdp) : -EPROTO;
		struct call_req ack = { .method = "ACK",
			                .cseq = c->reinv_cseq,
			                .ack = reinv_ack_keep };
		if (c->dlg && sipcx__call_out(c, c->dlg, &ack) == 0 && !c->reinv_ack)
			c->reinv_ack_wait = true;
		if (r) {
			/* an answer we cannot take: the session cannot go on as both think */
			sipcx__call_reason(
			    c, "SIP;cause=488;text=\"re-INVITE answer not acceptable\"");
			sipcx_call_end(c, NULL);
			return;
		}
		sipcx__call_se_response(c, resp, true);
		if (c->reinv_refresh)
			return; /* a session refresh (RFC 4028): the media is as it was */
		uv_mutex_lock(&c->lock);
		c->info.local_hold = c->reinv_hold;
		c->info.reinvites++;
		uv_mutex_unlock(&c->lock);
		sipcx__call_event(c, SIPCX_CALL_EV_MEDIA, resp);
		return;
	}
	/* failed: the media stays as it was (RFC 3261 14.1); the dialog lives on unless 481/408 */
	c->reinv = NULL;
	sipcx__call_refresh_failed(c, c->reinv_refresh, err, resp);
}

void sipcx__call_refresh_failed(struct sipcx_call *c, bool timer, int err,
                                const struct sipcx_msg *resp)
{
	if (timer)
		sipcx__call_se_failed(c, resp ? resp->status : 0);
	else if (resp)
		sipcx__call_event(c, SIPCX_CALL_EV_MEDIA, resp);
	if (err || (resp && (resp->status == 481 || resp->status == 408)))
		sipcx__call_ended(c, SIPCX_CALL_END_ERROR, err ? err : SIPCX_ESTATUS,
		                  resp ? resp->status : 0, NULL, NULL);
}

bool sipcx__call_is_up(const struct sipcx_call *c)
{
	return !c->ended && !c->ending && c->dlg && sipcx__call_has_sdp(c) &&
	       c->state == SIPCX_CALL_ESTABLISHED;
}

bool sipcx__call_offer_out(const struct sipcx_call *c)
{
	return (c->reinv && !c->reinv_ack) || (c->upd && c->upd_offer) || sipcx__call_hop_busy(c);
}

/* The re-INVITE is out (perhaps after its hop's look-up): the call follows its transaction. */
static void reinv_sent(struct sipcx_call *c, struct call_dlg *cd, struct ua_txn *ut)
{
	if (c->reinv)
		c->reinv->cb = NULL; /* the last one's 2xx resends end with it */
	ut->all_2xx = true;
	c->reinv = ut;
	c->reinv_cseq = sipcx_dialog_local_cseq(cd->d);
	sipcx_free(c->reinv_ack);
	c->reinv_ack = NULL;
	c->reinv_ack_wait = false;
}

int sipcx__call_reinvite(struct sipcx_call *c, enum sipcx_sdp_dir dir, bool hold)
{
	if (sipcx__call_offer_out(c) || c->ist || c->srv)
		return -EBUSY; /* 14.1: one INVITE at a time on a dialog; RFC 3311 5.1 */
	struct sipcx_buf sdp;
	sipcx_buf_init(&sdp);
	char sebuf[64];
	struct sipcx_hdr h[3];
	size_t n = sipcx__call_refresh_hdrs(c, h, sebuf);
	int r = sipcx__call_sdp_offer(c, dir, &sdp);
	struct call_req rq = { .method = "INVITE",
		               .hdrs = h,
		               .nhdrs = n,
		               .ctype = "application/sdp",
		               .body = { sdp.p, sdp.len },
		               .cb = reinv_resp,
		               .arg = c,
		               .sent = reinv_sent };
	if (!r)
		r = sipcx__call_out(c, c->dlg, &rq);
	sipcx_buf_free(&sdp);
	if (r)
		return r;
	c->reinv_hold = hold;
	c->reinv_refresh = false;
	return 0;
}

struct hold_args {
	struct sipcx_call *c;
	bool hold, inactive;
	int r;
};

static void hold_on_loop(void *arg)
{
	struct hold_args *a = arg;
	struct sipcx_call *c = a->c;
	if (!sipcx__call_is_up(c)) {
		a->r = -ENOTCONN;
		return;
	}
	enum sipcx_sdp_dir dir = !a->hold      ? SIPCX_SDP_SENDRECV
	                         : a->inactive ? SIPCX_SDP_INACTIVE
	                                       : SIPCX_SDP_SENDONLY;
	a->r = sipcx__call_reinvite(c, dir, a->hold);
}

int sipcx_call_hold(struct sipcx_call *call, bool hold, bool inactive)
{
	if (!call)
		return -EINVAL;
	struct hold_args a = { call, hold, inactive, 0 };
	int r = sipcx_ua_call(call->ua, hold_on_loop, &a);
	return r ? r : a.r;
}

/* ---- DTMF out ---- */

static void info_next(struct sipcx_call *c);

static void info_resp(int err, const struct sipcx_msg *resp, void *arg)
{
	struct sipcx_call *c = arg;
	if (!err && resp && resp->status < 200)
		return;
	c->info_busy = false;
	if (c->info_qpos >= c->info_qlen)
		c->info_qpos = c->info_qlen = 0;
	else if (!c->ended) /* the digit lasts its Duration, then the gap */
		sipcx__ua_timer_set(c->ua, &c->info_timer,
		                    sipcx_now_us() +
		                        (uint64_t)(c->info_dur_ms + c->info_gap_ms) * 1000u);
	sipcx_call_unref(c);
}

/* Send the next digit's INFO (loop thread). */
static void info_next(struct sipcx_call *c)
{
	if (c->info_busy || c->ended || c->ending || !c->dlg || c->info_qpos >= c->info_qlen)
		return;
	char body[64];
	int n = snprintf(body, sizeof(body), "Signal=%c\r\nDuration=%u\r\n",
	                 c->info_q[c->info_qpos], c->info_dur_ms);
	c->info_qpos++;
	sipcx_call_ref(c);
	c->info_busy = true;
	if (sipcx__call_request(c, c->dlg, "INFO", NULL, 0, "application/dtmf-relay",
	                        (struct sipcx_str){ body, (size_t)n }, info_resp, c) != 0)
		info_resp(-EIO, NULL, c); /* not sent: the next one after the gap */
}

static void info_timer_fired(struct sipcx__wheel_entry *e)
{
	struct sipcx_call *c =
	    (struct sipcx_call *)(void *)((char *)e - offsetof(struct sipcx_call, info_timer));
	info_next(c);
}

struct dtmf_args {
	struct sipcx_call *c;
	const char *digits;
	enum sipcx_dtmf_mode mode;
	const struct sipcx_dtmf_opts *o;
	int r;
};

static void dtmf_on_loop(void *arg)
{
	struct dtmf_args *a = arg;
	struct sipcx_call *c = a->c;
	if (c->ended || c->ending || !c->dlg ||
	    (c->state != SIPCX_CALL_ESTABLISHED && c->state != SIPCX_CALL_CONNECTING)) {
		a->r = -ENOTCONN;
		return;
	}
	if (a->mode == SIPCX_DTMF_RFC4733) {
		a->r = c->media ? sipcx_media_send_dtmf(c->media, a->digits, a->o) : -ENOTCONN;
		return;
	}
	size_t n = strlen(a->digits);
	if (c->info_qlen + n > sizeof(c->info_q)) {
		a->r = -ENOSPC;
		return;
	}
	memcpy(c->info_q + c->info_qlen, a->digits, n);
	c->info_qlen = (uint8_t)(c->info_qlen + n);
	c->info_dur_ms = (uint16_t)(a->o && a->o->duration_ms ? a->o->duration_ms : 100);
	c->info_gap_ms = (uint16_t)(a->o && a->o->gap_ms ? a->o->gap_ms : 100);
	c->info_timer.fire = info_timer_fired;
	if (!c->info_busy)
		sipcx__ua_timer_set(c->ua, &c->info_timer,
		                    sipcx_now_us() + (uint64_t)(a->o ? a->o->delay_ms : 0) * 1000u);
	a->r = 0;
}

int sipcx_call_send_dtmf(struct sipcx_call *call, const char *digits, enum sipcx_dtmf_mode mode,
                         const struct sipcx_dtmf_opts *o)
{
	if (!call || !digits || !*digits || strlen(digits) > 64 ||
	    (mode != SIPCX_DTMF_RFC4733 && mode != SIPCX_DTMF_INFO) ||
	    (o && (o->duration_ms > 5000 || (o->duration_ms && o->duration_ms < 40) ||
	           o->gap_ms > 5000 || o->delay_ms > 60000 || o->volume > 63)))
		return -EINVAL;
	for (const char *p = digits; *p; p++)
		if (sipcx_rtp_event_from_char(*p) < 0)
			return -EINVAL;
	struct dtmf_args a = { call, digits, mode, o, 0 };
	int r = sipcx_ua_call(call->ua, dtmf_on_loop, &a);
	return r ? r : a.r;
}

int sipcx_call_info(struct sipcx_call *call, struct sipcx_call_info *out)
{
	if (!call || !out)
		return -EINVAL;
	uv_mutex_lock(&call->lock);
	*out = call->info;
	uv_mutex_unlock(&call->lock);
	return 0;
}

struct stats_arg {
	struct sipcx_call *c;
	struct sipcx_media_stats *out;
};

static void stats_on_loop(void *arg)
{
	struct stats_arg *a = arg;
	if (a->c->media)
		sipcx_media_stats(a->c->media, a->out);
}

int sipcx_call_stats(struct sipcx_call *call, struct sipcx_media_stats *out)
{
	if (!call || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	uv_mutex_lock(&call->lock);
	bool over = call->info.state == SIPCX_CALL_ENDED;
	if (over)
		*out = call->last_stats;
	uv_mutex_unlock(&call->lock);
	if (over)
		return 0;
	struct stats_arg a = { call, out };
	if (sipcx_ua_call(call->ua, stats_on_loop, &a) != 0) {
		uv_mutex_lock(&call->lock);
		*out = call->last_stats;
		uv_mutex_unlock(&call->lock);
	}
	return 0;
}

struct sipcx_media *sipcx_call_media(struct sipcx_call *call)
{
	return call ? call->media : NULL;
}

int sipcx_call_read_rtp(struct sipcx_call *call, void *buf, size_t size, int timeout_ms)
{
	if (!call)
		return -EINVAL;
	return call->io ? sipcx__media_io_read(call->io, false, buf, size, timeout_ms)
	                : (call->cfg->io_queue ? -ENOTCONN : -ENOTSUP);
}

int sipcx_call_read_rtcp(struct sipcx_call *call, void *buf, size_t size, int timeout_ms)
{
	if (!call)
		return -EINVAL;
	return call->io ? sipcx__media_io_read(call->io, true, buf, size, timeout_ms)
	                : (call->cfg->io_queue ? -ENOTCONN : -ENOTSUP);
}

int sipcx_call_write_rtp(struct sipcx_call *call, const void *data, size_t len, int timeout_ms)
{
	struct sipcx_rtp_pkt pkt;
	if (!call || !data || sipcx_rtp_parse(&pkt, data, len) < 0)
		return -EINVAL;
	return call->io ? sipcx__media_io_post(call->io, SIPCX_MEDIA_Q_RTP, NULL, 0, data, len,
	                                       timeout_ms)
	                : (call->cfg->io_queue ? -ENOTCONN : -ENOTSUP);
}

int sipcx_call_write_rtcp(struct sipcx_call *call, const void *data, size_t len, int timeout_ms)
{
	if (!call || !data || len < 4)
		return -EINVAL;
	return call->io ? sipcx__media_io_post(call->io, SIPCX_MEDIA_Q_RTCP, NULL, 0, data, len,
	                                       timeout_ms)
	                : (call->cfg->io_queue ? -ENOTCONN : -ENOTSUP);
}

void sipcx_call_free(struct sipcx_call *call)
{
	if (!call)
		return;
	sipcx_call_end(call, NULL);
	sipcx_call_unref(call);
}
