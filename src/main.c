/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nattraced: the main loop. Subscribe to trace events first, so no packet
 * is missed, then install the owned trace table; poll the trace socket,
 * the ruleset-change socket and a signalfd; emit timelines as they end.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include "clock.h"
#include "config.h"
#include "ctquery.h"
#include "explain.h"
#include "format.h"
#include "natlog.h"
#include "journal.h"
#include "nattraced.h"
#include "nlsock.h"
#include "options.h"
#include "outbuf.h"
#include "rulecache.h"
#include "rxthread.h"
#include "setcheck.h"
#include "stats.h"
#include "timeline.h"
#include "tracetable.h"

/* Messages handled per wakeup before signals and expiry get a look. */
#define DRAIN_BATCH	4096
/* At exit and for a report: what is queued, but not forever under a flood. */
#define DRAIN_ALL_MAX	(16 * DRAIN_BATCH)
/* ... and how long to wait for the receive thread to read the socket. */
#define SYNC_WAIT_NS	(2000ull * 1000 * 1000)
/* stdout is written once per wakeup, not per 4 KiB. */
#define OUTPUT_BUF	(256 * 1024)
/* Stopping waits this long for a slow stdout reader, then counts the rest. */
#define OUTPUT_EXIT_GRACE_MS	500
/*
 * if_indextoname() opens a socket per call; a packet's interfaces repeat,
 * so names are cached, briefly enough that a renamed one shows up soon.
 */
#define IFCACHE_SIZE	64
#define IFCACHE_TTL_NS	(1000ull * 1000 * 1000)

_Static_assert(OPTIONS_MAX_EVENTS_LIMIT <= TIMELINE_STEPS_CEILING,
	       "--max-events must fit the timeline's step array");
_Static_assert(OPTIONS_BUFFER_SIZE_MIN >= RXQUEUE_MIN_LIMIT,
	       "--buffer-size must allow a receive queue");

struct ifcache_entry {
	uint32_t index;
	uint64_t at;
	char name[IF_NAMESIZE];
};

struct daemon {
	const struct options *opts;
	struct nlsock *trace;
	struct rxthread *rx;		/* reads trace, queues for us */
	bool rx_more;			/* records left after a batch: poll without waiting */
	struct rulecache *rules;
	struct timeline_table *timelines;
	struct tracetable *table;
	struct resolver resolver;
	struct explain ex;	/* of the timeline being written */
	struct ifcache_entry ifcache[IFCACHE_SIZE];
	unsigned long emitted;
	bool stop;
	bool failed;		/* stop with EXIT_RUNTIME */
	bool wrote;
	bool counter_warned;
	uint64_t malformed, enobufs, queue_overruns;
	struct setcheck *setcheck;	/* explain: set membership, addresses */
	struct explain_ct_watch ct_watch;
	uint64_t next_stats_ns;		/* 0: no periodic report */
	struct capture_stats exit_stats;	/* for the journal's stop entry */
	uint64_t selected_before;	/* counted by trace rules a reload replaced */
	struct natlog *natlog;	/* --nat-log, NULL without */
	struct ctquery *ctquery;	/* a NATed connection's entry, NULL if unavailable */
	struct natmap asked;		/* ctquery's last answer */
	struct outbuf *out;	/* stdout, non-blocking (text and json) */
	bool output_error_logged;
	/* the service (systemd): journal, sd_notify, reload */
	int argc;
	char **argv;
	struct config *config0;	/* the file at start: opts' table etc. point into it */
	struct config *config;	/* the file of the match in use */
	struct options cur;	/* the options after a reload */
	bool notify;		/* started by systemd with Type=notify */
	bool status_dirty;
	bool ct_seen;		/* a timeline carried conntrack attributes */
	uint64_t status_at, lost_logged_at;
	uint64_t drops, journal_errors;
};

/* Status lines go to the journal, with a priority, for --output journal. */
static bool log_journal;

static void log_msg(const char *fmt, ...)
{
	va_list ap;

	if (log_journal) {
		char buf[2048];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		if (journal_message(strncmp(buf, "warning", 7) == 0 ? LOG_WARNING : LOG_ERR,
				    NULL, NULL, "%s", buf) == 0)
			return;
	}
	fputs("nattraced: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *resolve_rule(void *ctx, uint8_t family, const char *table,
				uint64_t handle, bool *ret_deleted)
{
	struct daemon *d = ctx;

	return rulecache_rule(d->rules, family, table, handle, ret_deleted);
}

static const char *resolve_hook(void *ctx, uint8_t family, const char *table,
				const char *chain)
{
	struct daemon *d = ctx;

	return rulecache_hook(d->rules, family, table, chain);
}

static bool final_accept(void *ctx, uint8_t family, const char *table, const char *chain,
			 bool first_packet)
{
	struct daemon *d = ctx;

	return rulecache_final_accept(d->rules, family, table, chain, first_packet);
}

static const char *resolve_ifname(void *ctx, uint32_t ifindex)
{
	struct daemon *d = ctx;
	struct ifcache_entry *e = &d->ifcache[ifindex % IFCACHE_SIZE];
	uint64_t now = now_ns();

	if (e->index == ifindex && e->at && now - e->at < IFCACHE_TTL_NS)
		return e->name[0] ? e->name : NULL;
	e->index = ifindex;
	e->at = now;
	/* gone already: remember that too, as an empty name */
	if (!if_indextoname(ifindex, e->name))
		e->name[0] = '\0';
	return e->name[0] ? e->name : NULL;
}

static const struct natmap *resolve_mapping(void *ctx, const struct tl_ct *ct,
					   const struct packet_info *orig)
{
	struct daemon *d = ctx;
	bool has_id = ct && (ct->present & TRACE_HAS_CT_ID);
	const struct natmap *m = NULL;

	if (d->natlog && has_id)
		m = natlog_lookup(d->natlog, ct->id);
	/* explain_timeline() asks once per timeline */
	if (!m && d->ctquery &&
	    ctquery_get(d->ctquery, orig, has_id ? ct->id : 0, now_ns(), &d->asked) == 0)
		m = &d->asked;
	return m && m->nat != NATMAP_NAT_NONE ? m : NULL;
}

/* A reader that went away (| head) is an end, not an error. Said once. */
static void output_failed(struct daemon *d, int err)
{
	if (err != -EPIPE) {
		if (!d->output_error_logged)
			log_msg("writing output failed: %s", strerror(-err));
		d->failed = true;
	}
	d->output_error_logged = true;
	d->stop = true;
}

static void service_emitted(struct daemon *d, const struct timeline *tl,
			    const struct tl_summary *sum);

static void emit(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct daemon *d = ctx;
	int r;

	(void)why;
	/* With --count, print exactly that many, even while flushing. */
	if (d->opts->count && d->emitted >= d->opts->count)
		return;
	/* A ruleset change since the last timeline: re-list before naming rules. */
	r = rulecache_refresh(d->rules);
	if (r < 0)
		log_msg("re-listing the ruleset failed: %s, rule text may be stale", strerror(-r));
	if (explain_ct_watch(&d->ct_watch, tl, &d->resolver))
		log_msg("trace events carry no conntrack state (kernel before 6.16, or no conntrack in this namespace): ct state per chain is not shown");
	/* The one place that asks: the outputs below only render. */
	explain_timeline(tl, &d->resolver, &d->ex);
	if (d->out)
		outbuf_begin(d->out);
	if (d->opts->output == OUTPUT_JSON)
		r = format_json_line(outbuf_file(d->out), tl, &d->ex);
	else if (d->opts->output == OUTPUT_JOURNAL)
		r = journal_timeline(tl, &d->ex);
	else
		r = format_text(outbuf_file(d->out), tl, &d->ex);
	/* a full buffer (a slow reader) drops this one, counted; not an end */
	if (d->out && (r = outbuf_commit(d->out, true)) == -ENOBUFS)
		return;
	/* journald away for a moment: lose this entry, not the trace */
	if (r < 0 && d->opts->output == OUTPUT_JOURNAL) {
		if (d->journal_errors++ == 0)
			fprintf(stderr, "nattraced: writing to the journal failed: %s, entries are lost\n",
				strerror(-r));
		r = 0;
	}
	if (r < 0) {
		output_failed(d, r);
		return;
	}
	d->wrote = true;
	d->emitted++;
	service_emitted(d, tl, &d->ex.sum);
	if (d->opts->count && d->emitted >= d->opts->count)
		d->stop = true;
}

enum lifecycle { LC_STARTED, LC_STOPPED, LC_LOST, LC_RELOADED, LC_RELOAD_REFUSED };
static void lifecycle(struct daemon *d, enum lifecycle what, const char *detail);

static void handle_datagram(struct daemon *d, const void *buf, size_t len,
			    uint64_t now)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;

	while ((nlh = trace_msg_next(buf, len, &off, &bad))) {
		struct trace_event ev;
		int r = trace_decode(nlh, &ev);

		/* -ENOMSG: not a trace event, nothing to count */
		if (r == -ENOMSG)
			continue;
		if (r < 0) {
			d->malformed++;
			continue;
		}
		timeline_add(d->timelines, &ev, now);
	}
	if (bad)
		d->malformed++;
}

/*
 * Group up to max records from the receive queue. Returns true when it was
 * found empty. With until_empty it goes on after --count was reached, to
 * account for what is queued.
 */
static bool consume_queue(struct daemon *d, int max, bool until_empty)
{
	uint64_t now = now_ns();

	for (int i = 0; i < max && (until_empty || !d->stop); i++) {
		enum rxrec_type type;
		size_t len;
		const void *rec = rxthread_next(d->rx, &type, &len);

		if (!rec)
			return true;
		/* the clock per 64 records, as per recvmmsg batch before */
		if ((i & 63) == 63)
			now = now_ns();
		switch (type) {
		case RXREC_DGRAM:
			handle_datagram(d, rec, len, now);
			break;
		case RXREC_TRUNC:
			/* larger than any trace event (MSG_TRUNC): skip it */
			d->malformed++;
			break;
		case RXREC_LOSS_ENOBUFS:
			/* Messages were lost: what is in flight may have gaps. */
			d->enobufs++;
			lifecycle(d, LC_LOST, NULL);
			timeline_loss_begin(d->timelines);
			break;
		case RXREC_LOSS_OVERRUN:
			/* The same for events our own queue had no room for. */
			if (d->queue_overruns++ == 0)
				log_msg("warning: receive queue overrun (--buffer-size %llu): trace events lost, affected timelines are marked incomplete",
					(unsigned long long)d->opts->buffer_size);
			timeline_loss_begin(d->timelines);
			break;
		case RXREC_LOSS_END:
			/* The socket was empty: any gap is behind us now. */
			timeline_loss_end(d->timelines);
			break;
		}
	}
	return false;
}

/*
 * Receive and group up to max messages. Returns true when the queue was
 * found empty. max >= DRAIN_ALL_MAX (a report, the exit) first has the
 * receive thread read what the socket holds now, so that what the trace
 * counter counted before this call is accounted for.
 */
static bool drain_trace(struct daemon *d, int max, bool until_empty)
{
	uint64_t ticket, deadline;
	bool empty;
	int r;

	if (max < DRAIN_ALL_MAX) {
		empty = consume_queue(d, max, until_empty);
		goto out;
	}
	ticket = rxthread_sync(d->rx);
	deadline = now_ns() + SYNC_WAIT_NS;
	for (;;) {
		bool synced = rxthread_synced(d->rx, ticket);
		uint64_t now;

		/* once synced, what the thread read is all in the queue */
		empty = consume_queue(d, max, until_empty);
		if ((!until_empty && d->stop) || (synced && empty))
			break;
		now = now_ns();
		if (now >= deadline)
			break;
		if (!empty)
			continue;
		poll(&(struct pollfd){ .fd = rxthread_fd(d->rx), .events = POLLIN }, 1,
		     (int)((deadline - now) / 1000000 + 1));
		rxthread_ack(d->rx);
	}
out:
	d->rx_more = !empty;
	r = rxthread_error(d->rx);
	if (empty && r < 0 && !d->failed) {
		log_msg("receiving trace events failed: %s", strerror(-r));
		d->failed = true;
		d->stop = true;
	}
	return empty;
}

/*
 * Stopping: the receive thread ends; what it queued is grouped, and the
 * losses it could not queue while the queue was full are counted.
 */
static void stop_receiving(struct daemon *d)
{
	rxthread_stop(d->rx);
	consume_queue(d, INT32_MAX, true);
	rxthread_flush(d->rx);
	consume_queue(d, INT32_MAX, true);
}

static void daemon_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGQUIT);
	sigaddset(mask, SIGUSR1);
}

static int open_signalfd(void)
{
	sigset_t mask;

	daemon_signals(&mask);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* word as a whole word of text: "ct state new", not "direct " */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		if ((p == text || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == ' ' || p[n] == '\t' || p[n] == '\0'))
			return true;
	return false;
}

static void hooks_text(unsigned int hooks, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int h = 0; h < NF_INET_NUMHOOKS; h++) {
		if (hooks & (1u << h))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "," : "", options_hook_keyword(h));
		if (off >= len)
			break;
	}
}

/*
 * The counter first, then what is queued: a packet selected in between
 * can make "lost" smaller, never invent a loss.
 */
static void read_selected(struct daemon *d, struct stats_input *in)
{
	int r = d->table ? tracetable_selected(d->table, &in->selected) : -ENOENT;

	in->selected_known = r == 0;
	in->selected += d->selected_before;
	if (r < 0 && !d->counter_warned) {
		log_msg("cannot read the trace rule's counter (%s): packets selected are not known",
			strerror(-r));
		d->counter_warned = true;
	}
}

/* A statistics entry: the text line, the counts as fields, and the JSON. */
static void journal_stats(const struct capture_stats *st)
{
	char text[1024], f[7][96], json[1024];
	const char *fields[8] = {};
	struct jsonw w;
	size_t n = 0;
	FILE *out = fmemopen(text, sizeof(text), "w");

	if (!out)
		return;
	fputs("stats: ", out);
	stats_text(out, st);
	fclose(out);
	jsonw_init(&w, json, sizeof(json));
	stats_json(&w, st);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_STATS_REASON=%s",
		 st->reason == STATS_SIGNAL ? "signal" : "interval");
	if (st->selected_known) {
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_SELECTED=%llu", (unsigned long long)st->selected);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_LOST=%llu", (unsigned long long)st->lost);
	}
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_TIMELINES=%llu", (unsigned long long)st->emitted);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_INCOMPLETE=%llu", (unsigned long long)st->incomplete);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_ENOBUFS=%llu", (unsigned long long)st->enobufs);
	for (size_t i = 0; i < n; i++)
		fields[i] = f[i];
	/* NATTRACE_JSON may be long: a field of its own, not in f[] */
	if (jsonw_text(&w)) {
		char *field = NULL;

		if (asprintf(&field, "NATTRACE_JSON=%s", jsonw_text(&w)) >= 0)
			fields[n++] = field;
		journal_message(LOG_INFO, JOURNAL_MSGID_STATS, fields, "%s", text);
		free(field);
	} else {
		journal_message(LOG_INFO, JOURNAL_MSGID_STATS, fields, "%s", text);
	}
	jsonw_release(&w);
}

static void report_stats(struct daemon *d, struct stats_input *in, enum stats_reason reason)
{
	struct capture_stats st;

	if (d->out) {
		const struct outbuf_stats *os = outbuf_stats(d->out);

		/* pending ones are delivered or counted dropped by the exit */
		in->printed = os->delivered + os->pending;
		in->output_dropped = os->dropped;
	} else {
		in->printed = d->emitted;
	}
	in->in_flight = timeline_inflight(d->timelines);
	in->enobufs = d->enobufs;
	in->queue_overruns = d->queue_overruns;
	in->malformed = d->malformed;
	stats_compute(in, timeline_stats(d->timelines), reason, &st);
	if (log_journal) {
		/* the stop entry carries the last account */
		if (reason == STATS_EXIT)
			d->exit_stats = st;
		else
			journal_stats(&st);
		return;
	}
	if (d->opts->output == OUTPUT_JSON) {
		char stack[1024];
		struct jsonw w;
		const char *line;

		jsonw_init(&w, stack, sizeof(stack));
		stats_json(&w, &st);
		jsonw_raw(&w, "\n", 1);
		line = jsonw_text(&w);
		if (line && !d->output_error_logged) {
			outbuf_begin(d->out);
			fwrite(line, 1, w.len, outbuf_file(d->out));
			if (outbuf_commit(d->out, false) == 0)
				d->wrote = true;
		}
		jsonw_release(&w);
	}
	/* Text users read the log; at exit everyone gets the summary there. */
	if (d->opts->output != OUTPUT_JSON || reason == STATS_EXIT) {
		fputs(reason == STATS_EXIT ? "nattraced: stopped: " : "nattraced: stats: ", stderr);
		stats_text(stderr, &st);
		fputc('\n', stderr);
	}
}

static void periodic_stats(struct daemon *d, enum stats_reason reason)
{
	struct stats_input in = {};

	read_selected(d, &in);
	drain_trace(d, DRAIN_ALL_MAX, false);
	report_stats(d, &in, reason);
	if (d->opts->stats_interval)
		d->next_stats_ns = now_ns() + d->opts->stats_interval * 1000000000ull;
}

/* ---- the service: lifecycle entries, sd_notify status, reload ---- */

#define STATUS_INTERVAL_NS	(1000ull * 1000 * 1000)
#define LOST_INTERVAL_NS	(60ull * 1000 * 1000 * 1000)

static void service_emitted(struct daemon *d, const struct timeline *tl,
			    const struct tl_summary *sum)
{
	if (!d->notify && !log_journal)
		return;
	if (sum->verdict == TL_VERDICT_DROP)
		d->drops++;
	d->status_dirty = true;
	if (d->ct_seen)
		return;
	for (int h = 0; h < tl->n_hdrs; h++) {
		if (!tl->hdrs[h].ct.present)
			continue;
		/* Linux 6.16+ sends them: say so once, when the first shows up */
		d->ct_seen = true;
		if (log_journal)
			journal_message(LOG_INFO, NULL,
					(const char *const[]){ "NATTRACE_CT_ATTRS=seen", NULL },
					"the kernel sends conntrack trace attributes (ct state, direction, status, id)");
		break;
	}
}

/* STATUS= for systemctl status: at most once a second, when something changed. */
static void service_status(struct daemon *d, uint64_t now, bool force)
{
	char buf[256];

	if (!d->notify || (!force && (!d->status_dirty || now - d->status_at < STATUS_INTERVAL_NS)))
		return;
	snprintf(buf, sizeof(buf),
		 "STATUS=tracing '%.80s': %lu packets traced, %llu dropped, %llu receive overruns",
		 d->opts->match, d->emitted, (unsigned long long)d->drops,
		 (unsigned long long)d->enobufs);
	journal_notify(buf);
	d->status_at = now;
	d->status_dirty = false;
}

/* Wake up for a STATUS= update that is due. */
static int64_t service_wait(const struct daemon *d, uint64_t now, int64_t wait)
{
	int64_t due;

	if (!d->notify || !d->status_dirty)
		return wait;
	due = now - d->status_at >= STATUS_INTERVAL_NS ? 0 :
	      (int64_t)(d->status_at + STATUS_INTERVAL_NS - now);
	return wait < 0 || due < wait ? due : wait;
}

static void log_fields(int priority, const char *msgid, const char *const *fields,
		       const char *text)
{
	if (!log_journal || journal_message(priority, msgid, fields, "%s", text) < 0)
		fprintf(stderr, "nattraced: %s\n", text);
}

/*
 * The daemon's life in one place: to the journal with a MESSAGE_ID and
 * fields for --output journal, otherwise the stderr lines as before.
 */
static void lifecycle(struct daemon *d, enum lifecycle what, const char *detail)
{
	const struct options *o = d->opts;
	const struct timeline_stats *st = timeline_stats(d->timelines);
	char hooks[64], text[2048], f[8][256];
	const char *fields[9] = {};
	struct utsname u = {};
	uint64_t now = now_ns();

	hooks_text(o->hooks, hooks, sizeof(hooks));
	switch (what) {
	case LC_STARTED:
		if (!log_journal) {
			log_msg("tracing '%s' at %s, rate %s, table %s %s", o->match, hooks,
				o->rate_none ? "unlimited" : o->rate,
				options_family_keyword(o->family), o->table);
			break;
		}
		uname(&u);
		snprintf(text, sizeof(text),
			 "tracing '%s' at %s, rate %s, table %s %s; kernel %s, conntrack trace attributes not yet seen (Linux 6.16 and later send them)",
			 o->match, hooks, o->rate_none ? "unlimited" : o->rate,
			 options_family_keyword(o->family), o->table, u.release);
		snprintf(f[0], sizeof(f[0]), "NATTRACE_MATCH=%s", o->match);
		snprintf(f[1], sizeof(f[1]), "NATTRACE_RATE=%s", o->rate_none ? "none" : o->rate);
		snprintf(f[2], sizeof(f[2]), "NATTRACE_TABLE=%s %s",
			 options_family_keyword(o->family), o->table);
		snprintf(f[3], sizeof(f[3]), "NATTRACE_HOOKS=%s", hooks);
		snprintf(f[4], sizeof(f[4]), "NATTRACE_KERNEL=%s", u.release);
		snprintf(f[5], sizeof(f[5]), "NATTRACE_CT_ATTRS=not yet seen");
		snprintf(f[6], sizeof(f[6]), "NATTRACE_CONFIG=%s", o->config ? o->config : "");
		for (int i = 0; i < 7; i++)
			fields[i] = f[i];
		log_fields(LOG_INFO, JOURNAL_MSGID_STARTED, fields, text);
		break;
	case LC_STOPPED: {
		const struct capture_stats *cs = &d->exit_stats;
		size_t n;
		FILE *f_text;

		/* without the journal, report_stats() wrote the stop line */
		if (!log_journal)
			break;
		f_text = fmemopen(text, sizeof(text), "w");
		if (!f_text)
			break;
		fputs("stopped: ", f_text);
		stats_text(f_text, cs);
		fprintf(f_text, "; %llu dropped; %llu journal write errors; conntrack trace attributes %s",
			(unsigned long long)d->drops, (unsigned long long)d->journal_errors,
			d->ct_seen ? "seen" : "not seen");
		fclose(f_text);
		n = 0;
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_TIMELINES=%lu", d->emitted);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_DROPS=%llu", (unsigned long long)d->drops);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_ENOBUFS=%llu", (unsigned long long)d->enobufs);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_INCOMPLETE=%llu",
			 (unsigned long long)st->incomplete);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_MALFORMED=%llu",
			 (unsigned long long)d->malformed);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_CT_ATTRS=%s", d->ct_seen ? "seen" : "not seen");
		if (cs->selected_known) {
			snprintf(f[n++], sizeof(f[0]), "NATTRACE_SELECTED=%llu",
				 (unsigned long long)cs->selected);
			snprintf(f[n++], sizeof(f[0]), "NATTRACE_LOST=%llu", (unsigned long long)cs->lost);
		}
		for (size_t i = 0; i < n; i++)
			fields[i] = f[i];
		log_fields(LOG_INFO, JOURNAL_MSGID_STOPPED, fields, text);
		break;
	}
	case LC_LOST:
		/* stderr: once, as before; the journal: at most once a minute */
		if (!log_journal) {
			if (d->enobufs == 1)
				log_msg("receive buffer overrun: trace events lost, affected timelines are marked incomplete");
			break;
		}
		if (d->lost_logged_at && now - d->lost_logged_at < LOST_INTERVAL_NS)
			break;
		d->lost_logged_at = now;
		snprintf(text, sizeof(text),
			 "receive buffer overrun: trace events lost (%llu overruns so far), affected timelines are marked incomplete",
			 (unsigned long long)d->enobufs);
		snprintf(f[0], sizeof(f[0]), "NATTRACE_ENOBUFS=%llu", (unsigned long long)d->enobufs);
		fields[0] = f[0];
		log_fields(LOG_WARNING, JOURNAL_MSGID_LOST, fields, text);
		break;
	case LC_RELOADED:
		snprintf(text, sizeof(text), "reloaded: tracing '%s' at %s, rate %s, table %s %s",
			 o->match, hooks, o->rate_none ? "unlimited" : o->rate,
			 options_family_keyword(o->family), o->table);
		snprintf(f[0], sizeof(f[0]), "NATTRACE_RELOAD=applied");
		snprintf(f[1], sizeof(f[1]), "NATTRACE_MATCH=%s", o->match);
		fields[0] = f[0];
		fields[1] = f[1];
		log_fields(LOG_NOTICE, JOURNAL_MSGID_RELOAD, fields, text);
		break;
	case LC_RELOAD_REFUSED:
		snprintf(text, sizeof(text), "reload refused: %s; still tracing '%s'", detail,
			 o->match);
		snprintf(f[0], sizeof(f[0]), "NATTRACE_RELOAD=refused");
		snprintf(f[1], sizeof(f[1]), "NATTRACE_MATCH=%s", o->match);
		fields[0] = f[0];
		fields[1] = f[1];
		log_fields(LOG_ERR, JOURNAL_MSGID_RELOAD, fields, text);
		break;
	}
}

/*
 * SIGHUP: read the configuration again and swap the trace rule in one
 * batch. The table's name and family, the output, --count and --timeout
 * stay as they were at start. A refused match leaves the old one running.
 */
static void reload(struct daemon *d)
{
	struct tracetable_config cfg;
	struct config *c = NULL;
	struct options o;
	uint64_t selected;
	char err[1024];
	int r;

	journal_notify("RELOADING=1");
	r = config_options(d->argc, d->argv, &o, &c, err, sizeof(err));
	if (r < 0) {
		lifecycle(d, LC_RELOAD_REFUSED, err);
		goto out;
	}
	if (o.family != d->opts->family || strcmp(o.table, d->opts->table) != 0 ||
	    o.output != d->opts->output || o.count != d->opts->count ||
	    o.timeout != d->opts->timeout)
		log_msg("warning: reload: table, family, output, count and timeout keep their values from the start (a restart applies them)");
	cfg = (struct tracetable_config){
		.family = d->opts->family, .table = d->opts->table, .hooks = o.hooks,
		.match = o.match, .rate = o.rate_none ? NULL : o.rate,
	};
	/*
	 * The new rules count from zero: keep what the old ones counted.
	 * Packets selected between this read and the swap are not counted.
	 */
	if (tracetable_selected(d->table, &selected) < 0)
		selected = 0;
	r = tracetable_replace(d->table, &cfg, err, sizeof(err));
	if (r < 0) {
		config_free(c);
		lifecycle(d, LC_RELOAD_REFUSED, err);
		goto out;
	}
	d->selected_before += selected;
	/* our chains changed: judge the next packets against them */
	if (rulecache_sync(d->rules) < 0)
		log_msg("warning: listing the ruleset after the reload failed, rule text may be stale");
	d->cur = *d->opts;
	d->cur.match = o.match;
	memcpy(d->cur.rate, o.rate, sizeof(d->cur.rate));
	d->cur.rate_none = o.rate_none;
	d->cur.hooks = o.hooks;
	d->opts = &d->cur;
	if (d->config != d->config0)
		config_free(d->config);
	d->config = c;
	if (o.rate_none)
		log_msg("warning: --rate none: every matching packet is traced, which costs CPU on a busy host");
	if (has_word(o.match, "ct"))
		log_msg("warning: the trace rule runs before conntrack: ct expressions in --match see no connection yet");
	lifecycle(d, LC_RELOADED, NULL);
out:
	journal_notify("READY=1");
	service_status(d, now_ns(), true);
}

/* Returns the exit status. */
static int run(struct daemon *d, int sfd)
{
	const struct options *o = d->opts;
	struct stats_input in = {};
	uint64_t deadline = 0;
	bool timed_out = false;
	int r;
	struct pollfd pfd[5] = {
		{ .fd = rxthread_fd(d->rx), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = rulecache_fd(d->rules), .events = POLLIN },
		{ .fd = d->natlog ? natlog_fd(d->natlog) : -1, .events = POLLIN },
		{ .fd = -1, .events = POLLOUT },	/* stdout, while output waits */
	};

	if (o->timeout > 0)
		deadline = now_ns() + (uint64_t)(o->timeout * 1e9);

	while (!d->stop) {
		uint64_t now = now_ns();
		int64_t wait = timeline_next_expiry(d->timelines, now);
		int timeout_ms;

		if (deadline) {
			if (now >= deadline) {
				timed_out = true;
				break;
			}
			if (wait < 0 || (uint64_t)wait > deadline - now)
				wait = (int64_t)(deadline - now);
		}
		if (d->next_stats_ns) {
			if (now >= d->next_stats_ns) {
				periodic_stats(d, STATS_INTERVAL);
				continue;
			}
			if (wait < 0 || (uint64_t)wait > d->next_stats_ns - now)
				wait = (int64_t)(d->next_stats_ns - now);
		}
		wait = service_wait(d, now, wait);
		/* Round up so a wakeup never comes before the expiry. */
		timeout_ms = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
		/* records left from the last batch: look at them at once */
		if (d->rx_more)
			timeout_ms = 0;
		/* expiry waits for a loss marker on its way: no busy loop meanwhile */
		else if (timeout_ms >= 0 && timeout_ms < RXTHREAD_COALESCE_MS &&
			 rxthread_losing(d->rx))
			timeout_ms = RXTHREAD_COALESCE_MS;
		/* poll() skips entries with a negative fd */
		pfd[4].fd = d->out && outbuf_pending(d->out) ? outbuf_fd(d->out) : -1;
		if (poll(pfd, 5, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			log_msg("poll: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					periodic_stats(d, STATS_SIGNAL);
				else if (si.ssi_signo == SIGHUP)
					reload(d);
				else
					break;
			}
		}
		if (pfd[2].fd >= 0 && (pfd[2].revents & POLLIN))
			rulecache_on_readable(d->rules);
		/* Mappings first: a timeline ending now may name one. */
		if (pfd[3].revents & (POLLIN | POLLERR)) {
			r = natlog_drain(d->natlog);
			if (r < 0) {
				d->failed = r != -EPIPE;
				d->stop = true;
			}
			if (r > 0)
				d->wrote = true;
		}
		/* The receive thread published records (or a loss). */
		if (pfd[0].revents & POLLIN)
			rxthread_ack(d->rx);
		if ((pfd[0].revents & POLLIN) || d->rx_more)
			drain_trace(d, DRAIN_BATCH, false);
		/*
		 * Not while the receive thread owes a loss marker: a timeline
		 * whose later events were dropped would end as complete.
		 */
		if (!rxthread_losing(d->rx))
			timeline_expire(d->timelines, now_ns());
		service_status(d, now_ns(), false);
		/* One write per wakeup, never waiting on the reader. */
		if (d->out && (d->wrote || (pfd[4].revents & (POLLOUT | POLLERR)))) {
			d->wrote = false;
			r = outbuf_flush(d->out);
			if (r < 0)
				output_failed(d, r);
		}
	}
	/*
	 * Stopping: account for what is queued, then the timelines in flight
	 * are as complete as they will get.
	 */
	read_selected(d, &in);
	/* after an output error too: what it never got is counted, not lost */
	drain_trace(d, DRAIN_ALL_MAX, true);
	stop_receiving(d);
	timeline_flush(d->timelines);
	/* A stopped reader gets a moment, not our exit: the rest is counted. */
	if (d->out && (r = outbuf_drain(d->out, OUTPUT_EXIT_GRACE_MS)) < 0)
		output_failed(d, r);
	report_stats(d, &in, STATS_EXIT);
	if (d->out && (r = outbuf_drain(d->out, OUTPUT_EXIT_GRACE_MS)) < 0)
		output_failed(d, r);
	if (d->failed)
		return EXIT_RUNTIME;
	if (timed_out && o->count && d->emitted < o->count)
		return EXIT_TIMEOUT;
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options opts;
	struct daemon d = {};
	struct timeline_config tcfg;
	struct tracetable_config cfg;
	char err[1024], *listing = NULL;
	int r, sfd = -1, status = EXIT_RUNTIME;
	sigset_t mask;

	/*
	 * Before anything else: a SIGHUP or SIGUSR1 that arrives during
	 * start-up would otherwise take its default action and end us. They
	 * stay pending until the signalfd reads them (every mode has one).
	 */
	daemon_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = config_options(argc, argv, &opts, &d.config0, err, sizeof(err));
	if (r == -ENOMEM) {
		fprintf(stderr, "nattraced: %s\n", strerror(-r));
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "nattraced: %s\nTry 'nattraced --help'.\n", err);
		return EXIT_USAGE;
	}
	if (opts.output == OUTPUT_JOURNAL && !journal_supported()) {
		fprintf(stderr, "nattraced: --output journal: this nattraced was built without journal support (libsystemd)\n");
		config_free(d.config0);
		return EXIT_USAGE;
	}
	/* No journald: fail now rather than lose every entry in silence. */
	if (opts.output == OUTPUT_JOURNAL && !opts.help && !opts.version &&
	    (r = journal_reachable()) < 0) {
		fprintf(stderr, "nattraced: --output journal: no journald listens at /run/systemd/journal/socket (%s); start systemd-journald, or use --output text or json\n",
			strerror(-r));
		config_free(d.config0);
		return EXIT_RUNTIME;
	}
	if (opts.help) {
		options_usage(stdout);
		return EXIT_OK;
	}
	if (opts.version) {
		printf("nattraced %s\n", NATTRACED_VERSION);
		return EXIT_OK;
	}
	/* The NAT modes without a trace: they never install the trace table. */
	if (opts.nat_table)
		return natlog_table_main(&opts);
	if (!opts.match)
		return natlog_only_main(&opts);
	d.opts = &opts;
	d.argc = argc;
	d.argv = argv;
	d.config = d.config0;
	d.notify = getenv("NOTIFY_SOCKET") != NULL;
	log_journal = opts.output == OUTPUT_JOURNAL;
	d.resolver = (struct resolver){
		.ctx = &d, .rule = resolve_rule, .hook = resolve_hook,
		.ifname = resolve_ifname, .mapping = resolve_mapping,
	};
	if (opts.rate_none)
		log_msg("warning: --rate none: every matching packet is traced, which costs CPU on a busy host");
	/* The trace chains run at -350, before conntrack (-200). */
	if (has_word(opts.match, "ct"))
		log_msg("warning: the trace rule runs before conntrack: ct expressions in --match see no connection yet");
	/* Output errors come back as EPIPE, so a closed reader ends us cleanly. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, OUTPUT_BUF);
	if (opts.output != OUTPUT_JOURNAL) {
		r = outbuf_new(STDOUT_FILENO, &d.out);
		if (r < 0) {
			log_msg("cannot set up the output: %s", strerror(-r));
			goto out;
		}
	}

	/* Listen before the table exists, or the first packets go unseen. */
	r = nlsock_open(NFNLGRP_NFTRACE, NLSOCK_RCVBUF, &d.trace);
	if (r < 0) {
		log_msg("cannot listen to nftables trace events: %s%s", strerror(-r),
			r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		goto out;
	}
	/* From now on a thread of its own reads the socket into a queue. */
	r = rxthread_start(d.trace, opts.buffer_size, &d.rx);
	if (r < 0) {
		log_msg("cannot start receiving: %s", strerror(-r));
		goto out;
	}
	/* Conntrack events too, before the first connection can be missed. */
	if (opts.nat_log) {
		r = natlog_open(opts.output, &d.natlog);
		if (r < 0) {
			log_msg("cannot listen to conntrack events: %s", strerror(-r));
			goto out;
		}
		natlog_set_output(d.natlog, d.out);
	}
	r = rulecache_new(&d.rules);
	if (r < 0) {
		log_msg("cannot read the ruleset: %s", strerror(-r));
		goto out;
	}
	/* Without it, source NAT ports stay '?' unless the rule names one. */
	r = ctquery_new(&d.ctquery);
	if (r < 0)
		log_msg("warning: cannot query conntrack: %s, source NAT ports are not shown", strerror(-r));
	/* Without it, timelines just carry no set-membership hints. */
	r = setcheck_new(d.rules, &d.setcheck);
	if (r < 0)
		log_msg("cannot check set membership: %s, continuing without hints", strerror(-r));
	else
		setcheck_resolver(d.setcheck, &d.resolver);
	{
		struct utsname u;

		if (uname(&u) == 0 && !explain_kernel_sends_ct(u.release))
			log_msg("kernel %s sends no conntrack state in trace events (Linux 6.16 and later do): ct state per chain is not shown", u.release);
	}
	tcfg = (struct timeline_config){
		.own_table = opts.table, .own_family = opts.family,
		.max_inflight = opts.max_inflight, .max_steps = opts.max_events,
		.idle_ns = TIMELINE_IDLE_NS,
		.emit = emit, .emit_ctx = &d,
		.final_accept = final_accept, .final_ctx = &d,
	};
	r = timeline_table_new(&tcfg, &d.timelines);
	if (r < 0) {
		log_msg("cannot allocate timelines: %s", strerror(-r));
		goto out;
	}
	sfd = open_signalfd();
	if (sfd < 0) {
		log_msg("signalfd: %s", strerror(-sfd));
		goto out;
	}

	cfg = (struct tracetable_config){
		.family = opts.family, .table = opts.table, .hooks = opts.hooks,
		.match = opts.match, .rate = opts.rate_none ? NULL : opts.rate,
		.ret_listing = opts.nat_log == NAT_LOG_MATCH ? &listing : NULL,
	};
	r = tracetable_install(&cfg, &d.table, err, sizeof(err));
	if (r < 0) {
		log_msg("%s", err);
		status = r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	if (d.natlog) {
		r = natlog_start(d.natlog, listing);
		free(listing);
		listing = NULL;
		if (r < 0)
			goto out;
	}
	r = rulecache_sync(d.rules);
	if (r < 0)
		log_msg("listing the ruleset failed: %s, rules will show as handles", strerror(-r));
	lifecycle(&d, LC_STARTED, NULL);
	/* The trace runs: tell systemd (Type=notify). */
	journal_notify("READY=1");
	service_status(&d, now_ns(), true);

	if (opts.stats_interval)
		d.next_stats_ns = now_ns() + opts.stats_interval * 1000000000ull;
	status = run(&d, sfd);
	lifecycle(&d, LC_STOPPED, NULL);
	if (d.natlog)
		natlog_report(d.natlog);
	if (d.setcheck && setcheck_stats(d.setcheck)->limited)
		log_msg("set membership: %lu queries, %lu answers reused, %lu not asked (rate limit)",
			setcheck_stats(d.setcheck)->queries, setcheck_stats(d.setcheck)->cached,
			setcheck_stats(d.setcheck)->limited);
out:
	journal_notify("STOPPING=1");
	free(listing);
	d.natlog = natlog_close(d.natlog);
	d.out = outbuf_free(d.out);
	d.table = tracetable_free(d.table);
	d.timelines = timeline_table_free(d.timelines);
	d.setcheck = setcheck_free(d.setcheck);
	d.ctquery = ctquery_free(d.ctquery);
	d.rules = rulecache_free(d.rules);
	d.rx = rxthread_free(d.rx);
	d.trace = nlsock_close(d.trace);
	if (sfd >= 0)
		close(sfd);
	if (d.config != d.config0)
		config_free(d.config);
	config_free(d.config0);
	return status;
}
