/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NAT mappings from conntrack entries (libnetfilter_conntrack does the
 * ctnetlink parsing), and how they are printed: one log line per event in
 * the spirit of natd's "+ / = / -" log, JSON, and natstat's table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "natmap.h"
#include "packet.h"
#include "trace.h"

/* As conntrack -L prints them (TCP_CONNTRACK_*). */
static const char *const tcp_state_names[] = {
	[TCP_CONNTRACK_NONE] = "NONE",	       [TCP_CONNTRACK_SYN_SENT] = "SYN_SENT",
	[TCP_CONNTRACK_SYN_RECV] = "SYN_RECV", [TCP_CONNTRACK_ESTABLISHED] = "ESTABLISHED",
	[TCP_CONNTRACK_FIN_WAIT] = "FIN_WAIT", [TCP_CONNTRACK_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_CONNTRACK_LAST_ACK] = "LAST_ACK", [TCP_CONNTRACK_TIME_WAIT] = "TIME_WAIT",
	[TCP_CONNTRACK_CLOSE] = "CLOSE",       [TCP_CONNTRACK_SYN_SENT2] = "SYN_SENT2",
};

static bool proto_has_ports(uint8_t p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP || p == IPPROTO_DCCP ||
	       p == IPPROTO_UDPLITE;
}

static void get_addr(const struct nf_conntrack *ct, int attr4, int attr6, uint8_t l3, uint8_t *addr)
{
	const void *p;

	memset(addr, 0, 16);
	p = nfct_get_attr(ct, l3 == 4 ? attr4 : attr6);
	if (p)
		memcpy(addr, p, l3 == 4 ? 4 : 16);
}

static bool ep_equal(const struct natmap *m, const struct natmap_ep *a, const struct natmap_ep *b)
{
	return memcmp(a->addr, b->addr, m->l3 == 4 ? 4 : 16) == 0 &&
	       (!m->has_ports || a->port == b->port);
}

int natmap_from_ct(const struct nf_conntrack *ct, enum natmap_event event, struct natmap *ret)
{
	struct natmap m = { .event = event };
	uint8_t family;
	int a4, a6;

	if (!ct || !nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) ||
	    !nfct_attr_is_set(ct, ATTR_ORIG_L4PROTO))
		return -EINVAL;
	family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	if (family == AF_INET)
		m.l3 = 4;
	else if (family == AF_INET6)
		m.l3 = 6;
	else
		return -EINVAL;
	/* Both tuples, both addresses: otherwise there is no translation to show. */
	a4 = ATTR_ORIG_IPV4_SRC;
	a6 = ATTR_ORIG_IPV6_SRC;
	for (int i = 0; i < 4; i++)
		if (!nfct_attr_is_set(ct, m.l3 == 4 ? a4 + i : a6 + i))
			return -EINVAL;
	m.l4proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	get_addr(ct, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, m.l3, m.orig_src.addr);
	get_addr(ct, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, m.l3, m.orig_dst.addr);
	get_addr(ct, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, m.l3, m.reply_src.addr);
	get_addr(ct, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, m.l3, m.reply_dst.addr);
	if (proto_has_ports(m.l4proto) && nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) &&
	    nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST) && nfct_attr_is_set(ct, ATTR_REPL_PORT_SRC) &&
	    nfct_attr_is_set(ct, ATTR_REPL_PORT_DST)) {
		m.has_ports = true;
		/* libnetfilter_conntrack keeps ports in network order */
		m.orig_src.port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
		m.orig_dst.port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
		m.reply_src.port = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
		m.reply_dst.port = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
	}
	if (nfct_attr_is_set(ct, ATTR_ID)) {
		m.has_ct_id = true;
		m.ct_id = nfct_get_attr_u32(ct, ATTR_ID);
	}
	if (nfct_attr_is_set(ct, ATTR_STATUS)) {
		m.has_status = true;
		m.status = nfct_get_attr_u32(ct, ATTR_STATUS);
	}
	if (m.l4proto == IPPROTO_TCP && nfct_attr_is_set(ct, ATTR_TCP_STATE)) {
		m.has_tcp_state = true;
		m.tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	}
	if (nfct_attr_is_set(ct, ATTR_TIMEOUT)) {
		m.has_timeout = true;
		m.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
	}
	/*
	 * The tuples are the truth: the status bits say a NAT was set up,
	 * also for a "null binding" that changed nothing.
	 */
	if (!ep_equal(&m, &m.orig_dst, &m.reply_src))
		m.nat |= NATMAP_NAT_DNAT;
	if (!ep_equal(&m, &m.orig_src, &m.reply_dst))
		m.nat |= NATMAP_NAT_SNAT;
	*ret = m;
	return 0;
}

/*
 * libnetfilter_conntrack 1.0.9 calls exit(1) ("ctnetlink kernel ABI is
 * broken", abi_breakage()) when an attribute it knows fails
 * mnl_attr_validate(): a CTA_TUPLE_ORIG 4 bytes too long makes a stray
 * inner attribute of the wrong size, and the daemon ends. So every
 * attribute it validates is validated here first, with the same libmnl
 * calls at the same nesting (src/conntrack/parse_mnl.c), and a message
 * that would fail is refused as malformed instead.
 */
struct ct_rule {
	uint16_t type;
	enum mnl_attr_data_type data;
	size_t len;		       /* mnl_attr_validate2() length, 0: validate() */
	const struct ct_level *nested; /* for MNL_TYPE_NESTED */
};

struct ct_level {
	const struct ct_rule *rules;
	size_t n;
};

#define LEVEL(r)                            \
	{                                   \
		r, sizeof(r) / sizeof(r[0]) \
	}

static const struct ct_rule ct_ip[] = {
	{ CTA_IP_V4_SRC, MNL_TYPE_U32, 0, NULL },
	{ CTA_IP_V4_DST, MNL_TYPE_U32, 0, NULL },
	{ CTA_IP_V6_SRC, MNL_TYPE_UNSPEC, 16, NULL },
	{ CTA_IP_V6_DST, MNL_TYPE_UNSPEC, 16, NULL },
};
static const struct ct_level ct_ip_level = LEVEL(ct_ip);

static const struct ct_rule ct_proto[] = {
	{ CTA_PROTO_SRC_PORT, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_DST_PORT, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_ICMP_ID, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_ICMPV6_ID, MNL_TYPE_U16, 0, NULL },
	{ CTA_PROTO_NUM, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMP_TYPE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMP_CODE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMPV6_TYPE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTO_ICMPV6_CODE, MNL_TYPE_U8, 0, NULL },
};
static const struct ct_level ct_proto_level = LEVEL(ct_proto);

static const struct ct_rule ct_tuple[] = {
	{ CTA_TUPLE_IP, MNL_TYPE_NESTED, 0, &ct_ip_level },
	{ CTA_TUPLE_PROTO, MNL_TYPE_NESTED, 0, &ct_proto_level },
	{ CTA_TUPLE_ZONE, MNL_TYPE_U16, 0, NULL },
};
static const struct ct_level ct_tuple_level = LEVEL(ct_tuple);

static const struct ct_rule ct_tcp[] = {
	{ CTA_PROTOINFO_TCP_STATE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTOINFO_TCP_WSCALE_REPLY, MNL_TYPE_U8, 0, NULL },
	/* struct nf_ct_tcp_flags: flags and mask, a byte each */
	{ CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, MNL_TYPE_UNSPEC, 2, NULL },
	{ CTA_PROTOINFO_TCP_FLAGS_REPLY, MNL_TYPE_UNSPEC, 2, NULL },
};
static const struct ct_level ct_tcp_level = LEVEL(ct_tcp);

static const struct ct_rule ct_sctp[] = {
	{ CTA_PROTOINFO_SCTP_STATE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTOINFO_SCTP_VTAG_ORIGINAL, MNL_TYPE_U32, 0, NULL },
	{ CTA_PROTOINFO_SCTP_VTAG_REPLY, MNL_TYPE_U32, 0, NULL },
};
static const struct ct_level ct_sctp_level = LEVEL(ct_sctp);

static const struct ct_rule ct_dccp[] = {
	{ CTA_PROTOINFO_DCCP_STATE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTOINFO_DCCP_ROLE, MNL_TYPE_U8, 0, NULL },
	{ CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ, MNL_TYPE_U64, 0, NULL },
};
static const struct ct_level ct_dccp_level = LEVEL(ct_dccp);

static const struct ct_rule ct_protoinfo[] = {
	{ CTA_PROTOINFO_TCP, MNL_TYPE_NESTED, 0, &ct_tcp_level },
	{ CTA_PROTOINFO_SCTP, MNL_TYPE_NESTED, 0, &ct_sctp_level },
	{ CTA_PROTOINFO_DCCP, MNL_TYPE_NESTED, 0, &ct_dccp_level },
};
static const struct ct_level ct_protoinfo_level = LEVEL(ct_protoinfo);

static const struct ct_rule ct_counters[] = {
	{ CTA_COUNTERS_PACKETS, MNL_TYPE_U64, 0, NULL },
	{ CTA_COUNTERS_BYTES, MNL_TYPE_U64, 0, NULL },
	{ CTA_COUNTERS32_PACKETS, MNL_TYPE_U32, 0, NULL },
	{ CTA_COUNTERS32_BYTES, MNL_TYPE_U32, 0, NULL },
};
static const struct ct_level ct_counters_level = LEVEL(ct_counters);

static const struct ct_rule ct_nat_seq[] = {
	{ CTA_NAT_SEQ_CORRECTION_POS, MNL_TYPE_U32, 0, NULL },
	{ CTA_NAT_SEQ_OFFSET_BEFORE, MNL_TYPE_U32, 0, NULL },
	{ CTA_NAT_SEQ_OFFSET_AFTER, MNL_TYPE_U32, 0, NULL },
};
static const struct ct_level ct_nat_seq_level = LEVEL(ct_nat_seq);

static const struct ct_rule ct_help[] = {
	{ CTA_HELP_NAME, MNL_TYPE_STRING, 0, NULL },
};
static const struct ct_level ct_help_level = LEVEL(ct_help);

static const struct ct_rule ct_secctx[] = {
	{ CTA_SECCTX_NAME, MNL_TYPE_STRING, 0, NULL },
};
static const struct ct_level ct_secctx_level = LEVEL(ct_secctx);

static const struct ct_rule ct_timestamp[] = {
	{ CTA_TIMESTAMP_START, MNL_TYPE_U64, 0, NULL },
	{ CTA_TIMESTAMP_STOP, MNL_TYPE_U64, 0, NULL },
};
static const struct ct_level ct_timestamp_level = LEVEL(ct_timestamp);

static const struct ct_rule ct_synproxy[] = {
	{ CTA_SYNPROXY_ISN, MNL_TYPE_U32, 0, NULL },
	{ CTA_SYNPROXY_ITS, MNL_TYPE_U32, 0, NULL },
	{ CTA_SYNPROXY_TSOFF, MNL_TYPE_U32, 0, NULL },
};
static const struct ct_level ct_synproxy_level = LEVEL(ct_synproxy);

static const struct ct_rule ct_top[] = {
	{ CTA_TUPLE_ORIG, MNL_TYPE_NESTED, 0, &ct_tuple_level },
	{ CTA_TUPLE_REPLY, MNL_TYPE_NESTED, 0, &ct_tuple_level },
	{ CTA_TUPLE_MASTER, MNL_TYPE_NESTED, 0, &ct_tuple_level },
	{ CTA_NAT_SEQ_ADJ_ORIG, MNL_TYPE_NESTED, 0, &ct_nat_seq_level },
	{ CTA_NAT_SEQ_ADJ_REPLY, MNL_TYPE_NESTED, 0, &ct_nat_seq_level },
	{ CTA_PROTOINFO, MNL_TYPE_NESTED, 0, &ct_protoinfo_level },
	{ CTA_COUNTERS_ORIG, MNL_TYPE_NESTED, 0, &ct_counters_level },
	{ CTA_COUNTERS_REPLY, MNL_TYPE_NESTED, 0, &ct_counters_level },
	{ CTA_HELP, MNL_TYPE_NESTED, 0, &ct_help_level },
	{ CTA_SECCTX, MNL_TYPE_NESTED, 0, &ct_secctx_level },
	{ CTA_TIMESTAMP, MNL_TYPE_NESTED, 0, &ct_timestamp_level },
	{ CTA_SYNPROXY, MNL_TYPE_NESTED, 0, &ct_synproxy_level },
	{ CTA_STATUS, MNL_TYPE_U32, 0, NULL },
	{ CTA_TIMEOUT, MNL_TYPE_U32, 0, NULL },
	{ CTA_MARK, MNL_TYPE_U32, 0, NULL },
	{ CTA_SECMARK, MNL_TYPE_U32, 0, NULL },
	{ CTA_USE, MNL_TYPE_U32, 0, NULL },
	{ CTA_ID, MNL_TYPE_U32, 0, NULL },
	{ CTA_ZONE, MNL_TYPE_U16, 0, NULL },
};
static const struct ct_level ct_top_level = LEVEL(ct_top);

static int ct_validate_cb(const struct nlattr *attr, void *data)
{
	const struct ct_level *level = data;
	uint16_t type = mnl_attr_get_type(attr);

	for (size_t i = 0; i < level->n; i++) {
		const struct ct_rule *r = &level->rules[i];

		if (r->type != type)
			continue;
		if (r->len ? mnl_attr_validate2(attr, r->data, r->len) < 0
			   : mnl_attr_validate(attr, r->data) < 0)
			return MNL_CB_ERROR;
		if (r->nested && mnl_attr_parse_nested(attr, ct_validate_cb, (void *)r->nested) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

int natmap_msg_validate(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return -EINVAL;
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_validate_cb, (void *)&ct_top_level) <
			       0
		       ? -EINVAL
		       : 0;
}

/* Room for a message and the bytes nfct_nlmsg_parse() reads beyond it. */
#define NATMAP_MSG_MAX (2 * 8192)

int natmap_parse_msg(const struct nlmsghdr *nlh, bool dump, struct natmap *ret)
{
	/*
	 * nfct_nlmsg_parse() walks nlmsg_len bytes from the payload, the
	 * header's length too far: beyond the message, into the next one
	 * of the datagram or past the buffer. A zeroed copy twice as long
	 * makes it stop (an attribute of length 0 ends libmnl's walk).
	 */
	static uint64_t copy[NATMAP_MSG_MAX / sizeof(uint64_t)];
	enum natmap_event ev;
	struct nf_conntrack *ct;
	int r;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return -ENOMSG;
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case IPCTNL_MSG_CT_NEW:
		/* The kernel sets CREATE|EXCL on the event of a new entry only. */
		if (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL))
			ev = NATMAP_EV_NEW;
		else
			ev = dump ? NATMAP_EV_NONE : NATMAP_EV_UPDATE;
		break;
	case IPCTNL_MSG_CT_DELETE:
		ev = NATMAP_EV_DESTROY;
		break;
	default:
		return -ENOMSG;
	}
	if (natmap_msg_validate(nlh) < 0)
		return -EINVAL;
	if (nlh->nlmsg_len > NATMAP_MSG_MAX / 2)
		return -EINVAL;
	memset(copy, 0, 2 * MNL_ALIGN(nlh->nlmsg_len));
	memcpy(copy, nlh, nlh->nlmsg_len);
	ct = nfct_new();
	if (!ct)
		return -ENOMEM;
	r = nfct_nlmsg_parse((const struct nlmsghdr *)copy, ct) < 0 ? -EINVAL
								    : natmap_from_ct(ct, ev, ret);
	nfct_destroy(ct);
	return r;
}

void natmap_merge(struct natmap *m, const struct natmap *known)
{
	if (!known || known->l3 != m->l3 || known->l4proto != m->l4proto)
		return;
	if (!m->has_status && known->has_status) {
		m->has_status = true;
		m->status = known->status;
	}
	if (!m->has_tcp_state && known->has_tcp_state) {
		m->has_tcp_state = true;
		m->tcp_state = known->tcp_state;
	}
}

const char *natmap_event_name(enum natmap_event e)
{
	switch (e) {
	case NATMAP_EV_NEW:
		return "new";
	case NATMAP_EV_UPDATE:
		return "update";
	case NATMAP_EV_DESTROY:
		return "destroy";
	default:
		return NULL;
	}
}

const char *natmap_event_mark(enum natmap_event e)
{
	switch (e) {
	case NATMAP_EV_NEW:
		return "+";
	case NATMAP_EV_UPDATE:
		return "=";
	case NATMAP_EV_DESTROY:
		return "-";
	default:
		return " ";
	}
}

const char *natmap_kind_name(enum natmap_kind k)
{
	switch (k) {
	case NATMAP_NAT_DNAT:
		return "dnat";
	case NATMAP_NAT_SNAT:
		return "snat";
	case NATMAP_NAT_BOTH:
		return "both";
	default:
		return "none";
	}
}

const char *natmap_state_name(const struct natmap *m)
{
	if (m->has_tcp_state)
		return m->tcp_state < sizeof(tcp_state_names) / sizeof(tcp_state_names[0]) &&
				       tcp_state_names[m->tcp_state]
			       ? tcp_state_names[m->tcp_state]
			       : "UNKNOWN";
	if (!m->has_status)
		return "-";
	if (m->status & IPS_ASSURED)
		return "ASSURED";
	if (m->status & IPS_SEEN_REPLY)
		return "REPLIED";
	return "UNREPLIED";
}

void natmap_endpoint_str(const struct natmap *m, const struct natmap_ep *ep, char *buf, size_t len)
{
	packet_ep_str(m->l3, ep->addr, m->has_ports, ep->port, buf, len);
}

void natmap_roles(const struct natmap *m, const struct natmap_ep **ret_local,
		  const struct natmap_ep **ret_public, const struct natmap_ep **ret_alias)
{
	if (m->nat & NATMAP_NAT_DNAT) {
		/* A port forward: the outside reaches the alias, the server is local. */
		*ret_local = &m->reply_src;
		*ret_public = &m->orig_src;
		*ret_alias = &m->orig_dst;
	} else {
		/* Masquerade: an inside client goes out under the alias. */
		*ret_local = &m->orig_src;
		*ret_public = &m->orig_dst;
		*ret_alias = &m->reply_dst;
	}
}

int natmap_text(const struct natmap *m, char *buf, size_t len)
{
	char proto[8], osrc[NATMAP_ENDPOINT_STRLEN], odst[NATMAP_ENDPOINT_STRLEN];
	char alias[NATMAP_ENDPOINT_STRLEN], real[NATMAP_ENDPOINT_STRLEN];
	char xlat[2 * NATMAP_ENDPOINT_STRLEN + 16], id[24];

	natmap_endpoint_str(m, &m->orig_src, osrc, sizeof(osrc));
	natmap_endpoint_str(m, &m->orig_dst, odst, sizeof(odst));
	natmap_endpoint_str(m, &m->reply_dst, alias, sizeof(alias));
	natmap_endpoint_str(m, &m->reply_src, real, sizeof(real));
	switch (m->nat) {
	case NATMAP_NAT_DNAT:
		snprintf(xlat, sizeof(xlat), "dnat %s", real);
		break;
	case NATMAP_NAT_SNAT:
		snprintf(xlat, sizeof(xlat), "snat %s", alias);
		break;
	case NATMAP_NAT_BOTH:
		snprintf(xlat, sizeof(xlat), "snat %s dnat %s", alias, real);
		break;
	default:
		snprintf(xlat, sizeof(xlat), "no nat");
		break;
	}
	if (m->has_ct_id)
		snprintf(id, sizeof(id), "%" PRIu32, m->ct_id);
	else
		snprintf(id, sizeof(id), "-");
	/* a table entry (no event) has no mark */
	return snprintf(buf, len, "nat %s%s%s %s -> %s %s id %s %s",
			m->event == NATMAP_EV_NONE ? "" : natmap_event_mark(m->event),
			m->event == NATMAP_EV_NONE ? "" : " ",
			packet_proto_name(m->l4proto, proto, sizeof(proto)), osrc, odst, xlat, id,
			natmap_state_name(m));
}

static void ep_json(struct jsonw *w, const char *key, const struct natmap *m,
		    const struct natmap_ep *ep)
{
	char buf[NATMAP_ENDPOINT_STRLEN];

	natmap_endpoint_str(m, ep, buf, sizeof(buf));
	jsonw_string(w, key, buf);
}

void natmap_json(struct jsonw *w, const char *key, const struct natmap *m)
{
	char proto[8];

	jsonw_object_open(w, key);
	jsonw_string(w, "type", "nat");
	if (m->event != NATMAP_EV_NONE)
		jsonw_string(w, "event", natmap_event_name(m->event));
	jsonw_string(w, "family", m->l3 == 6 ? "ip6" : "ip");
	jsonw_string(w, "proto", packet_proto_name(m->l4proto, proto, sizeof(proto)));
	ep_json(w, "orig_src", m, &m->orig_src);
	ep_json(w, "orig_dst", m, &m->orig_dst);
	ep_json(w, "reply_src", m, &m->reply_src);
	ep_json(w, "reply_dst", m, &m->reply_dst);
	jsonw_string(w, "nat", natmap_kind_name(m->nat));
	if (m->has_ct_id)
		jsonw_uint(w, "ct_id", m->ct_id);
	else
		jsonw_null(w, "ct_id");
	jsonw_string(w, "state", natmap_state_name(m));
	if (m->has_status) {
		jsonw_array_open(w, "status");
		for (unsigned int b = 0; b < 32; b++) {
			char name[16];

			if (!(m->status & (1u << b)))
				continue;
			if (b < TRACE_CT_STATUS_NAMES) {
				jsonw_string(w, NULL, trace_ct_status_names[b]);
			} else {
				snprintf(name, sizeof(name), "bit%u", b);
				jsonw_string(w, NULL, name);
			}
		}
		jsonw_array_close(w);
	}
	if (m->has_timeout)
		jsonw_uint(w, "timeout", m->timeout);
	jsonw_object_close(w);
}

enum {
	COL_TYPE,
	COL_PROTO,
	COL_LOCAL,
	COL_PUBLIC,
	COL_ALIAS,
	COL_STATE,
	COL_ID,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"TYPE", "PROTO", "LOCAL", "PUBLIC", "ALIAS", "STATE", "ID",
};

static void row_cells(const struct natmap *m, char cells[NCOLS][NATMAP_ENDPOINT_STRLEN])
{
	const struct natmap_ep *local, *pub, *alias;
	char proto[8];

	natmap_roles(m, &local, &pub, &alias);
	snprintf(cells[COL_TYPE], NATMAP_ENDPOINT_STRLEN, "%s", natmap_kind_name(m->nat));
	snprintf(cells[COL_PROTO], NATMAP_ENDPOINT_STRLEN, "%s",
		 packet_proto_name(m->l4proto, proto, sizeof(proto)));
	natmap_endpoint_str(m, local, cells[COL_LOCAL], NATMAP_ENDPOINT_STRLEN);
	natmap_endpoint_str(m, pub, cells[COL_PUBLIC], NATMAP_ENDPOINT_STRLEN);
	natmap_endpoint_str(m, alias, cells[COL_ALIAS], NATMAP_ENDPOINT_STRLEN);
	snprintf(cells[COL_STATE], NATMAP_ENDPOINT_STRLEN, "%s", natmap_state_name(m));
	if (m->has_ct_id)
		snprintf(cells[COL_ID], NATMAP_ENDPOINT_STRLEN, "%" PRIu32, m->ct_id);
	else
		snprintf(cells[COL_ID], NATMAP_ENDPOINT_STRLEN, "-");
}

static void print_row(FILE *out, char cells[NCOLS][NATMAP_ENDPOINT_STRLEN], const int *width)
{
	for (int c = 0; c < NCOLS; c++) {
		if (c == NCOLS - 1)
			fprintf(out, "%s\n", cells[c]);
		else
			fprintf(out, "%-*s  ", width[c], cells[c]);
	}
}

int natmap_table_print(FILE *out, const struct natmap *maps, size_t n)
{
	char cells[NCOLS][NATMAP_ENDPOINT_STRLEN];
	int width[NCOLS];

	/* Two passes, so the columns line up without keeping the cells. */
	for (int c = 0; c < NCOLS; c++)
		width[c] = (int)strlen(col_names[c]);
	for (size_t i = 0; i < n; i++) {
		row_cells(&maps[i], cells);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cells[c]) > width[c])
				width[c] = (int)strlen(cells[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		snprintf(cells[c], NATMAP_ENDPOINT_STRLEN, "%s", col_names[c]);
	print_row(out, cells, width);
	for (size_t i = 0; i < n; i++) {
		row_cells(&maps[i], cells);
		print_row(out, cells, width);
	}
	return ferror(out) ? -EIO : 0;
}
