/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_VANISHPROBE_H
#define NATTRACED_VANISHPROBE_H

#include "resolver.h"

/*
 * The edge behind vanish.c: reads the facts about a packet lost outside
 * the ruleset from the kernel of the namespace the daemon runs in, and
 * changes nothing there. Forwarding and rp_filter with RTM_GETNETCONF (for
 * all and the input interface; /proc/sys/net only where that fails, as it
 * does not exist under the unit's ProcSubset=pid), route lookups with
 * RTM_GETROUTE (the input lookup with the packet's iif, addresses and
 * mark, as the kernel routes it), and the kernel's own socket lookup for
 * the packet through sock_diag.
 *
 * Bounded: at most VANISH_MAX_QUERIES netlink queries per timeline, each
 * waiting at most VANISH_TIMEOUT_MS. A packet the kernel refuses after
 * prerouting takes five: the input lookup, two netconf requests (all and
 * the input interface, which were file reads before), the route to the
 * destination and the route back to the source. Rate-limited daemon-wide:
 * at most VANISH_RATE checked timelines a second, bursts of VANISH_BURST;
 * an answer is reused for the same packet for a second.
 */
#define VANISH_MAX_QUERIES 5
#define VANISH_TIMEOUT_MS  200
#define VANISH_RATE	   20
#define VANISH_BURST	   20

struct vanishprobe;

/*
 * The netlink sockets belong to the namespace this runs in; sysctls are
 * read in the namespace the calling thread is in when a check runs
 * (/proc/sys/net names resolve in the namespace of the thread that opens
 * them). With --netns, main() enters the namespace before either.
 */
int vanishprobe_new(struct vanishprobe **ret);
struct vanishprobe *vanishprobe_free(struct vanishprobe *v);
/* Point the vanish callback of r at v. */
void vanishprobe_resolver(struct vanishprobe *v, struct resolver *r);

struct vanishprobe_stats {
	unsigned long checks;	      /* timelines checked with the kernel */
	unsigned long queries;	      /* netlink queries sent */
	unsigned long cached;	      /* answered from the last second's answers */
	unsigned long limited;	      /* refused by the rate limit */
	unsigned long netconf_failed; /* RTM_GETNETCONF failed: /proc/sys read */
};
const struct vanishprobe_stats *vanishprobe_stats(const struct vanishprobe *v);
/*
 * Where the sockets say nothing (a clone of the namespace has none): a
 * packet for the host is "not checked", for why (a static string), never
 * "no listener".
 */
void vanishprobe_no_sockets(struct vanishprobe *v, const char *why);

#endif
