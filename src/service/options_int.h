/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OPTIONS_INT_H
#define NATTRACED_OPTIONS_INT_H

/* Between options.c and options_replay.c: the option codes, the replay part. */
#include <stddef.h>

#include "options.h"

enum {
	OPT_RATE = 0x100,
	OPT_TABLE,
	OPT_FAMILY,
	OPT_HOOKS,
	OPT_MAX_INFLIGHT,
	OPT_MAX_EVENTS,
	OPT_STATS_INTERVAL,
	OPT_NAT_LOG,
	OPT_NAT_TABLE,
	OPT_CONFIG,
	OPT_BUFFER_SIZE,
	OPT_NETNS,
	OPT_FOLLOW,
	OPT_FOLLOW_PACKETS,
	OPT_FOLLOW_TIMEOUT,
	OPT_FOLLOW_MAX,
	OPT_PCAP,
	OPT_METRICS_FILE,
	OPT_SUMMARY,
	OPT_SUMMARY_ONLY,
	OPT_COLOR,
	OPT_REPLAY,
	OPT_ID,
	OPT_CHANGE,
	OPT_CHANGE_FILE,
	OPT_CHECK,
	OPT_RULESET,
	OPT_JUNIT,
	OPT_VERIFY,
};

/* --replay, --check and what goes with them; 1: c is not one of them. */
int options_parse_replay(struct options *o, int c, const char *arg, char *err, size_t errlen);
/* What they refuse (live-only options), and what needs them. */
int options_check_replay(const struct options *o, char *err, size_t errlen);

#endif
