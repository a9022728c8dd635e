/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_VANISH_H
#define NATTRACED_VANISH_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/*
 * Why a packet the ruleset accepted vanished before the next hook: the
 * decision, pure. The edge (vanishprobe.h) asks the kernel of the traced
 * namespace for the facts (sysctls, route lookups, a socket lookup); this
 * names the reason from them and writes the evidence. Nothing here does
 * I/O, so the unit tests feed it hand-built facts.
 */

#define VANISH_EVIDENCE_MAX 256

enum vanish_reason {
	VANISH_NOT_ASKED = 0, /* no checks available (offline, unit tests) */
	VANISH_NOT_CHECKED,   /* rate limit, a kernel error, address unknown */
	VANISH_UNKNOWN,	      /* checked: nothing on this host explains it */
	VANISH_DELIVERED,     /* input: a socket takes the packet, nothing lost */
	VANISH_FORWARDING_OFF,
	VANISH_NO_ROUTE,
	VANISH_UNREACHABLE_ROUTE,
	VANISH_BLACKHOLE_ROUTE,
	VANISH_PROHIBIT_ROUTE,
	VANISH_RP_FILTER,
	VANISH_MARTIAN_SOURCE,
	VANISH_MARTIAN_DESTINATION,
	VANISH_NO_LISTENER,
	VANISH_TOO_BIG,
};

/* Hooks, as NF_INET_* (linux/netfilter.h), without pulling it in here. */
#define VANISH_HOOK_PREROUTING	0
#define VANISH_HOOK_INPUT	1
#define VANISH_HOOK_FORWARD	2
#define VANISH_HOOK_OUTPUT	3
#define VANISH_HOOK_POSTROUTING 4

/* The packet as it left the last hook that saw it (after NAT). */
struct vanish_query {
	struct packet_info pkt;
	bool daddr_known; /* false: a NAT target we could not read */
	uint32_t iif;	  /* 0: not known (output) */
	uint32_t mark;
	int hook;	       /* VANISH_HOOK_* it was last seen at */
	unsigned int expected; /* hooks (1 << VANISH_HOOK_*) it never reached */
};

/* -1 in a sysctl: not read (no such file, or not asked). */
struct vanish_route {
	bool asked;
	int err;      /* 0 or the kernel's -errno */
	uint8_t type; /* RTN_* when err is 0 */
	uint32_t oif;
	char oifname[IF_NAMESIZE];
};

struct vanish_facts {
	char iifname[IF_NAMESIZE]; /* "" if unknown */
	int ip_forward;		   /* net.ipv4.ip_forward */
	int fwd_all, fwd_iif;	   /* net.ipv4.conf.{all,IIF}.forwarding, ipv6 all */
	int force_fwd_iif;	   /* net.ipv6.conf.IIF.force_forwarding (6.17) */
	int rp_all, rp_iif;	   /* net.ipv4.conf.{all,IIF}.rp_filter */
	/* the kernel's input route lookup of the packet, on its iif */
	struct vanish_route input;
	/* the route to the destination, no input interface (route type) */
	struct vanish_route to_dst;
	/* the route back to the source, as rp_filter looks it up */
	struct vanish_route to_src;
	/* MTU of the input lookup's route (its mtu metric, else its oif's), -1 unknown */
	int out_mtu;
	int in_mtu; /* of the input interface, -1 unknown */
	/* the kernel's socket lookup for the packet: 0 found, -ENOENT none */
	bool sock_asked;
	int sock_err;
	/* why facts are missing, for VANISH_NOT_CHECKED */
	char missing[96];
};

struct vanish_result {
	enum vanish_reason reason;
	char evidence[VANISH_EVIDENCE_MAX];
};

/* Facts with nothing known yet. */
void vanish_facts_init(struct vanish_facts *f);

/* What the edge should ask the kernel, as VANISH_NEED_* bits. */
#define VANISH_NEED_SYSCTL (1u << 0)
#define VANISH_NEED_INPUT  (1u << 1) /* needs iif */
#define VANISH_NEED_TO_DST (1u << 2)
#define VANISH_NEED_TO_SRC (1u << 3)
#define VANISH_NEED_SOCKET (1u << 4)
unsigned int vanish_needs(const struct vanish_query *q);

/* Is the question worth asking at all (a packet checks can say anything about)? */
bool vanish_checkable(const struct vanish_query *q);

/* Name the reason from the facts and write the evidence. */
void vanish_decide(const struct vanish_query *q, const struct vanish_facts *f,
		   struct vanish_result *ret);

/* "forwarding_off", "no_route", ... for JSON and the journal. */
const char *vanish_reason_name(enum vanish_reason r);
/* A named reason (not "not known", "not checked" or "not asked")? */
bool vanish_reason_named(enum vanish_reason r);

/*
 * The end of the verdict line for a packet lost outside the ruleset:
 * "dropped outside the ruleset: not forwarded: net.ipv4.ip_forward is 0 in
 * this namespace". Returns the length snprintf would write.
 */
int vanish_cause_str(const struct vanish_result *v, char *buf, size_t len);

#endif
