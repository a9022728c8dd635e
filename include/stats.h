/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_STATS_H
#define NATTRACED_STATS_H

/*
 * Capture accounting: what the trace rule selected (its counter) against
 * what came out. A packet whose events were all lost leaves no timeline,
 * so only the counter can tell it was missed.
 *
 * The account never contradicts itself:
 *   complete + incomplete + lost + in_flight == selected
 * The counter runs on while the account is taken (a flood, --count), so
 * it is read twice. "selected" is its last reading, taken after every
 * timeline was counted, so no timeline is of a packet it did not count.
 * "lost" is bounded by the first reading, taken before the socket was
 * drained: a selected packet with no timeline after that drain lost all
 * its events. "in_flight" is the rest: timelines still being assembled,
 * and packets selected after the first reading whose events were not
 * read when the account was taken (never called lost).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"
#include "timeline.h"

enum stats_reason {
	STATS_INTERVAL, /* --stats-interval */
	STATS_SIGNAL,	/* SIGUSR1 */
	STATS_EXIT,
};

/* What the edges know that the timeline table does not. */
struct stats_input {
	bool selected_known;	 /* the counter could be read, both times */
	uint64_t selected;	 /* the counter before the drain: bounds "lost" */
	uint64_t selected_last;	 /* the counter read last, after the drain */
	uint64_t printed;	 /* timelines written (--count stops there) */
	uint64_t output_dropped; /* timelines the output never delivered */
	uint64_t in_flight;	 /* timelines still being assembled */
	uint64_t enobufs;	 /* receive overruns */
	uint64_t queue_overruns; /* receive queue (--buffer-size) overruns */
	uint64_t malformed;	 /* messages that did not decode */
	uint64_t rules_unnamed;	 /* rule texts a rule cache bound kept unread */
	/* --follow */
	bool follow;
	uint64_t follow_connections; /* connections followed */
	uint64_t follow_full;	     /* not followed: --follow-max reached */
	uint64_t follow_no_reply;    /* followed, no reply seen */
	/* --verify (verifier.h) */
	bool verify;
	uint64_t verify_replayed, verify_not_enough, verify_limited, verify_failed;
};

struct capture_stats {
	enum stats_reason reason;
	bool selected_known;
	uint64_t selected, emitted, complete, incomplete, not_printed, output_dropped;
	uint64_t lost, in_flight, enobufs, queue_overruns;
	uint64_t events, malformed, evicted, events_dropped, names_dropped;
	uint64_t chains_dropped; /* base chain entries past TIMELINE_MAX_HDRS */
	uint64_t joined;	 /* trace id changes joined to their packet */
	uint64_t foreign;	 /* packets other tracers selected, not shown */
	uint64_t reselected;	 /* counter hits for packets already ours */
	uint64_t rules_unnamed;	 /* rule lookups a rule cache bound left without text */
	bool follow;
	uint64_t follow_connections, follow_full, follow_no_reply;
	bool verify;
	uint64_t verify_replayed, verify_not_enough, verify_limited, verify_failed;
};

void stats_compute(const struct stats_input *in, const struct timeline_stats *ts,
		   enum stats_reason reason, struct capture_stats *ret);
/* {"type": "stats", ...}: appended to w. */
void stats_json(struct jsonw *w, const struct capture_stats *st);
/* One line, no prefix, no newline. */
int stats_text(FILE *out, const struct capture_stats *st);

#endif
