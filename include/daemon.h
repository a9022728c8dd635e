/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_DAEMON_H
#define NATTRACED_DAEMON_H

/*
 * The daemon's state, shared by its parts (not a library interface):
 *   main.c     start-up and tear-down, the NAT-only modes
 *   daemon.c   the loop: receive, group, explain once, output, stats
 *   service.c  lifecycle entries, sd_notify status, reload
 *   resolve.c  the resolver explain_timeline() asks
 */
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "explain.h"
#include "natmap.h"
#include "options.h"
#include "resolver.h"
#include "stats.h"
#include "timeline.h"

struct ctprobe;
struct follow_table;
struct natlog;
struct nlsock;
struct sink;
struct rulecache;
struct rxthread;
struct setprobe;
struct tracetable;
struct vanishprobe;
struct verifier;

/* Messages handled per wakeup before signals and expiry get a look. */
#define DRAIN_BATCH	     4096
/* At exit and for a report: what is queued, but not forever under a flood. */
#define DRAIN_ALL_MAX	     (16 * DRAIN_BATCH)
/* ... and how long to wait for the receive thread to read the socket. */
#define SYNC_WAIT_NS	     (2000ull * 1000 * 1000)
/* Stopping waits this long for a slow stdout reader, then counts the rest. */
#define OUTPUT_EXIT_GRACE_MS 500
/*
 * if_indextoname() opens a socket per call; a packet's interfaces repeat,
 * so names are cached, briefly enough that a renamed one shows up soon.
 */
#define IFCACHE_SIZE	     64
#define IFCACHE_TTL_NS	     (1000ull * 1000 * 1000)

struct ifcache_entry {
	uint32_t index;
	uint64_t at;
	char name[IF_NAMESIZE];
};

/* The service's part (service.c): systemd, the journal's entries, reload. */
struct service {
	int argc;
	char **argv;
	struct config *config0; /* the file at start: opts' table etc. point into it */
	struct config *config;	/* the file of the match in use */
	struct options cur;	/* the options after a reload */
	bool notify;		/* started by systemd with Type=notify */
	bool status_dirty;
	bool ct_seen; /* a timeline carried conntrack attributes */
	uint64_t status_at, lost_logged_at;
	uint64_t drops;
};

struct daemon {
	const struct options *opts;
	struct nlsock *trace;
	struct rxthread *rx; /* reads trace, queues for us */
	bool rx_more;	     /* records left after a batch: poll without waiting */
	struct rulecache *rules;
	struct timeline_table *timelines;
	struct tracetable *table;
	struct resolver resolver;
	struct explain ex; /* of the timeline being written */
	struct ifcache_entry ifcache[IFCACHE_SIZE];
	unsigned long emitted;
	bool stop;
	bool failed; /* stop with EXIT_RUNTIME */
	bool counter_warned;
	uint64_t malformed, enobufs, queue_overruns;
	struct setprobe *setprobe;  /* explain: set membership, addresses */
	struct vanishprobe *vanish; /* explain: why a packet vanished outside the ruleset */
	struct explain_ct_watch ct_watch;
	uint64_t next_stats_ns;		 /* 0: no periodic report */
	uint64_t next_summary_ns;	 /* --summary SECS; 0: at exit only */
	uint64_t deadline_ns;		 /* --timeout, 0: none */
	struct capture_stats exit_stats; /* for the journal's stop entry */
	uint64_t selected_before;	 /* counted by trace rules a reload replaced */
	struct natlog *natlog;		 /* --nat-log, NULL without */
	struct ctprobe *ctprobe;	 /* a NATed connection's entry, NULL if unavailable */
	struct follow_table *follow;	 /* --follow, NULL without */
	struct natmap asked;		 /* ctprobe's last answer */
	struct sink *sink;		 /* every record goes there (sink.h) */
	struct service svc;
	/*
	 * --replay, --check: sees each explained timeline before its output,
	 * to name the source ruleset's handles (replay.c); NULL live
	 */
	void (*explained)(void *ctx, const struct timeline *tl, struct explain *ex);
	void *explained_ctx;
	uint64_t idle_ns; /* a timeline's idle end; 0: TIMELINE_IDLE_NS */
	bool no_timelines; /* --check (without -v), --verify's child: results only */
	struct verifier *verifier; /* --verify, NULL without */
};

/* Not an exit status: the step succeeded and start-up goes on. */
#define GO_ON (-1)

/* startup.c: the steps, in this order; each says what failed */
int daemon_open_output(struct daemon *d, struct options *opts, int argc, char **argv);
int daemon_open_listeners(struct daemon *d);	   /* exit status or GO_ON */
int daemon_open_explainers(struct daemon *d);	   /* 0 or -errno */
int daemon_open_tables(struct daemon *d, int *ret_sfd); /* 0 or -errno */
int daemon_install_trace(struct daemon *d);	   /* exit status or GO_ON */
void daemon_tear_down(struct daemon *d, int sfd);

/* daemon.c */
void daemon_signals(sigset_t *mask);
int daemon_signalfd(void);
void daemon_emit(void *ctx, const struct timeline *tl, enum timeline_end why);
/* The counter of packets selected, before draining: see stats.h. */
void daemon_read_selected(struct daemon *d, struct stats_input *in);
/* Runs until a signal, --count, --timeout or an error; the exit status. */
int daemon_run(struct daemon *d, int sfd);
/*
 * --replay, --check: receive, group and output until `emitted` reaches
 * target or the monotonic clock deadline_ns passes (-ETIMEDOUT). No
 * stop account: the caller ends with daemon_stop_receiving().
 */
int daemon_wait_emitted(struct daemon *d, unsigned long target, uint64_t deadline_ns);
void daemon_stop_receiving(struct daemon *d);

/* follower.c: --follow */
#include "follow.h"
int follower_new(struct daemon *d);
/*
 * Before --follow starts: warn when the namespace had no conntrack entries
 * (its rules turn conntrack on), and ask the kernel whether trace events
 * carry the conntrack id. 0, or -EOPNOTSUPP (logged): refuse --follow.
 */
int follower_check_kernel(void);
/* The followed connection a timeline belongs to, started if the kernel followed it. */
struct follow_conn *follower_of(struct daemon *d, const struct timeline *tl,
				const struct explain *ex, enum follow_dir *ret_dir,
				uint8_t *ret_tcp_flags);
/* Keep a text timeline for its connection's block; false: print it now. */
bool follower_keep(struct daemon *d, struct follow_conn *c, const struct timeline *tl,
		   const struct explain *ex);
/* After a followed connection's timeline was output: count it, end it when done. */
void follower_counted(struct daemon *d, struct follow_conn *c, enum follow_dir dir,
		      uint8_t tcp_flags);
void follower_expire(struct daemon *d, uint64_t now);
void follower_flush(struct daemon *d);
/* Nanoseconds until a followed connection expires, -1: none (the loop's timers). */
int64_t follower_due(const struct daemon *d, uint64_t now);
void follower_stats(const struct daemon *d, struct stats_input *in);

/* resolve.c */
void daemon_resolver_init(struct daemon *d);
bool daemon_final_accept(void *ctx, uint8_t family, const char *table, const char *chain,
			 bool first_packet);

/* service.c */
enum lifecycle {
	LC_STARTED,
	LC_STOPPED,
	LC_LOST,
	LC_RELOADED,
	LC_RELOAD_REFUSED
};
void service_lifecycle(struct daemon *d, enum lifecycle what, const char *detail);
void service_emitted(struct daemon *d, const struct timeline *tl, const struct tl_summary *sum);
/* STATUS= for systemctl status: at most once a second, when something changed. */
void service_status(struct daemon *d, uint64_t now, bool force);
/* Nanoseconds until a STATUS= update is due, -1: none (the loop's timers). */
int64_t service_due(const struct daemon *d, uint64_t now);
/* SIGHUP: read the configuration again and swap the trace rule in one batch. */
void service_reload(struct daemon *d);
/* Warnings a match deserves: --rate none, ct expressions before conntrack. */
void service_match_warnings(const char *match, bool rate_none);

#endif
