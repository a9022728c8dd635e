/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_SETCHECK_H
#define NATTRACED_SETCHECK_H

#include "format.h"
#include "rulecache.h"

/*
 * The edge behind explain: set membership through libnftables
 * ("get element", which never changes a set), interface addresses for
 * masquerade (getifaddrs), and the chain layout from the rule cache.
 *
 * Membership queries are rate-limited daemon-wide (SETPROBE_RATE per
 * second, bursts of SETPROBE_BURST); explain_hints.c asks only for dropped
 * packets and at most EXPLAIN_MAX_QUERIES times per packet, so a flood of
 * drops costs at most SETPROBE_RATE queries a second, and never more than
 * a tenth of the time (libnftables loads the whole set for each query:
 * 37 ms for a set of 10,000 elements here). Answers are reused for a
 * second.
 */
#define SETPROBE_RATE  20
#define SETPROBE_BURST 20

struct setprobe;

int setprobe_new(struct rulecache *rules, struct setprobe **ret);
struct setprobe *setprobe_free(struct setprobe *s);
/* Point the explain callbacks of r at s. */
void setprobe_resolver(struct setprobe *s, struct resolver *r);

struct setprobe_stats {
	unsigned long queries; /* sent to the kernel */
	unsigned long cached;  /* answered from the last second's answers */
	unsigned long limited; /* refused by the rate limit */
	unsigned long errors;  /* answered with an error */
};
const struct setprobe_stats *setprobe_stats(const struct setprobe *s);

#endif
