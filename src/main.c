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
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include "explain.h"
#include "format.h"
#include "nattraced.h"
#include "nlsock.h"
#include "options.h"
#include "rulecache.h"
#include "setcheck.h"
#include "stats.h"
#include "timeline.h"
#include "tracetable.h"

/* Messages handled per wakeup before signals and expiry get a look. */
#define DRAIN_BATCH	4096
/* At exit and for a report: what is queued, but not forever under a flood. */
#define DRAIN_ALL_MAX	(16 * DRAIN_BATCH)
/* stdout is written once per wakeup, not per 4 KiB. */
#define OUTPUT_BUF	(256 * 1024)
/*
 * if_indextoname() opens a socket per call; a packet's interfaces repeat,
 * so names are cached, briefly enough that a renamed one shows up soon.
 */
#define IFCACHE_SIZE	64
#define IFCACHE_TTL_NS	(1000ull * 1000 * 1000)

_Static_assert(OPTIONS_MAX_EVENTS_LIMIT <= TIMELINE_STEPS_CEILING,
	       "--max-events must fit the timeline's step array");

struct ifcache_entry {
	uint32_t index;
	uint64_t at;
	char name[IF_NAMESIZE];
};

struct daemon {
	const struct options *opts;
	struct nlsock *trace;
	struct nlsock_batch *batch;
	struct rulecache *rules;
	struct timeline_table *timelines;
	struct tracetable *table;
	struct resolver resolver;
	struct ifcache_entry ifcache[IFCACHE_SIZE];
	unsigned long emitted;
	bool stop;
	bool failed;		/* stop with EXIT_RUNTIME */
	bool wrote;
	bool counter_warned;
	uint64_t malformed, enobufs;
	struct setcheck *setcheck;	/* explain: set membership, addresses */
	struct explain_ct_watch ct_watch;
	bool overrun_pending;		/* ENOBUFS read, queue not yet drained */
	uint64_t next_stats_ns;		/* 0: no periodic report */
};

static void log_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("nattraced: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/* A reader that went away (| head) is an end, not an error. */
static void output_failed(struct daemon *d)
{
	if (errno != EPIPE) {
		log_msg("writing output failed: %s", strerror(errno));
		d->failed = true;
	}
	d->stop = true;
}

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
	if (d->opts->output == OUTPUT_JSON)
		r = format_json_line(stdout, tl, &d->resolver);
	else
		r = format_text(stdout, tl, &d->resolver);
	if (r < 0) {
		output_failed(d);
		return;
	}
	d->wrote = true;
	d->emitted++;
	if (d->opts->count && d->emitted >= d->opts->count)
		d->stop = true;
}

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
 * Receive and group up to max messages. Returns true when the socket was
 * found empty. With until_empty it goes on after --count was reached, to
 * account for what is queued.
 */
static bool drain_trace(struct daemon *d, int max, bool until_empty)
{
	struct nlsock_batch *b = d->batch;

	for (int i = 0; i < max && (until_empty || !d->stop); i += NLSOCK_BATCH) {
		int n = nlsock_recv_batch(d->trace, b);
		uint64_t now;

		if (n == -EAGAIN) {
			/*
			 * The kernel reports ENOBUFS before the messages queued
			 * ahead of the gap: a packet whose first events were
			 * queued and the rest lost is in flight only now.
			 */
			if (d->overrun_pending)
				timeline_mark_lossy(d->timelines);
			d->overrun_pending = false;
			return true;
		}
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			/* Messages were lost: what is in flight may have gaps. */
			if (d->enobufs++ == 0)
				log_msg("receive buffer overrun: trace events lost, affected timelines are marked incomplete");
			timeline_mark_lossy(d->timelines);
			d->overrun_pending = true;
			continue;
		}
		if (n < 0) {
			log_msg("receiving trace events failed: %s", strerror(-n));
			d->failed = true;
			d->stop = true;
			return true;
		}
		now = now_ns();
		for (unsigned int k = 0; k < b->n; k++) {
			/* larger than any trace event (MSG_TRUNC): skip it */
			if (b->len[k] < 0)
				d->malformed++;
			else
				handle_datagram(d, b->buf[k], (size_t)b->len[k], now);
		}
	}
	return false;
}

static int open_signalfd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
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
	if (r < 0 && !d->counter_warned) {
		log_msg("cannot read the trace rule's counter (%s): packets selected are not known",
			strerror(-r));
		d->counter_warned = true;
	}
}

static void report_stats(struct daemon *d, struct stats_input *in, enum stats_reason reason)
{
	struct capture_stats st;

	in->printed = d->emitted;
	in->in_flight = timeline_inflight(d->timelines);
	in->enobufs = d->enobufs;
	in->malformed = d->malformed;
	stats_compute(in, timeline_stats(d->timelines), reason, &st);
	if (d->opts->output == OUTPUT_JSON) {
		char stack[1024];
		struct jsonw w;
		const char *line;

		jsonw_init(&w, stack, sizeof(stack));
		stats_json(&w, &st);
		jsonw_raw(&w, "\n", 1);
		line = jsonw_text(&w);
		if (line && fwrite(line, 1, w.len, stdout) != w.len)
			output_failed(d);
		d->wrote = true;
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

/* Returns the exit status. */
static int run(struct daemon *d, int sfd)
{
	const struct options *o = d->opts;
	struct stats_input in = {};
	uint64_t deadline = 0;
	bool timed_out = false;
	struct pollfd pfd[3] = {
		{ .fd = nlsock_fd(d->trace), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = rulecache_fd(d->rules), .events = POLLIN },
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
		/* Round up so a wakeup never comes before the expiry. */
		timeout_ms = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
		if (poll(pfd, pfd[2].fd >= 0 ? 3 : 2, timeout_ms) < 0) {
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
				else if (si.ssi_signo != SIGHUP)
					break;
			}
		}
		if (pfd[2].fd >= 0 && (pfd[2].revents & POLLIN))
			rulecache_on_readable(d->rules);
		/* ENOBUFS is reported as POLLERR: recv reads it. */
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP))
			drain_trace(d, DRAIN_BATCH, false);
		timeline_expire(d->timelines, now_ns());
		/* One flush per wakeup, not per line: cheap under a flood. */
		if (d->wrote) {
			d->wrote = false;
			if (fflush(stdout) == EOF)
				output_failed(d);
		}
	}
	/*
	 * Stopping: account for what is queued, then the timelines in flight
	 * are as complete as they will get.
	 */
	read_selected(d, &in);
	if (!d->failed) {
		drain_trace(d, DRAIN_ALL_MAX, true);
		timeline_flush(d->timelines);
	}
	report_stats(d, &in, STATS_EXIT);
	if (!d->failed && fflush(stdout) == EOF)
		output_failed(d);
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
	char err[1024], hooks[64];
	int r, sfd = -1, status = EXIT_RUNTIME;

	if (options_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "nattraced: %s\nTry 'nattraced --help'.\n", err);
		return EXIT_USAGE;
	}
	if (opts.help) {
		options_usage(stdout);
		return EXIT_OK;
	}
	if (opts.version) {
		printf("nattraced %s\n", NATTRACED_VERSION);
		return EXIT_OK;
	}
	d.opts = &opts;
	d.resolver = (struct resolver){
		.ctx = &d, .rule = resolve_rule, .hook = resolve_hook,
		.ifname = resolve_ifname,
	};
	if (opts.rate_none)
		log_msg("warning: --rate none: every matching packet is traced, which costs CPU on a busy host");
	/* The trace chains run at -350, before conntrack (-200). */
	if (has_word(opts.match, "ct"))
		log_msg("warning: the trace rule runs before conntrack: ct expressions in --match see no connection yet");
	/* Output errors come back as EPIPE, so a closed reader ends us cleanly. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, OUTPUT_BUF);

	/* Listen before the table exists, or the first packets go unseen. */
	r = nlsock_open(NFNLGRP_NFTRACE, NLSOCK_RCVBUF, &d.trace);
	if (r < 0) {
		log_msg("cannot listen to nftables trace events: %s%s", strerror(-r),
			r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		goto out;
	}
	d.batch = malloc(sizeof(*d.batch));
	if (!d.batch) {
		log_msg("cannot allocate the receive buffers: %s", strerror(ENOMEM));
		goto out;
	}
	r = rulecache_new(&d.rules);
	if (r < 0) {
		log_msg("cannot read the ruleset: %s", strerror(-r));
		goto out;
	}
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
	};
	r = tracetable_install(&cfg, &d.table, err, sizeof(err));
	if (r < 0) {
		log_msg("%s", err);
		status = r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	r = rulecache_refresh(d.rules);
	if (r < 0)
		log_msg("listing the ruleset failed: %s, rules will show as handles", strerror(-r));
	hooks_text(opts.hooks, hooks, sizeof(hooks));
	log_msg("tracing '%s' at %s, rate %s, table %s %s", opts.match, hooks,
		opts.rate_none ? "unlimited" : opts.rate,
		options_family_keyword(opts.family), opts.table);

	if (opts.stats_interval)
		d.next_stats_ns = now_ns() + opts.stats_interval * 1000000000ull;
	status = run(&d, sfd);
	if (d.setcheck && setcheck_stats(d.setcheck)->limited)
		log_msg("set membership: %lu queries, %lu answers reused, %lu not asked (rate limit)",
			setcheck_stats(d.setcheck)->queries, setcheck_stats(d.setcheck)->cached,
			setcheck_stats(d.setcheck)->limited);
out:
	d.table = tracetable_free(d.table);
	d.timelines = timeline_table_free(d.timelines);
	d.setcheck = setcheck_free(d.setcheck);
	d.rules = rulecache_free(d.rules);
	d.trace = nlsock_close(d.trace);
	free(d.batch);
	if (sfd >= 0)
		close(sfd);
	return status;
}
