/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NATFILTER_H
#define NATTRACED_NATFILTER_H

/*
 * Which NAT mappings --nat-log and --nat-table show, derived from --match.
 *
 * The match is read back from libnftables as JSON (the check rule
 * tracetable.c lists), and its simple conditions become a filter on the
 * ORIGINAL tuple of a connection, the direction the trace rule sees at
 * prerouting/output, before any NAT: "ip daddr 198.51.100.1 tcp dport
 * 1222" selects the port forward to whatever server it leads to.
 *
 * Understood: ip/ip6 saddr/daddr (addresses, prefixes, ranges, anonymous
 * sets of those), sport/dport of tcp, udp, sctp, dccp, udplite and th
 * (values, ranges, sets, <, >, <=, >=), meta l4proto, ip protocol, ip6
 * nexthdr, meta nfproto, each with == or !=. A payload match on tcp, udp,
 * ... also requires that protocol; ip/ip6 requires that family.
 *
 * Anything else (tcp flags, iifname, ct state, named sets, concatenations,
 * ...) says nothing a conntrack entry could be checked against: it is
 * IGNORED and named in ignored[], which widens the filter. The caller
 * warns; nothing is refused, so the same --match serves tracing and the
 * NAT log.
 */
#include <stdbool.h>
#include <stdint.h>

#include "natmap.h"

#define NATFILTER_MAX_CONDS   16 /* conditions kept; more are ignored */
#define NATFILTER_MAX_VALUES  32 /* ranges per condition; more: ignored */
#define NATFILTER_IGNORED_MAX 256

enum natfilter_field {
	NATFILTER_SADDR,
	NATFILTER_DADDR,
	NATFILTER_SPORT,
	NATFILTER_DPORT,
	NATFILTER_L4PROTO,
	NATFILTER_L3, /* 4 or 6 */
};

/* Values as 16-byte big-endian numbers, so one compare serves all fields. */
struct natfilter_range {
	uint8_t lo[16], hi[16];
};

struct natfilter_cond {
	enum natfilter_field field;
	uint8_t l3; /* addresses: 4 or 6 */
	bool negate;
	unsigned int n;
	struct natfilter_range r[NATFILTER_MAX_VALUES];
};

struct natfilter {
	unsigned int n;
	struct natfilter_cond c[NATFILTER_MAX_CONDS];
	unsigned int n_ignored;
	char ignored[NATFILTER_IGNORED_MAX]; /* "tcp flags, iifname" */
};

/*
 * Build the filter from the libnftables JSON listing of a chain whose one
 * rule starts with the match (the check chain). 0, or -EINVAL if the text
 * is not such a listing. An empty filter (n == 0) matches everything.
 */
int natfilter_from_listing(const char *json, struct natfilter *ret);

/* Does the mapping's original tuple satisfy every condition? */
bool natfilter_match(const struct natfilter *f, const struct natmap *m);

#endif
