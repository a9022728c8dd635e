/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nattraced: start-up and tear-down. Subscribe to trace events first, so
 * no packet is missed, then install the owned trace table and hand over
 * to the daemon loop (daemon.c). The NAT-only modes (natlog.c) never
 * install a table.
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

#include "clock.h"
#include "config.h"
#include "ctprobe.h"
#include "daemon.h"
#include "format.h"
#include "journal.h"
#include "log.h"
#include "natlog.h"
#include "nattraced.h"
#include "netns.h"
#include "nlsock.h"
#include "sink.h"
#include "rulecache.h"
#include "rxthread.h"
#include "setprobe.h"
#include "vanishprobe.h"
#include "tracetable.h"

/* stdout is written once per wakeup, not per 4 KiB. */
#define OUTPUT_BUF (256 * 1024)

_Static_assert(OPTIONS_MAX_EVENTS_LIMIT <= TIMELINE_STEPS_CEILING,
	       "--max-events must fit the timeline's step array");
_Static_assert(OPTIONS_BUFFER_SIZE_MIN >= RXQUEUE_MIN_LIMIT,
	       "--buffer-size must allow a receive queue");

/* Not an exit status: the step succeeded and start-up goes on. */
#define GO_ON (-1)

/*
 * Before anything else: a SIGHUP or SIGUSR1 that arrives during start-up
 * would otherwise take its default action and end us. They stay pending
 * until the signalfd reads them (every mode has one).
 */
static void block_signals(void)
{
	sigset_t mask;

	daemon_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

/*
 * The command line and the --config file; --help, --version and a missing
 * journald end here. An exit status, or GO_ON.
 */
static int read_options(int argc, char **argv, struct options *opts, struct config **ret_config)
{
	char err[1024];
	int r;

	r = config_options(argc, argv, opts, ret_config, err, sizeof(err));
	if (r == -ENOMEM) {
		fprintf(stderr, "nattraced: %s\n", strerror(-r));
		return EXIT_RUNTIME;
	}
	if (r < 0) {
		fprintf(stderr, "nattraced: %s\nTry 'nattraced --help'.\n", err);
		return EXIT_USAGE;
	}
	/* No journald: fail now rather than lose every entry in silence. */
	if (!opts->help && !opts->version && (r = sink_check(opts->output, err, sizeof(err))) < 0) {
		fprintf(stderr, "nattraced: %s\n", err);
		*ret_config = config_free(*ret_config);
		return r == -EOPNOTSUPP ? EXIT_USAGE : EXIT_RUNTIME;
	}
	if (opts->help) {
		options_usage(stdout);
		return EXIT_OK;
	}
	if (opts->version) {
		printf("nattraced %s\n", NATTRACED_VERSION);
		return EXIT_OK;
	}
	return GO_ON;
}

/* --netns: before the first socket or thread, which then are the namespace's */
static int enter_netns(const struct options *opts, struct config **config)
{
	char err[1024];

	if (opts->netns && netns_enter(opts->netns, err, sizeof(err)) < 0) {
		fprintf(stderr, "nattraced: %s\n", err);
		*config = config_free(*config);
		return EXIT_USAGE;
	}
	return GO_ON;
}

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
static int open_output(struct daemon *d, struct options *opts, int argc, char **argv)
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

/* --nat-log=all without --match: never installs a table. The exit status. */
static int nat_log_only(struct daemon *d, int *ret_sfd)
{
	int r, status;

	*ret_sfd = daemon_signalfd();
	if (*ret_sfd < 0) {
		log_error_errno(*ret_sfd, "signalfd");
		return EXIT_RUNTIME;
	}
	r = natlog_open(d->sink, &d->natlog);
	if (r < 0) {
		log_error("cannot listen to conntrack events: %s%s", strerror(-r),
			  r == -EPERM ? " (needs CAP_NET_ADMIN: run as root)" : "");
		return EXIT_RUNTIME;
	}
	log_notice("logging every NAT mapping (conntrack events); no trace");
	status = daemon_run(d, *ret_sfd);
	natlog_report(d->natlog);
	return status;
}

/*
 * Listen before the table exists, or the first packets go unseen: the
 * trace socket, its receiving thread and the conntrack events. An exit
 * status, or GO_ON.
 */
static int open_listeners(struct daemon *d)
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
static int open_explainers(struct daemon *d)
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
static int open_tables(struct daemon *d, int *ret_sfd)
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
		.idle_ns = TIMELINE_IDLE_NS,
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
static int install_trace(struct daemon *d)
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

/* The trace runs: announce it, run the loop, say what was held back. */
static int run_trace(struct daemon *d, int sfd)
{
	int status;

	service_lifecycle(d, LC_STARTED, NULL);
	/* The trace runs: tell systemd (Type=notify). */
	journal_notify("READY=1");
	service_status(d, now_ns(), true);

	if (d->opts->stats_interval)
		d->next_stats_ns = now_ns() + d->opts->stats_interval * 1000000000ull;
	status = daemon_run(d, sfd);
	service_lifecycle(d, LC_STOPPED, NULL);
	if (d->natlog)
		natlog_report(d->natlog);
	if (d->setprobe && setprobe_stats(d->setprobe)->limited)
		log_info(
			"set membership: %lu queries, %lu answers reused, %lu not asked (rate limit)",
			setprobe_stats(d->setprobe)->queries, setprobe_stats(d->setprobe)->cached,
			setprobe_stats(d->setprobe)->limited);
	/* a big chain's first listing is what a slow first timeline waited for */
	if (d->rules && rulecache_stats(d->rules)->listing_ns >= 1000000000ull)
		log_info("rule cache: %lu chain listings took %.1f s; %lu chains kept in %zu KiB",
			 rulecache_stats(d->rules)->chain_listings,
			 (double)rulecache_stats(d->rules)->listing_ns / 1e9,
			 rulecache_stats(d->rules)->chains_listed,
			 rulecache_stats(d->rules)->bytes / 1024);
	if (d->vanish && vanishprobe_stats(d->vanish)->limited)
		log_info(
			"outside the ruleset: %lu checks, %lu answers reused, %lu not checked (rate limit)",
			vanishprobe_stats(d->vanish)->checks, vanishprobe_stats(d->vanish)->cached,
			vanishprobe_stats(d->vanish)->limited);
	return status;
}

static void tear_down(struct daemon *d, int sfd)
{
	journal_notify("STOPPING=1");
	d->natlog = natlog_close(d->natlog);
	d->sink = sink_free(d->sink);
	d->table = tracetable_free(d->table);
	d->timelines = timeline_table_free(d->timelines);
	d->setprobe = setprobe_free(d->setprobe);
	d->vanish = vanishprobe_free(d->vanish);
	d->ctprobe = ctprobe_free(d->ctprobe);
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

int main(int argc, char **argv)
{
	struct options opts;
	struct daemon d = {};
	int sfd = -1, status;

	block_signals();
	status = read_options(argc, argv, &opts, &d.svc.config0);
	if (status == GO_ON)
		status = enter_netns(&opts, &d.svc.config0);
	if (status != GO_ON)
		return status;
	/* The NAT table: a one-shot dump, no trace table, no loop. */
	if (opts.nat_table)
		return natlog_table_main(&opts);

	status = EXIT_RUNTIME;
	if (open_output(&d, &opts, argc, argv) < 0)
		goto out;
	/* --nat-log=all alone: the daemon's loop with the NAT log and no trace. */
	if (!opts.match) {
		status = nat_log_only(&d, &sfd);
		goto out;
	}
	status = open_listeners(&d);
	if (status != GO_ON)
		goto out;
	status = EXIT_RUNTIME;
	if (open_explainers(&d) < 0 || open_tables(&d, &sfd) < 0)
		goto out;
	status = install_trace(&d);
	if (status == GO_ON)
		status = run_trace(&d, sfd);
out:
	tear_down(&d, sfd);
	return status;
}
