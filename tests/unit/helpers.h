/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builders shared by the unit tests: headers, events and netlink messages. */
#ifndef NATTRACED_TEST_HELPERS_H
#define NATTRACED_TEST_HELPERS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "trace.h"

struct test_pkt {
	uint8_t nh[40];
	uint8_t th[20];
	uint16_t nh_len, th_len;
};

static inline void test_ipv4_tcp(struct test_pkt *p, const char *saddr, uint16_t sport,
				 const char *daddr, uint16_t dport, uint8_t flags)
{
	memset(p, 0, sizeof(*p));
	p->nh[0] = 0x45;
	p->nh[3] = 60;
	p->nh[8] = 64;
	p->nh[9] = IPPROTO_TCP;
	inet_pton(AF_INET, saddr, p->nh + 12);
	inet_pton(AF_INET, daddr, p->nh + 16);
	p->nh_len = 20;
	p->th[0] = sport >> 8;
	p->th[1] = sport & 0xff;
	p->th[2] = dport >> 8;
	p->th[3] = dport & 0xff;
	p->th[12] = 0xa0;
	p->th[13] = flags;
	p->th_len = 20;
}

static inline void test_ipv6_udp(struct test_pkt *p, const char *saddr, uint16_t sport,
				 const char *daddr, uint16_t dport)
{
	memset(p, 0, sizeof(*p));
	p->nh[0] = 0x60;
	p->nh[5] = 8;
	p->nh[6] = IPPROTO_UDP;
	p->nh[7] = 64;
	inet_pton(AF_INET6, saddr, p->nh + 8);
	inet_pton(AF_INET6, daddr, p->nh + 24);
	p->nh_len = 40;
	p->th[0] = sport >> 8;
	p->th[1] = sport & 0xff;
	p->th[2] = dport >> 8;
	p->th[3] = dport & 0xff;
	p->th_len = 8;
}

/* A rule event (handle != 0) or, with handle 0, the implicit chain end. */
static inline struct trace_event test_rule(uint32_t id, const char *table, const char *chain,
					   uint64_t handle, int32_t verdict, const char *target)
{
	struct trace_event ev = {
		.id = id,
		.type = TRACE_TYPE_RULE,
		.family = NFPROTO_INET,
		.nfproto = NFPROTO_IPV4,
		.table = table,
		.chain = chain,
		.handle = handle,
		.verdict = verdict,
		.target = target,
		.present = TRACE_HAS_VERDICT | TRACE_HAS_NFPROTO,
	};

	if (handle)
		ev.present |= TRACE_HAS_HANDLE;
	if (target)
		ev.present |= TRACE_HAS_TARGET;
	return ev;
}

static inline struct trace_event test_policy(uint32_t id, const char *table, const char *chain,
					     uint32_t policy)
{
	struct trace_event ev = {
		.id = id,
		.type = TRACE_TYPE_POLICY,
		.family = NFPROTO_INET,
		.nfproto = NFPROTO_IPV4,
		.table = table,
		.chain = chain,
		.policy = policy,
		.present = TRACE_HAS_POLICY | TRACE_HAS_NFPROTO,
	};
	return ev;
}

/* Give an event the headers the kernel sends with a base chain's first. */
static inline struct trace_event test_with_pkt(struct trace_event ev, const struct test_pkt *p,
					       uint32_t iif, uint32_t oif)
{
	ev.nh = p->nh;
	ev.nh_len = p->nh_len;
	ev.th = p->th;
	ev.th_len = p->th_len;
	ev.present |= TRACE_HAS_NH | TRACE_HAS_TH;
	if (iif) {
		ev.iif = iif;
		ev.present |= TRACE_HAS_IIF;
	}
	if (oif) {
		ev.oif = oif;
		ev.present |= TRACE_HAS_OIF;
	}
	return ev;
}

#endif
