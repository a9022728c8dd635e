/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start-up steps and tear-down, shared by the live trace (main.c) and the
 * replay in a clone (replay.c): the output, the listeners, what explains,
 * the timelines and the trace table. Subscribe to trace events first, so
 * no packet is missed, then install the owned trace table.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>

#include "ctprobe.h"
#include "journal.h"
#include "daemon.h"
#include "log.h"
#include "natlog.h"
#include "nattraced.h"
#include "nlsock.h"
#include "rulecache.h"
#include "rxqueue.h"
#include "rxthread.h"
#include "setprobe.h"
#include "sink.h"
#include "tracetable.h"
#include "vanishprobe.h"
#include "verifier.h"

/* stdout is written once per wakeup, not per 4 KiB. */
#define OUTPUT_BUF (256 * 1024)

_Static_assert(OPTIONS_MAX_EVENTS_LIMIT <= TIMELINE_STEPS_CEILING,
	       "--max-events must fit the timeline's step array");
_Static_assert(OPTIONS_BUFFER_SIZE_MIN >= RXQUEUE_MIN_LIMIT,
	       "--buffer-size must allow a receive queue");

/*
 * Colour for text on a terminal, unless NO_COLOR is set and not empty
 * (no-color.org) or --color says otherwise; never in pipes, files or the
 * journal.
 */
static bool text_color(const struct options *opts)
{
	const char *no = getenv("NO_COLOR");

	if (opts->output != OUTPUT_TEXT || opts->color == COLOR_NEVER)
		return false;
	if (opts->color == COLOR_ALWAYS)
		return true;
	return !(no && no[0]) && isatty(STDOUT_FILENO);
}

/* The daemon's state from the options, and the output. 0 or -errno. */
int daemon_open_output(struct daemon *d, struct options *opts, int argc, char **argv)
{
	int r;

	d->opts = opts;
	d->svc.argc = argc;
	d->svc.argv = argv;
	d->svc.config = d->svc.config0;
	d->svc.notify = getenv("NOTIFY_SOCKET") != NULL;
	/* Output errors come back as EPIPE, so a closed reader ends us cleanly. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, OUTPUT_BUF);
	/* the output, and where the daemon's own messages go */
	r = sink_new(opts->output,
		     &(struct text_style){ .verbose = opts->verbose, .color = text_color(opts) },
		     &d->sink);
	if (r < 0) {
		log_error_errno(r, "cannot set up the output");
		return r;
	}
	/* --pcap, --metrics-file: beside the output; they say what failed */
	return sink_open_taps(d->sink, opts);
}

/*
 * Listen before the table exists, or the first packets go unseen: the
 * trace socket, its receiving thread and the conntrack events. An exit
 * status, or GO_ON.
 */
int daemon_open_listeners(struct daemon *d)
{
	const struct options *opts = d->opts;
	int r;

	service_match_warnings(opts->match, opts->rate_none);
	/* --follow: ask the kernel first, before the trace socket listens */
	if (opts->follow && follower_check_kernel() < 0)
		return EXIT_USAGE;

	r = nlsock_open(NFNLGRP_NFTRACE, NLSOCK_RCVBUF, &d->trace);
	if (r < 0) {
		log_error("cannot listen to nftables trace events: %s%s", strerror(-r),
			  r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		return EXIT_RUNTIME;
	}
	/* From now on a thread of its own reads the socket into a queue. */
	r = rxthread_start(d->trace, opts->buffer_size, &d->rx);
	if (r < 0) {
		log_error_errno(r, "cannot start receiving");
		return EXIT_RUNTIME;
	}
	/* Conntrack events too, before the first connection can be missed. */
	if (opts->nat_log) {
		r = natlog_open(d->sink, &d->natlog);
		if (r < 0) {
			log_error_errno(r, "cannot listen to conntrack events");
			return EXIT_RUNTIME;
		}
	}
	return GO_ON;
}

/*
 * What explains a timeline: the rule text, and the kernel's answers that
 * are optional (each missing one is said once, and the trace runs on). 0 or
 * -errno.
 */
int daemon_open_explainers(struct daemon *d)
{
	struct utsname u;
	int r;

	r = rulecache_new(&d->rules);
	if (r < 0) {
		log_error_errno(r, "cannot read the ruleset");
		return r;
	}
	/* Without it, source NAT ports stay '?' unless the rule names one. */
	r = ctprobe_new(&d->ctprobe);
	if (r < 0)
		log_warning("cannot query conntrack: %s, source NAT ports are not shown",
			    strerror(-r));
	/* Without it, timelines just carry no set-membership hints. */
	r = setprobe_new(d->rules, &d->setprobe);
	if (r < 0)
		log_warning("cannot check set membership: %s, continuing without hints",
			    strerror(-r));
	/* Without it, packets lost outside the ruleset keep the general reason. */
	r = vanishprobe_new(&d->vanish);
	if (r < 0)
		log_warning(
			"cannot ask the kernel why packets vanish outside the ruleset: %s, continuing without",
			strerror(-r));
	daemon_resolver_init(d);
	if (uname(&u) == 0 && !explain_kernel_sends_ct(u.release))
		log_notice(
			"kernel %s sends no conntrack state in trace events (Linux 6.16 and later do): ct state per chain is not shown",
			u.release);
	return 0;
}

/* The --follow table, the timelines and the signalfd. 0 or -errno. */
int daemon_open_tables(struct daemon *d, int *ret_sfd)
{
	const struct options *opts = d->opts;
	struct timeline_config tcfg;
	int r;

	if (opts->follow && (r = follower_new(d)) < 0) {
		log_error_errno(r, "cannot allocate the --follow table");
		return r;
	}
	tcfg = (struct timeline_config){
		.own_table = opts->table,
		.own_family = opts->family,
		.max_inflight = opts->max_inflight,
		.max_steps = opts->max_events,
		.idle_ns = d->idle_ns ? d->idle_ns : TIMELINE_IDLE_NS,
		.emit = daemon_emit,
		.emit_ctx = d,
		.final_accept = daemon_final_accept,
		.final_ctx = d,
	};
	r = timeline_table_new(&tcfg, &d->timelines);
	if (r < 0) {
		log_error_errno(r, "cannot allocate timelines");
		return r;
	}
	*ret_sfd = daemon_signalfd();
	if (*ret_sfd < 0) {
		log_error_errno(*ret_sfd, "signalfd");
		return *ret_sfd;
	}
	return 0;
}

/*
 * The owned trace table, then the NAT log's filter from its check rule and
 * the rule text. An exit status, or GO_ON.
 */
int daemon_install_trace(struct daemon *d)
{
	const struct options *opts = d->opts;
	struct tracetable_config cfg = {
		.family = opts->family,
		.table = opts->table,
		.hooks = opts->hooks,
		.match = opts->match,
		.rate = opts->rate_none ? NULL : opts->rate,
		/* the kernel enforces the bound: a connection past it is never traced */
		.follow = opts->follow,
		.follow_size = opts->follow_max,
		.follow_timeout_ms = (unsigned int)(opts->follow_timeout * 1000 + 0.5),
		.follow_packets = opts->follow_packets,
	};
	char err[1024], *listing = NULL;
	int r;

	r = tracetable_install(&cfg, &d->table, opts->nat_log == NAT_LOG_MATCH ? &listing : NULL,
			       err, sizeof(err));
	if (r < 0) {
		char place[PATH_MAX + 16];

		free(listing);
		/* a match from --config: the file and line to edit */
		log_error("%s%s",
			  r == -EINVAL ? config_match_place(d->svc.config, opts->config,
							    opts->match, place, sizeof(place))
				       : "",
			  err);
		return r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
	}
	if (d->natlog) {
		r = natlog_start(d->natlog, listing);
		free(listing);
		if (r < 0)
			return EXIT_RUNTIME;
	}
	r = rulecache_sync(d->rules);
	if (r < 0)
		log_warning("listing the ruleset failed: %s, rules will show as handles",
			    strerror(-r));
	return GO_ON;
}

void daemon_tear_down(struct daemon *d, int sfd)
{
	journal_notify("STOPPING=1");
	d->natlog = natlog_close(d->natlog);
	d->sink = sink_free(d->sink);
	d->table = tracetable_free(d->table);
	d->timelines = timeline_table_free(d->timelines);
	d->setprobe = setprobe_free(d->setprobe);
	d->vanish = vanishprobe_free(d->vanish);
	d->ctprobe = ctprobe_free(d->ctprobe);
	d->verifier = verifier_free(d->verifier);
	d->follow = follow_table_free(d->follow);
	d->rules = rulecache_free(d->rules);
	d->rx = rxthread_free(d->rx);
	d->trace = nlsock_close(d->trace);
	if (sfd >= 0)
		close(sfd);
	if (d->svc.config != d->svc.config0)
		config_free(d->svc.config);
	config_free(d->svc.config0);
}
