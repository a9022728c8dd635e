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
#include "replay.h"
#include "verifier.h"
#include "nlsock.h"
#include "sink.h"
#include "rulecache.h"
#include "rxthread.h"
#include "setprobe.h"
#include "vanishprobe.h"
#include "tracetable.h"


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
	/* In a throwaway clone of the namespace: nothing here is touched. */
	if (opts.replay)
		return replay_main(&opts, argc, argv);
	if (opts.check)
		return check_main(&opts, argc, argv);
	/* The NAT table: a one-shot dump, no trace table, no loop. */
	if (opts.nat_table)
		return natlog_table_main(&opts);

	status = EXIT_RUNTIME;
	if (daemon_open_output(&d, &opts, argc, argv) < 0)
		goto out;
	/* --nat-log=all alone: the daemon's loop with the NAT log and no trace. */
	if (!opts.match) {
		status = nat_log_only(&d, &sfd);
		goto out;
	}
	/* --verify: its replay process forks before any thread */
	if (opts.verify && verifier_start(&opts, &d.verifier) < 0)
		goto out;
	status = daemon_open_listeners(&d);
	if (status != GO_ON)
		goto out;
	status = EXIT_RUNTIME;
	if (daemon_open_explainers(&d) < 0 || daemon_open_tables(&d, &sfd) < 0)
		goto out;
	status = daemon_install_trace(&d);
	if (status == GO_ON)
		status = run_trace(&d, sfd);
out:
	daemon_tear_down(&d, sfd);
	return status;
}
