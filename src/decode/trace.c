/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding of NFT_MSG_TRACE messages. Written on libmnl rather than
 * libnftnl's nftnl_trace: libnftnl 1.2.4 skips the conntrack attributes
 * 18-21 and calls exit() on attributes it considers malformed, and a
 * daemon must survive any message the kernel (or anyone) multicasts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "names.h"
#include "trace.h"

/* Expected payload type of each attribute; MNL_TYPE_UNSPEC: not checked. */
static const enum mnl_attr_data_type attr_types[TRACE_ATTR_MAX + 1] = {
	[NFTA_TRACE_TABLE] = MNL_TYPE_NUL_STRING,
	[NFTA_TRACE_CHAIN] = MNL_TYPE_NUL_STRING,
	[NFTA_TRACE_RULE_HANDLE] = MNL_TYPE_U64,
	[NFTA_TRACE_TYPE] = MNL_TYPE_U32,
	[NFTA_TRACE_VERDICT] = MNL_TYPE_NESTED,
	[NFTA_TRACE_ID] = MNL_TYPE_U32,
	[NFTA_TRACE_LL_HEADER] = MNL_TYPE_BINARY,
	[NFTA_TRACE_NETWORK_HEADER] = MNL_TYPE_BINARY,
	[NFTA_TRACE_TRANSPORT_HEADER] = MNL_TYPE_BINARY,
	[NFTA_TRACE_IIF] = MNL_TYPE_U32,
	[NFTA_TRACE_IIFTYPE] = MNL_TYPE_U16,
	[NFTA_TRACE_OIF] = MNL_TYPE_U32,
	[NFTA_TRACE_OIFTYPE] = MNL_TYPE_U16,
	[NFTA_TRACE_MARK] = MNL_TYPE_U32,
	[NFTA_TRACE_NFPROTO] = MNL_TYPE_U32,
	[NFTA_TRACE_POLICY] = MNL_TYPE_U32,
	[TRACE_ATTR_CT_ID] = MNL_TYPE_U32,
	[TRACE_ATTR_CT_DIRECTION] = MNL_TYPE_U8,
	[TRACE_ATTR_CT_STATUS] = MNL_TYPE_U32,
	[TRACE_ATTR_CT_STATE] = MNL_TYPE_U32,
};

/* Expected payload type of the verdict's nested attributes. */
static const enum mnl_attr_data_type verdict_types[NFTA_VERDICT_MAX + 1] = {
	[NFTA_VERDICT_CODE] = MNL_TYPE_U32,
	[NFTA_VERDICT_CHAIN] = MNL_TYPE_NUL_STRING,
};

/*
 * mnl_attr_validate() for the types used here, inline: this runs for
 * every attribute of every event. Integers must have their exact size, a
 * string at least its NUL, a nest nothing or at least one header.
 */
static inline bool attr_valid(const struct nlattr *attr, enum mnl_attr_data_type type)
{
	size_t len = attr->nla_len - MNL_ATTR_HDRLEN;
	const char *data = (const char *)attr + MNL_ATTR_HDRLEN;

	switch (type) {
	case MNL_TYPE_U8:
		return len == 1;
	case MNL_TYPE_U16:
		return len == 2;
	case MNL_TYPE_U32:
		return len == 4;
	case MNL_TYPE_U64:
		return len == 8;
	case MNL_TYPE_NUL_STRING:
		return len > 0 && data[len - 1] == '\0';
	case MNL_TYPE_NESTED:
		return len == 0 || len >= MNL_ATTR_HDRLEN;
	default:
		return true;
	}
}

/*
 * The attributes between p and end into tb[0..max], as mnl_attr_parse()
 * with a validating callback does, without a call per attribute: a
 * malformed known attribute fails (-EINVAL), unknown ones (a newer
 * kernel's) are skipped, and the walk ends where what is left is not a
 * whole attribute.
 */
static int parse_attrs(const char *p, const char *end, const struct nlattr **tb, uint16_t max,
		       const enum mnl_attr_data_type *types)
{
	while ((size_t)(end - p) >= MNL_ATTR_HDRLEN) {
		const struct nlattr *attr = (const struct nlattr *)p;
		uint16_t type = attr->nla_type & NLA_TYPE_MASK;

		if (attr->nla_len < MNL_ATTR_HDRLEN || attr->nla_len > (size_t)(end - p))
			break;
		if (type <= max) {
			if (types[type] != MNL_TYPE_UNSPEC && !attr_valid(attr, types[type]))
				return -EINVAL;
			tb[type] = attr;
		}
		if ((size_t)(end - p) <= (size_t)MNL_ALIGN(attr->nla_len))
			break;
		p += MNL_ALIGN(attr->nla_len);
	}
	return 0;
}

static uint32_t get_be32(const struct nlattr *attr)
{
	return ntohl(mnl_attr_get_u32(attr));
}

static const uint8_t *get_bytes(const struct nlattr *attr, uint16_t *ret_len)
{
	*ret_len = mnl_attr_get_payload_len(attr);
	return mnl_attr_get_payload(attr);
}

static int decode_verdict(const struct nlattr *nest, struct trace_event *ev)
{
	const struct nlattr *tb[NFTA_VERDICT_MAX + 1] = {};
	const char *p = mnl_attr_get_payload(nest);

	/* only the code and the chain are checked, as before */
	if (parse_attrs(p, p + mnl_attr_get_payload_len(nest), tb, NFTA_VERDICT_MAX,
			verdict_types) < 0)
		return -EINVAL;
	if (!tb[NFTA_VERDICT_CODE])
		return -EINVAL;
	ev->verdict = (int32_t)get_be32(tb[NFTA_VERDICT_CODE]);
	ev->present |= TRACE_HAS_VERDICT;
	if (tb[NFTA_VERDICT_CHAIN]) {
		ev->target = mnl_attr_get_str(tb[NFTA_VERDICT_CHAIN]);
		ev->present |= TRACE_HAS_TARGET;
	}
	return 0;
}

const struct nlmsghdr *trace_msg_next(const void *buf, size_t len, size_t *offset, bool *ret_bad)
{
	const struct nlmsghdr *nlh;
	size_t left;

	*ret_bad = false;
	if (*offset >= len)
		return NULL;
	left = len - *offset;
	nlh = (const struct nlmsghdr *)((const char *)buf + *offset);
	if (left < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > left) {
		*ret_bad = true;
		return NULL;
	}
	/* The last message of a datagram need not be padded. */
	*offset += left < MNL_ALIGN(nlh->nlmsg_len) ? left : MNL_ALIGN(nlh->nlmsg_len);
	return nlh;
}

int trace_decode(const struct nlmsghdr *nlh, struct trace_event *ret)
{
	const struct nlattr *tb[TRACE_ATTR_MAX + 1] = {};
	const struct nfgenmsg *nfg;
	struct trace_event ev = {};

	if (nlh->nlmsg_len < sizeof(*nlh))
		return -EINVAL;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
		return -ENOMSG;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return -EINVAL;
	nfg = mnl_nlmsg_get_payload(nlh);
	ev.family = nfg->nfgen_family;

	if (parse_attrs((const char *)nfg + MNL_ALIGN(sizeof(*nfg)),
			(const char *)nlh + nlh->nlmsg_len, tb, TRACE_ATTR_MAX, attr_types) < 0)
		return -EINVAL;

	/* Without these the kernel never sends a trace event. */
	if (!tb[NFTA_TRACE_ID] || !tb[NFTA_TRACE_TYPE] || !tb[NFTA_TRACE_TABLE] ||
	    !tb[NFTA_TRACE_CHAIN])
		return -EINVAL;
	ev.id = get_be32(tb[NFTA_TRACE_ID]);
	ev.type = get_be32(tb[NFTA_TRACE_TYPE]);
	ev.table = mnl_attr_get_str(tb[NFTA_TRACE_TABLE]);
	ev.chain = mnl_attr_get_str(tb[NFTA_TRACE_CHAIN]);

	if (tb[NFTA_TRACE_RULE_HANDLE]) {
		ev.handle = be64toh(mnl_attr_get_u64(tb[NFTA_TRACE_RULE_HANDLE]));
		ev.present |= TRACE_HAS_HANDLE;
	}
	if (tb[NFTA_TRACE_VERDICT] && decode_verdict(tb[NFTA_TRACE_VERDICT], &ev) < 0)
		return -EINVAL;
	if (tb[NFTA_TRACE_POLICY]) {
		ev.policy = get_be32(tb[NFTA_TRACE_POLICY]);
		ev.present |= TRACE_HAS_POLICY;
	}
	if (tb[NFTA_TRACE_NFPROTO]) {
		ev.nfproto = get_be32(tb[NFTA_TRACE_NFPROTO]);
		ev.present |= TRACE_HAS_NFPROTO;
	}
	if (tb[NFTA_TRACE_IIF]) {
		ev.iif = get_be32(tb[NFTA_TRACE_IIF]);
		ev.present |= TRACE_HAS_IIF;
	}
	if (tb[NFTA_TRACE_OIF]) {
		ev.oif = get_be32(tb[NFTA_TRACE_OIF]);
		ev.present |= TRACE_HAS_OIF;
	}
	if (tb[NFTA_TRACE_IIFTYPE]) {
		ev.iiftype = ntohs(mnl_attr_get_u16(tb[NFTA_TRACE_IIFTYPE]));
		ev.present |= TRACE_HAS_IIFTYPE;
	}
	if (tb[NFTA_TRACE_OIFTYPE]) {
		ev.oiftype = ntohs(mnl_attr_get_u16(tb[NFTA_TRACE_OIFTYPE]));
		ev.present |= TRACE_HAS_OIFTYPE;
	}
	if (tb[NFTA_TRACE_MARK]) {
		ev.mark = get_be32(tb[NFTA_TRACE_MARK]);
		ev.present |= TRACE_HAS_MARK;
	}
	if (tb[NFTA_TRACE_LL_HEADER]) {
		ev.ll = get_bytes(tb[NFTA_TRACE_LL_HEADER], &ev.ll_len);
		ev.present |= TRACE_HAS_LL;
	}
	if (tb[NFTA_TRACE_NETWORK_HEADER]) {
		ev.nh = get_bytes(tb[NFTA_TRACE_NETWORK_HEADER], &ev.nh_len);
		ev.present |= TRACE_HAS_NH;
	}
	if (tb[NFTA_TRACE_TRANSPORT_HEADER]) {
		ev.th = get_bytes(tb[NFTA_TRACE_TRANSPORT_HEADER], &ev.th_len);
		ev.present |= TRACE_HAS_TH;
	}
	if (tb[TRACE_ATTR_CT_ID]) {
		ev.ct_id = get_be32(tb[TRACE_ATTR_CT_ID]);
		ev.present |= TRACE_HAS_CT_ID;
	}
	if (tb[TRACE_ATTR_CT_DIRECTION]) {
		ev.ct_direction = mnl_attr_get_u8(tb[TRACE_ATTR_CT_DIRECTION]);
		ev.present |= TRACE_HAS_CT_DIRECTION;
	}
	if (tb[TRACE_ATTR_CT_STATUS]) {
		ev.ct_status = get_be32(tb[TRACE_ATTR_CT_STATUS]);
		ev.present |= TRACE_HAS_CT_STATUS;
	}
	if (tb[TRACE_ATTR_CT_STATE]) {
		ev.ct_state = get_be32(tb[TRACE_ATTR_CT_STATE]);
		ev.present |= TRACE_HAS_CT_STATE;
	}
	*ret = ev;
	return 0;
}

const char *trace_verdict_name(int32_t verdict)
{
	switch (verdict) {
	case NFT_CONTINUE:
		return "continue";
	case NFT_BREAK:
		return "break";
	case NFT_JUMP:
		return "jump";
	case NFT_GOTO:
		return "goto";
	case NFT_RETURN:
		return "return";
	}
	if (verdict < 0)
		return "unknown";
	/* Queue carries its number above the mask: NF_QUEUE | num << 16. */
	switch (verdict & NF_VERDICT_MASK) {
	case NF_DROP:
		return "drop";
	case NF_ACCEPT:
		return "accept";
	case NF_STOLEN:
		return "stolen";
	case NF_QUEUE:
		return "queue";
	case NF_REPEAT:
		return "repeat";
	}
	return "unknown";
}

bool trace_verdict_is_final(int32_t verdict)
{
	if (verdict < 0)
		return false;
	switch (verdict & NF_VERDICT_MASK) {
	case NF_DROP:
	case NF_STOLEN:
	case NF_QUEUE:
		return true;
	}
	return false;
}

const char *trace_family_name(uint8_t nfproto)
{
	const char *name = names_family(nfproto);

	return name ? name : "unknown";
}

const char *const trace_ct_status_names[TRACE_CT_STATUS_NAMES] = {
	"expected",   "seen-reply", "assured",	 "confirmed",  "snat",		"dnat",
	"seq-adjust", "snat-done",  "dnat-done", "dying",      "fixed-timeout", "template",
	"nat-clash",  "helper",	    "offload",	 "hw-offload",
};
