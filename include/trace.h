/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TRACE_H
#define NATTRACED_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/*
 * Conntrack trace attributes added in Linux 6.16. Debian 12's uapi headers
 * stop at NFTA_TRACE_PAD (17) and libnftnl 1.2.4 skips them, so they are
 * named here.
 */
#define TRACE_ATTR_CT_ID	18 /* be32, as in conntrack -L -o id */
#define TRACE_ATTR_CT_DIRECTION 19 /* u8 */
#define TRACE_ATTR_CT_STATUS	20 /* be32, omitted when 0 */
#define TRACE_ATTR_CT_STATE	21 /* be32, NF_CT_STATE_* bits */
#define TRACE_ATTR_MAX		21

/* Kernel bounds (net/netfilter/nf_tables_trace.c). */
#define TRACE_LL_MAX 20
#define TRACE_NH_MAX 40
#define TRACE_TH_MAX 20

enum trace_type {
	TRACE_TYPE_UNSPEC = 0,
	TRACE_TYPE_POLICY = 1,
	TRACE_TYPE_RETURN = 2,
	TRACE_TYPE_RULE = 3,
};

/* Which optional attributes a decoded event carries. */
enum trace_present {
	TRACE_HAS_HANDLE = 1u << 0,
	TRACE_HAS_VERDICT = 1u << 1,
	TRACE_HAS_POLICY = 1u << 2,
	TRACE_HAS_IIF = 1u << 3,
	TRACE_HAS_OIF = 1u << 4,
	TRACE_HAS_IIFTYPE = 1u << 5,
	TRACE_HAS_OIFTYPE = 1u << 6,
	TRACE_HAS_MARK = 1u << 7,
	TRACE_HAS_NFPROTO = 1u << 8,
	TRACE_HAS_LL = 1u << 9,
	TRACE_HAS_NH = 1u << 10,
	TRACE_HAS_TH = 1u << 11,
	TRACE_HAS_CT_ID = 1u << 12,
	TRACE_HAS_CT_DIRECTION = 1u << 13,
	TRACE_HAS_CT_STATUS = 1u << 14,
	TRACE_HAS_CT_STATE = 1u << 15,
	TRACE_HAS_TARGET = 1u << 16,
};

/*
 * One NFT_MSG_TRACE message. Strings and header bytes point into the
 * message buffer, which the caller owns: copy what must outlive it.
 */
struct trace_event {
	uint32_t id;
	uint32_t type;	  /* enum trace_type */
	uint32_t present; /* enum trace_present bits */
	uint8_t family;	  /* table family, NFPROTO_* */
	uint32_t nfproto; /* protocol processed, NFPROTO_IPV4/6 */
	const char *table;
	const char *chain;
	uint64_t handle;
	int32_t verdict;    /* raw code: NF_ACCEPT, NFT_JUMP, ... */
	const char *target; /* jump/goto chain */
	uint32_t policy;
	uint32_t iif, oif;
	uint16_t iiftype, oiftype;
	uint32_t mark;
	const uint8_t *ll, *nh, *th;
	uint16_t ll_len, nh_len, th_len;
	uint32_t ct_id;
	uint8_t ct_direction;
	uint32_t ct_status;
	uint32_t ct_state;
};

/*
 * Walk the messages of one received datagram: the next whole message at
 * *offset, advancing it, or NULL at the end. *ret_bad is set when what is
 * left is not a whole message (libmnl 1.0.4's mnl_nlmsg_ok() casts the
 * length to int, so a length of 2^31 or more passes it).
 */
const struct nlmsghdr *trace_msg_next(const void *buf, size_t len, size_t *offset, bool *ret_bad);

/*
 * Decode one netlink message. Returns 0 on success, -ENOMSG if it is not an
 * nftables trace message (skip it quietly), -EINVAL if it is malformed
 * (count it and skip it).
 */
int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ret);

/* Verdict helpers: names as nft prints them ("accept", "jump", ...). */
const char *trace_verdict_name(int32_t verdict);
/* drop, stolen or queue: nothing of this packet follows. */
bool trace_verdict_is_final(int32_t verdict);

const char *trace_family_name(uint8_t nfproto);

/*
 * Conntrack status flags by name, indexed by IPS_*_BIT (uapi
 * nf_conntrack_common.h); bits beyond the table have no name.
 */
#define TRACE_CT_STATUS_NAMES 16

/* IPS_* bits of linux/netfilter/nf_conntrack_common.h */
#define TRACE_CT_CONFIRMED    (1u << 3)
#define TRACE_CT_SRC_NAT      (1u << 4)
#define TRACE_CT_SRC_NAT_DONE (1u << 7)
/* The ct state attribute's bits: NF_CT_STATE_BIT(IP_CT_NEW) */
#define TRACE_CT_STATE_NEW    (1u << 3)
extern const char *const trace_ct_status_names[TRACE_CT_STATUS_NAMES];

/* NF_CT_STATE_BIT(IP_CT_ESTABLISHED), (IP_CT_RELATED) */
#define TRACE_CT_STATE_ESTABLISHED (1u << 1)
#define TRACE_CT_STATE_RELATED	   (1u << 2)

#endif
