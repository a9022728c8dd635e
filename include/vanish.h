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
	/*
	 * Its conntrack state as the trace event carried it (6.16+, and only
	 * where conntrack runs): evidence that cannot race a socket's life.
	 * A reply, or a packet of an established connection, had a socket.
	 */
	bool ct_known; /* ct_new and ct_reply are the kernel's */
	bool ct_new;   /* ct state new (and no other bit) */
	bool ct_reply; /* ct direction reply */
};

/* -1 in a sysctl: not read (no such file, or not asked). */
struct vanish_route {
	bool asked;
	int err;      /* 0 or the kernel's -errno */
	uint8_t type; /* RTN_* when err is 0 */
	uint32_t oif;
	char oifname[IF_NAMESIZE];
	bool has_gateway; /* RTA_GATEWAY: a next hop, not on link */
	uint8_t gateway[16];
};

struct vanish_facts {
	char iifname[IF_NAMESIZE]; /* "" if unknown */
	int ip_forward;		   /* net.ipv4.ip_forward */
	int fwd_all, fwd_iif;	   /* net.ipv4.conf.{all,IIF}.forwarding, ipv6 all */
	int force_fwd_iif;	   /* net.ipv6.conf.IIF.force_forwarding (6.17) */
	int rp_all, rp_iif;	   /* net.ipv4.conf.{all,IIF}.rp_filter */
	/* where the sysctls came from: RTM_GETNETCONF, else /proc/sys */
	bool from_netconf;
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

/*
 * Where the kernel sends a packet that leaves the ruleset: its route
 * lookup's answer (after NAT, with iif and mark), and for a local route
 * whether a socket takes it. Said when no later chain would see it.
 */
enum vanish_next {
	VANISH_NEXT_NONE = 0, /* not asked, or the kernel refuses it (reason) */
	VANISH_NEXT_LOCAL,    /* a local route: delivered on this host */
	VANISH_NEXT_FORWARD,  /* a unicast route, forwarding on */
	VANISH_NEXT_OUT,      /* sent by this host out of an interface */
};

struct vanish_result {
	enum vanish_reason reason;
	char evidence[VANISH_EVIDENCE_MAX];
	enum vanish_next next;
	/*
	 * VANISH_NEXT_LOCAL: reason is VANISH_DELIVERED when a socket (or the
	 * kernel itself, ICMP) takes it, VANISH_UNKNOWN when that is not known.
	 */
	char next_oif[IF_NAMESIZE]; /* "" if none or unknown */
	uint8_t next_l3;	    /* 4 or 6: of next_gateway */
	bool next_has_gateway;	    /* false: the destination is on link */
	uint8_t next_gateway[16];
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

/*
 * "delivered", "not_known", "forwarded", "sent" or "not_checked": what the
 * kernel does with a packet no later chain sees, for JSON and the journal
 * (after_ruleset.decision, NATTRACE_AFTER_RULESET).
 */
const char *vanish_next_name(const struct vanish_result *v);
/*
 * "forwarded out of lan0 via 203.0.113.254", "delivered locally: a socket
 * takes tcp 198.51.100.1:22". Returns the length snprintf would write.
 */
int vanish_next_str(const struct vanish_result *v, char *buf, size_t len);

/* The next hop's address ("203.0.113.254"), or "" (on link, or none). */
void vanish_next_gateway_str(const struct vanish_result *v, char *buf, size_t len);

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
