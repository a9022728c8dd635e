/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon loop: poll the receive thread's queue, the ruleset-change
 * socket, the NAT log, a signalfd and a waiting stdout; group events
 * into timelines, explain each once and hand it to its output; account
 * for every packet selected (stats).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "natlog.h"
#include "nattraced.h"
#include "outbuf.h"
#include "rulecache.h"
#include "rxthread.h"
#include "sink.h"
#include "trace.h"
#include "tracetable.h"
#include "verifier.h"

/* The output failed (said by the sink): stop; a reader that left is no error. */
static void output_failed(struct daemon *d, int err)
{
	if (err != -EPIPE)
		d->failed = true;
	d->stop = true;
}

void daemon_emit(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct daemon *d = ctx;
	struct follow_conn *fc;
	enum follow_dir fdir = FOLLOW_DIR_ORIGINAL;
	uint8_t fflags = 0;
	int r;

	(void)why;
	/* With --count, print exactly that many, even while flushing. */
	if (d->opts->count && d->emitted >= d->opts->count)
		return;
	/* The last timeline is written: the rule texts it held may go. */
	rulecache_epoch_end(d->rules);
	/* A ruleset change since the last timeline: re-list before naming rules. */
	r = rulecache_refresh(d->rules);
	if (r < 0)
		log_warning("re-listing the ruleset failed: %s, rule text may be stale",
			    strerror(-r));
	if (explain_ct_watch(&d->ct_watch, tl, &d->resolver))
		log_notice(
			"trace events carry no conntrack state (kernel before 6.16, or no conntrack in this namespace): ct state per chain is not shown");
	/* The one place that asks: the outputs below only render. */
	explain_timeline(tl, &d->resolver, &d->ex);
	if (d->explained)
		d->explained(d->explained_ctx, tl, &d->ex);
	if (d->verifier)
		verifier_annotate(d->verifier, tl, &d->ex);
	/* the caller writes its own results: the timeline is only counted */
	if (d->no_timelines) {
		d->emitted++;
		return;
	}
	fc = follower_of(d, tl, &d->ex, &fdir, &fflags);
	/* --follow, text: the connection's block takes it */
	if (fc && sink_groups_connections(d->sink) && follower_keep(d, fc, tl, &d->ex)) {
		sink_summary_count(d->sink, tl, &d->ex);
		d->emitted++;
		service_emitted(d, tl, &d->ex.sum);
		follower_counted(d, fc, fdir, fflags);
		if (d->opts->count && d->emitted >= d->opts->count)
			d->stop = true;
		return;
	}
	r = sink_timeline(d->sink, tl, &d->ex);
	/* a full buffer (a slow reader) drops this one, counted; not an end */
	if (r == -ENOBUFS)
		return;
	if (r < 0) {
		output_failed(d, r);
		return;
	}
	d->emitted++;
	service_emitted(d, tl, &d->ex.sum);
	if (fc)
		follower_counted(d, fc, fdir, fflags);
	if (d->opts->count && d->emitted >= d->opts->count)
		d->stop = true;
}

static void handle_datagram(struct daemon *d, const void *buf, size_t len, uint64_t now)
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
			service_lifecycle(d, LC_LOST, NULL);
			timeline_loss_begin(d->timelines);
			break;
		case RXREC_LOSS_OVERRUN:
			/* The same for events our own queue had no room for. */
			if (d->queue_overruns++ == 0)
				log_warning(
					"receive queue overrun (--buffer-size %llu): trace events lost, affected timelines are marked incomplete",
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
		log_error_errno(r, "receiving trace events failed");
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

void daemon_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGQUIT);
	sigaddset(mask, SIGUSR1);
}

int daemon_signalfd(void)
{
	sigset_t mask;

	int fd;

	daemon_signals(&mask);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The trace rules' counters, those a reload replaced included. 0 or -errno. */
static int read_counter(struct daemon *d, uint64_t *ret)
{
	int r = d->table ? tracetable_selected(d->table, ret) : -ENOENT;

	if (r < 0 && !d->counter_warned) {
		log_warning(
			"cannot read the trace rule's counter (%s): packets selected are not known",
			strerror(-r));
		d->counter_warned = true;
	}
	*ret += d->selected_before;
	return r;
}

/*
 * The counter first, then what is queued: a packet selected in between
 * can make "lost" smaller, never invent a loss. report_stats() reads it
 * again last (stats.h).
 */
void daemon_read_selected(struct daemon *d, struct stats_input *in)
{
	in->selected = 0;
	in->selected_known = read_counter(d, &in->selected) == 0;
}

static void report_stats(struct daemon *d, struct stats_input *in, enum stats_reason reason)
{
	const struct outbuf *out = sink_outbuf(d->sink);
	struct capture_stats st;

	if (out) {
		const struct outbuf_stats *os = outbuf_stats(out);

		/* pending ones are delivered or counted dropped by the exit */
		/* --summary-only: counted in the summary in place of a record */
		in->printed = os->delivered + os->pending + sink_summarised(d->sink);
		in->output_dropped = os->dropped;
	} else {
		in->printed = d->emitted;
	}
	/*
	 * After stdout failed, the timelines still grouped (the queue's,
	 * those in flight) never reach it: not delivered, not "not printed
	 * after --count", unless --count was what ended the printing.
	 */
	if (out && sink_error(d->sink) < 0 && !(d->opts->count && d->emitted >= d->opts->count)) {
		uint64_t timelines = timeline_stats(d->timelines)->timelines;

		if (timelines > in->printed + in->output_dropped)
			in->output_dropped = timelines - in->printed;
	}
	in->in_flight = timeline_inflight(d->timelines);
	/* last, after every timeline was counted: selected covers them all */
	in->selected_last = 0;
	if (in->selected_known && read_counter(d, &in->selected_last) < 0)
		in->selected_known = false;
	in->enobufs = d->enobufs;
	in->queue_overruns = d->queue_overruns;
	in->malformed = d->malformed;
	in->rules_unnamed = d->rules ? rulecache_stats(d->rules)->unnamed : 0;
	follower_stats(d, in);
	if (d->verifier) {
		const struct verify_stats *vs = verifier_stats(d->verifier);

		in->verify = true;
		in->verify_replayed = vs->replayed;
		in->verify_not_enough = vs->not_enough;
		in->verify_limited = vs->limited;
		in->verify_failed = vs->failed;
	}
	stats_compute(in, timeline_stats(d->timelines), reason, &st);
	/* the journal's stop entry carries the last account */
	if (reason == STATS_EXIT)
		d->exit_stats = st;
	sink_stats(d->sink, &st);
}

static void periodic_stats(struct daemon *d, enum stats_reason reason)
{
	struct stats_input in = {};

	daemon_read_selected(d, &in);
	drain_trace(d, DRAIN_ALL_MAX, false);
	report_stats(d, &in, reason);
	if (d->opts->stats_interval)
		d->next_stats_ns = now_ns() + d->opts->stats_interval * 1000000000ull;
}

/* --summary: the table so far (counts from the start), on the output. */
static void write_summary(struct daemon *d, const char *reason)
{
	int r = sink_summary(d->sink, reason);

	if (r < 0 && r != -ENOBUFS)
		output_failed(d, r);
}

/* The poll slots; poll() skips a slot whose fd is negative. */
enum {
	PFD_TRACE,  /* the receive thread's queue */
	PFD_SIGNAL, /* signalfd */
	PFD_RULES,  /* ruleset changes, for the rule cache */
	PFD_NATLOG, /* conntrack events (--nat-log) */
	PFD_STDOUT, /* stdout, while output waits for the reader */
	PFD_MAX
};

static int64_t timelines_due(const struct daemon *d, uint64_t now)
{
	return d->rx ? timeline_next_expiry(d->timelines, now) : -1;
}

static int64_t deadline_due(const struct daemon *d, uint64_t now)
{
	if (!d->deadline_ns)
		return -1;
	return now >= d->deadline_ns ? 0 : (int64_t)(d->deadline_ns - now);
}

static int64_t stats_due(const struct daemon *d, uint64_t now)
{
	if (!d->next_stats_ns)
		return -1;
	return now >= d->next_stats_ns ? 0 : (int64_t)(d->next_stats_ns - now);
}

static int64_t summary_due(const struct daemon *d, uint64_t now)
{
	if (!d->next_summary_ns)
		return -1;
	return now >= d->next_summary_ns ? 0 : (int64_t)(d->next_summary_ns - now);
}

/* The one timer list: each source of timed work says when it is due (-1: never). */
static int64_t (*const timers[])(const struct daemon *d, uint64_t now) = {
	timelines_due, deadline_due, stats_due, summary_due, follower_due, service_due,
};

/* Nanoseconds until the first timer is due, -1 if none is. */
static int64_t next_due(const struct daemon *d, uint64_t now)
{
	int64_t wait = -1;

	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		int64_t due = timers[i](d, now);

		if (due >= 0 && (wait < 0 || due < wait))
			wait = due;
	}
	return wait;
}

/* One signal from the signalfd; false when it ends the run. */
static bool handle_signal(struct daemon *d, int sfd, bool trace)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return true;
	/* SIGUSR1: the account so far; without a trace, the NAT log's */
	if (si.ssi_signo == SIGUSR1 && trace)
		periodic_stats(d, STATS_SIGNAL);
	else if (si.ssi_signo == SIGUSR1)
		natlog_report(d->natlog);
	else if (si.ssi_signo == SIGHUP && trace)
		service_reload(d);
	else if (si.ssi_signo != SIGHUP)
		return false;
	return true;
}

/*
 * Stopping: account for what is queued, then the timelines in flight are
 * as complete as they will get. The exit status.
 */
static int stop_run(struct daemon *d, bool trace, bool timed_out)
{
	const struct options *o = d->opts;
	struct stats_input in = {};
	int r;

	if (trace) {
		daemon_read_selected(d, &in);
		/* after an output error too: what it never got is counted, not lost */
		drain_trace(d, DRAIN_ALL_MAX, true);
		stop_receiving(d);
		timeline_flush(d->timelines);
		follower_flush(d);
		/* every timeline is in it now; before the stop account */
		write_summary(d, "exit");
	}
	/* A stopped reader gets a moment, not our exit: the rest is counted. */
	if ((r = sink_drain(d->sink, OUTPUT_EXIT_GRACE_MS)) < 0)
		output_failed(d, r);
	if (trace)
		report_stats(d, &in, STATS_EXIT);
	if ((r = sink_drain(d->sink, OUTPUT_EXIT_GRACE_MS)) < 0)
		output_failed(d, r);
	if (d->failed)
		return EXIT_RUNTIME;
	if (timed_out && o->count && d->emitted < o->count)
		return EXIT_TIMEOUT;
	return EXIT_OK;
}

/* After a wakeup: what the receive thread queued, grouped; then expiry. */
static void take_trace(struct daemon *d, short revents)
{
	/* The receive thread published records (or a loss). */
	if (revents & POLLIN)
		rxthread_ack(d->rx);
	if ((revents & POLLIN) || d->rx_more)
		drain_trace(d, DRAIN_BATCH, false);
	/*
	 * Not while the receive thread owes a loss marker: a timeline
	 * whose later events were dropped would end as complete.
	 */
	if (!rxthread_losing(d->rx))
		timeline_expire(d->timelines, now_ns());
}

/* Returns the exit status. */
int daemon_run(struct daemon *d, int sfd)
{
	const struct options *o = d->opts;
	bool timed_out = false;
	int r;
	/* without a trace (--nat-log=all alone): the NAT log and signals */
	bool trace = d->rx != NULL;
	struct pollfd pfd[PFD_MAX] = {
		[PFD_TRACE] = { .fd = trace ? rxthread_fd(d->rx) : -1, .events = POLLIN },
		[PFD_SIGNAL] = { .fd = sfd, .events = POLLIN },
		[PFD_RULES] = { .fd = trace ? rulecache_fd(d->rules) : -1, .events = POLLIN },
		[PFD_NATLOG] = { .fd = d->natlog ? natlog_fd(d->natlog) : -1, .events = POLLIN },
		[PFD_STDOUT] = { .fd = -1, .events = POLLOUT },
	};

	if (o->timeout > 0)
		d->deadline_ns = now_ns() + (uint64_t)(o->timeout * 1e9);
	if (trace && o->summary && o->summary_interval)
		d->next_summary_ns = now_ns() + o->summary_interval * 1000000000ull;

	while (!d->stop) {
		uint64_t now = now_ns();
		int64_t wait = next_due(d, now);
		int timeout_ms;

		if (deadline_due(d, now) == 0) {
			timed_out = true;
			break;
		}
		if (stats_due(d, now) == 0) {
			periodic_stats(d, STATS_INTERVAL);
			continue;
		}
		if (summary_due(d, now) == 0) {
			write_summary(d, "interval");
			d->next_summary_ns = now + o->summary_interval * 1000000000ull;
			continue;
		}
		/* Round up so a wakeup never comes before the expiry. */
		timeout_ms = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
		/* records left from the last batch: look at them at once */
		if (d->rx_more)
			timeout_ms = 0;
		/* expiry waits for a loss marker on its way: no busy loop meanwhile */
		else if (trace && timeout_ms >= 0 && timeout_ms < RXTHREAD_COALESCE_MS &&
			 rxthread_losing(d->rx))
			timeout_ms = RXTHREAD_COALESCE_MS;
		/* poll() skips entries with a negative fd */
		pfd[PFD_STDOUT].fd = sink_poll_fd(d->sink);
		if (poll(pfd, PFD_MAX, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(errno, "poll");
			return EXIT_RUNTIME;
		}
		if ((pfd[PFD_SIGNAL].revents & POLLIN) && !handle_signal(d, sfd, trace))
			break;
		if (pfd[PFD_RULES].fd >= 0 && (pfd[PFD_RULES].revents & POLLIN))
			rulecache_on_readable(d->rules);
		/* Mappings first: a timeline ending now may name one. */
		if (pfd[PFD_NATLOG].revents & (POLLIN | POLLERR)) {
			r = natlog_drain(d->natlog);
			if (r < 0)
				output_failed(d, r);
		}
		if (trace)
			take_trace(d, pfd[PFD_TRACE].revents);
		/* after the timelines: a reply still in flight counts */
		follower_expire(d, now_ns());
		service_status(d, now_ns(), false);
		/* One write per wakeup, never waiting on the reader. */
		if (sink_queued(d->sink) || (pfd[PFD_STDOUT].revents & (POLLOUT | POLLERR))) {
			r = sink_flush(d->sink);
			if (r < 0)
				output_failed(d, r);
		}
	}
	return stop_run(d, trace, timed_out);
}

int daemon_wait_emitted(struct daemon *d, unsigned long target, uint64_t deadline_ns)
{
	struct pollfd pfd[2] = {
		{ .fd = rxthread_fd(d->rx), .events = POLLIN },
		{ .fd = rulecache_fd(d->rules), .events = POLLIN },
	};

	while (d->emitted < target && !d->failed) {
		uint64_t now = now_ns();
		int64_t wait = timeline_next_expiry(d->timelines, now);

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		if (wait < 0 || (uint64_t)wait > deadline_ns - now)
			wait = (int64_t)(deadline_ns - now);
		if (poll(pfd, 2, d->rx_more ? 0 : (int)((wait + 999999) / 1000000)) < 0 &&
		    errno != EINTR)
			return -errno;
		/* a --change reached the clone: re-list before naming rules */
		if (pfd[1].fd >= 0 && (pfd[1].revents & POLLIN))
			rulecache_on_readable(d->rules);
		take_trace(d, pfd[0].revents);
		if (sink_queued(d->sink) && sink_flush(d->sink) < 0)
			d->failed = true;
	}
	return d->failed ? -EIO : 0;
}

void daemon_stop_receiving(struct daemon *d)
{
	stop_receiving(d);
	timeline_flush(d->timelines);
	if (sink_drain(d->sink, OUTPUT_EXIT_GRACE_MS) < 0)
		d->failed = true;
}
