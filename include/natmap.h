/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NATMAP_H
#define NATTRACED_NATMAP_H

/*
 * A NAT mapping: one conntrack entry whose original and reply tuples
 * differ. The original tuple is the connection as its initiator sent it
 * (before NAT); the reply tuple is what the other end answers to (after
 * NAT). Their difference is the translation:
 *   DNAT  orig_dst != reply_src   (reply_src is the real destination)
 *   SNAT  orig_src != reply_dst   (reply_dst is the alias source)
 *
 * Pure: conversion from libnetfilter_conntrack objects and ctnetlink
 * messages, text and JSON. No socket, no global state.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"

struct nf_conntrack;
struct nlmsghdr;

/* "[" + 45 + "]:" + 5 + NUL */
#define NATMAP_ENDPOINT_STRLEN 56

enum natmap_event {
	NATMAP_EV_NONE = 0, /* a dump entry: no event */
	NATMAP_EV_NEW,
	NATMAP_EV_UPDATE,
	NATMAP_EV_DESTROY,
};

/* Bits: a connection can be both. */
enum natmap_kind {
	NATMAP_NAT_NONE = 0,
	NATMAP_NAT_DNAT = 1,
	NATMAP_NAT_SNAT = 2,
	NATMAP_NAT_BOTH = 3,
};

struct natmap_ep {
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port;	  /* host order; meaningful if the map has_ports */
};

struct natmap {
	enum natmap_event event;
	enum natmap_kind nat;
	uint8_t l3;	 /* 4 or 6 */
	uint8_t l4proto; /* IPPROTO_* */
	bool has_ports;	 /* tcp, udp, sctp, dccp, udplite */
	struct natmap_ep orig_src, orig_dst, reply_src, reply_dst;
	uint32_t ct_id;
	bool has_ct_id;
	uint32_t status; /* IPS_* */
	bool has_status;
	uint8_t tcp_state; /* TCP_CONNTRACK_* */
	bool has_tcp_state;
	uint32_t timeout; /* seconds left */
	bool has_timeout;
};

/*
 * Fill ret from a conntrack object. -EINVAL if the object lacks the
 * tuples (addresses, l3 or l4 protocol). ret->nat says whether it is a
 * mapping at all (NATMAP_NAT_NONE: not NATed).
 */
int natmap_from_ct(const struct nf_conntrack *ct, enum natmap_event event, struct natmap *ret);

/*
 * One ctnetlink message (IPCTNL_MSG_CT_NEW or _DELETE, as multicast or
 * dumped) parsed with libnetfilter_conntrack. The event comes from the
 * header: DELETE is destroy, NEW with NLM_F_CREATE new, NEW without it
 * update, NEW in a dump (NLM_F_MULTI, no NLM_F_CREATE) NATMAP_EV_NONE when
 * dump is true. -ENOMSG if it is not a conntrack message, -EINVAL if it
 * is malformed, -ENOMEM.
 */
/*
 * 0 if every attribute libnetfilter_conntrack validates in a ctnetlink
 * message passes the same libmnl check (it calls exit(1) on one that does
 * not); -EINVAL otherwise. natmap_parse_msg() calls it first.
 */
int natmap_msg_validate(const struct nlmsghdr *nlh);
int natmap_parse_msg(const struct nlmsghdr *nlh, bool dump, struct natmap *ret);

/*
 * Fill fields the event did not carry (state, status, timeout) from what
 * was known before; an update event often carries no protocol info.
 */
void natmap_merge(struct natmap *m, const struct natmap *known);

const char *natmap_event_name(enum natmap_event e); /* "new", ... */
const char *natmap_event_mark(enum natmap_event e); /* "+", "=", "-" */
const char *natmap_kind_name(enum natmap_kind k);   /* "dnat", ... */
/* "ESTABLISHED", "SYN_SENT" for TCP; "ASSURED", "REPLIED", "UNREPLIED"
 * from the status otherwise; "-" if unknown. */
const char *natmap_state_name(const struct natmap *m);
/* "198.51.100.1:22", "[2001:db8::1]:22"; the address alone without ports */
void natmap_endpoint_str(const struct natmap *m, const struct natmap_ep *ep, char *buf, size_t len);

/*
 * The natd-style natstat view of a mapping:
 *   local   the inside endpoint: the real server (DNAT) or the client (SNAT)
 *   public  the remote endpoint outside
 *   alias   the translated endpoint the outside sees
 */
void natmap_roles(const struct natmap *m, const struct natmap_ep **ret_local,
		  const struct natmap_ep **ret_public, const struct natmap_ep **ret_alias);

/*
 * One log line, without newline:
 *   nat + tcp 198.51.100.2:40000 -> 198.51.100.1:1222 dnat 203.0.113.10:22 id 12 SYN_SENT
 *   nat - tcp 203.0.113.10:4000 -> 198.51.100.2:80 snat 198.51.100.1:4000 id 13 TIME_WAIT
 * For both: "snat A dnat B". Returns snprintf's count.
 */
int natmap_text(const struct natmap *m, char *buf, size_t len);

/*
 * {"type":"nat","event":"new",...}; no "event" key for NATMAP_EV_NONE.
 * Keys: type, event, family, proto, orig_src, orig_dst, reply_src,
 * reply_dst, nat, ct_id, state, and status (names) and timeout when known.
 * Appended to w under key (NULL in an array or at the top level).
 */
void natmap_json(struct jsonw *w, const char *key, const struct natmap *m);

/* The aligned natstat table: header, then one row per mapping. */
int natmap_table_print(FILE *out, const struct natmap *maps, size_t n);

#endif
