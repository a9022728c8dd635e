/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OPTIONS_H
#define NATTRACED_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTIONS_RATE_MAX	       32
/* Caps on what is assembled at once; see timeline.h for the ceilings. */
#define OPTIONS_MAX_INFLIGHT_DEFAULT   1024
#define OPTIONS_MAX_INFLIGHT_LIMIT     16384
#define OPTIONS_MAX_EVENTS_DEFAULT     512
#define OPTIONS_MAX_EVENTS_LIMIT       1024
/*
 * The receive queue between the receive thread and the main loop (bytes).
 * The default holds a burst of 200,000 packets of 6 trace events each even
 * at 400 bytes per event (captured ones are 76-264 bytes); memory is
 * mapped only while a burst waits.
 */
#define OPTIONS_BUFFER_SIZE_DEFAULT    (512ull << 20)
#define OPTIONS_BUFFER_SIZE_MIN	       (64ull << 10)
#define OPTIONS_BUFFER_SIZE_MAX	       (64ull << 30)
/* --follow: packets per connection, seconds, connections followed at once. */
#define OPTIONS_FOLLOW_PACKETS_DEFAULT 8
#define OPTIONS_FOLLOW_PACKETS_LIMIT   1000
#define OPTIONS_FOLLOW_TIMEOUT_DEFAULT 3.0
#define OPTIONS_FOLLOW_TIMEOUT_MIN     0.1
#define OPTIONS_FOLLOW_TIMEOUT_MAX     3600.0
#define OPTIONS_FOLLOW_MAX_DEFAULT     64
#define OPTIONS_FOLLOW_MAX_LIMIT       65536

/* --change may be given this many times */
#define OPTIONS_MAX_CHANGES	       16

enum output_kind {
	OUTPUT_TEXT,
	OUTPUT_JSON,
	OUTPUT_JOURNAL, /* one journal entry per timeline */
};

enum color_mode {
	COLOR_AUTO, /* on a terminal, unless NO_COLOR is set */
	COLOR_ALWAYS,
	COLOR_NEVER,
};

enum nat_log {
	NAT_LOG_OFF,
	NAT_LOG_MATCH, /* NATed connections --match selects */
	NAT_LOG_ALL,   /* every NATed connection */
};

/*
 * The strings (match, table, config) are borrowed: from argv, or from the
 * configuration file config_options() read. After a reload the daemon's
 * options point into two files, the one read at start (table: it never
 * changes) and the one of the match in use; daemon.h keeps both.
 */
struct options {
	const char *match;
	char rate[OPTIONS_RATE_MAX]; /* "1/second"; empty when rate_none */
	bool rate_none;
	unsigned long count; /* 0: no limit */
	double timeout;	     /* seconds; 0: none */
	enum output_kind output;
	bool verbose;	       /* -v: text prints every event on a line of its own */
	enum color_mode color; /* --color, text output only */
	const char *table;
	uint8_t family;	    /* NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6 */
	unsigned int hooks; /* bit (1 << NF_INET_*) per hook */
	bool help, version;
	unsigned int max_inflight;   /* timelines assembled at once */
	unsigned int max_events;     /* events kept per timeline */
	unsigned int stats_interval; /* seconds; 0: SIGUSR1 and exit only */
	uint64_t buffer_size;	     /* receive queue bound, bytes */
	enum nat_log nat_log;	     /* --nat-log[=all] */
	bool nat_table;		     /* --nat-table */
	const char *config;	     /* --config FILE, NULL if none */
	const char *netns;	     /* --netns NAME|PID|PATH, NULL: our own */
	/* --follow: trace a traced packet's connection on, both directions */
	bool follow;
	unsigned int follow_packets; /* per connection */
	double follow_timeout;	     /* seconds per connection */
	unsigned int follow_max;     /* connections followed at once */
	/* consumers beside the output (sink.h taps), NULL when not asked */
	const char *pcap;	  /* --pcap FILE: pcapng */
	const char *metrics_file; /* --metrics-file PATH: Prometheus text */
	/* --summary [SECONDS]: timelines counted by path (summary.h) */
	bool summary;
	unsigned int summary_interval; /* seconds; 0: at exit only */
	bool summary_only;	       /* --summary-only: no per-packet records */
	/*
	 * --replay FILE / --check FILE: in a throwaway clone of the namespace
	 * (replay.h), never the namespace itself; NULL when not asked
	 */
	const char *replay;
	const char *replay_id;			   /* --id: one timeline of FILE */
	const char *changes[OPTIONS_MAX_CHANGES]; /* --change, in order */
	unsigned int n_changes;
	const char *change_file; /* --change-file */
	const char *check;	 /* --check FILE */
	const char *ruleset;	 /* --ruleset: the clone's ruleset instead */
	const char *junit;	 /* --junit FILE: --check's JUnit XML report */
	bool verify;		 /* --verify: replay a live hint with its change */
};

/*
 * Parse the command line. Returns 0, or -EINVAL with a message naming the
 * problem in err. Does not print, does not exit. With --config, --match
 * may be missing: config_options() reads the file and checks.
 */
int options_parse(int argc, char **argv, struct options *ret, char *err, size_t errlen);
void options_usage(FILE *out);

/*
 * What a reload (SIGHUP) applies: match, rate and hooks (and with them the
 * --nat-log filter). Everything else keeps its value from the start.
 */
#define OPTIONS_RELOAD_APPLIES "match, rate and hooks"
/*
 * The settings that differ between was (in use) and now (just read) but
 * that a reload keeps: their names as the configuration file spells them,
 * "max-events, nat-log", in buf (cut to len). Returns how many.
 */
unsigned int options_reload_kept(const struct options *was, const struct options *now, char *buf,
				 size_t len);

/* "inet", "ip", "ip6": the nft keyword of a family */
const char *options_family_keyword(uint8_t nfproto);
/* "prerouting", ...: the nft keyword of a NF_INET_* hook, NULL if none */
const char *options_hook_keyword(unsigned int hook);
/* True if nft's scanner reads word as a keyword where a table name stands. */
bool options_nft_keyword(const char *word);
/*
 * A table name that needs no quoting anywhere: a letter, then letters,
 * digits, '_' or '-', OPTIONS_TABLE_NAME_MAX in all (keywords aside).
 */
#define OPTIONS_TABLE_NAME_MAX 64
bool options_table_name_ok(const char *name);

#endif
