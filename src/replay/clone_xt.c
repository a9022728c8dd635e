/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tables nft lists but cannot load back: iptables-nft's rules with
 * xtables compat expressions (ufw's `-m icmp6`, `-m recent`, ...), which
 * nft prints as "xt match icmp6" and refuses as input. Such a table is
 * copied below nft's language, as the kernel's own netlink messages: the
 * table, its chains and its rules are dumped from the source and sent
 * back to the clone attribute for attribute (less the handles and use
 * counts the kernel assigns), so every compat expression goes as the
 * kernel holds it. A table that also has sets, maps, objects or
 * flowtables is refused: they would need their references renumbered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include "clone.h"
#include "clone_int.h"
#include "listing.h"

#ifndef NFT_TABLE_F_PERSIST
#define NFT_TABLE_F_PERSIST 0x4 /* Linux 6.9 */
#endif

/* One table to copy by netlink: "ip6 filter" */
struct clone_xt_table {
	uint8_t family; /* NFPROTO_* */
	char name[NFT_TABLE_MAXNAMELEN];
};

struct clone_xt {
	struct clone_xt_table *t;
	size_t n;
	struct clone_msgs msgs; /* NEWTABLE, NEWCHAIN..., NEWRULE... in that order */
};

struct clone_xt *clone_xt_free(struct clone_xt *x)
{
	if (!x)
		return NULL;
	clone_msgs_free(&x->msgs);
	free(x->t);
	free(x);
	return NULL;
}

/* "table ip6 filter {" */
static bool table_line(const char *p, const char *end, struct clone_xt_table *ret)
{
	const char *f = p + 6, *fe, *ne;
	int family;

	if ((size_t)(end - p) < 7 || memcmp(p, "table ", 6) != 0)
		return false;
	fe = memchr(f, ' ', (size_t)(end - f));
	if (!fe || (family = listing_family(f, (size_t)(fe - f))) < 0)
		return false;
	ret->family = (uint8_t)family;
	ne = memchr(fe + 1, ' ', (size_t)(end - fe - 1));
	if (!ne || (size_t)(ne - fe - 1) >= sizeof(ret->name))
		return false;
	snprintf(ret->name, sizeof(ret->name), "%.*s", (int)(ne - fe - 1), fe + 1);
	return true;
}

/*
 * Take the tables whose listing shows a compat expression out of
 * listing (in place), into x. 0 or -ENOMEM.
 */
static int split_listing(char *listing, struct clone_xt *x)
{
	char *p = listing, *o = listing, *block = NULL;
	struct clone_xt_table cur;
	bool xt = false;

	while (*p) {
		char *end = strchr(p, '\n');
		size_t len;

		end = end ? end + 1 : p + strlen(p);
		len = (size_t)(end - p);
		if (table_line(p, end, &cur)) {
			block = o;
			xt = false;
		}
		if (block &&
		    (memmem(p, len, " xt match ", 10) || memmem(p, len, " xt target ", 11)))
			xt = true;
		memmove(o, p, len);
		o += len;
		if (block && len >= 1 && p[0] == '}') {
			if (xt) {
				struct clone_xt_table *t = realloc(x->t, (x->n + 1) * sizeof(*t));

				if (!t)
					return -ENOMEM;
				x->t = t;
				x->t[x->n++] = cur;
				o = block; /* the block goes: copied by netlink */
			}
			block = NULL;
		}
		p = end;
	}
	*o = '\0';
	return 0;
}

static bool wanted(const struct clone_xt *x, const struct nlmsghdr *nlh, int name_attr)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*g))
	{
		if (mnl_attr_get_type(a) != name_attr ||
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		for (size_t i = 0; i < x->n; i++)
			if (x->t[i].family == g->nfgen_family &&
			    strcmp(x->t[i].name, mnl_attr_get_str(a)) == 0)
				return true;
	}
	return false;
}

/* One dump of the source, the messages of our tables kept (moved into out). */
static int dump_kept(struct clone_xt *x, uint16_t msg, int name_attr, struct clone_msgs *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct clone_msgs all = { 0 };
	struct nfgenmsg *g;
	int r;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	r = clone_nl_dump(NETLINK_NETFILTER, nlh, &all);
	for (size_t i = 0; r == 0 && i < all.n; i++) {
		if (!wanted(x, all.v[i], name_attr))
			continue;
		if (!out) {
			r = -EOPNOTSUPP;
			break;
		}
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			struct nlmsghdr **v = realloc(out->v, cap * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n++] = all.v[i];
		all.v[i] = NULL;
	}
	clone_msgs_free(&all);
	return r;
}

int clone_xt_read(struct clone *c, char *err, size_t errlen)
{
	static const struct {
		uint16_t msg;
		int name_attr;
		bool keep;
	} dumps[] = {
		{ NFT_MSG_GETTABLE, NFTA_TABLE_NAME, true },
		{ NFT_MSG_GETCHAIN, NFTA_CHAIN_TABLE, true },
		{ NFT_MSG_GETRULE, NFTA_RULE_TABLE, true },
		{ NFT_MSG_GETSET, NFTA_SET_TABLE, false },
		{ NFT_MSG_GETOBJ, NFTA_OBJ_TABLE, false },
		{ NFT_MSG_GETFLOWTABLE, NFTA_FLOWTABLE_TABLE, false },
	};
	struct clone_xt *x = calloc(1, sizeof(*x));
	int r;

	c->xt = clone_xt_free(c->xt);
	if (!x)
		return -ENOMEM;
	c->xt = x;
	r = split_listing(c->listing, x);
	for (size_t i = 0; r == 0 && x->n && i < sizeof(dumps) / sizeof(dumps[0]); i++)
		r = dump_kept(x, dumps[i].msg, dumps[i].name_attr, dumps[i].keep ? &x->msgs : NULL);
	if (r == -EOPNOTSUPP)
		snprintf(err, errlen,
			 "table %s: its rules use xtables compat expressions (iptables-nft), which "
			 "nft cannot load back, and it has sets, objects or flowtables, which are "
			 "not copied without nft",
			 x->t[0].name);
	return r;
}

/* What the kernel assigns or counts: never sent back. */
static bool assigned(uint16_t msg, int type)
{
	switch (msg) {
	case NFT_MSG_NEWTABLE:
		return type == NFTA_TABLE_HANDLE || type == NFTA_TABLE_USE ||
		       type == NFTA_TABLE_OWNER;
	case NFT_MSG_NEWCHAIN:
		return type == NFTA_CHAIN_HANDLE || type == NFTA_CHAIN_USE || type == NFTA_CHAIN_ID;
	default:
		return type == NFTA_RULE_HANDLE || type == NFTA_RULE_POSITION ||
		       type == NFTA_RULE_ID || type == NFTA_RULE_POSITION_ID;
	}
}

/*
 * The protocol a rule's compat match or target is checked against
 * (iptables' -p): the kernel needs it as NFTA_RULE_COMPAT, which dumps
 * leave out. iptables-nft writes it as a load of the layer 4 protocol
 * (meta l4proto, or the IPv4 protocol / IPv6 next header field) and a
 * one-byte comparison: found here as the kernel holds them.
 */
struct compat {
	bool has_xt; /* a match or target expression */
	uint32_t proto, flags;
	uint32_t proto_reg; /* register holding the protocol, 0: none */
};

static const struct nlattr *nested(const struct nlattr *a, int type)
{
	const struct nlattr *n;

	mnl_attr_for_each_nested(n, a)
	{
		if (mnl_attr_get_type(n) == type)
			return n;
	}
	return NULL;
}

static uint32_t be32_of(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) == 4 ? ntohl(mnl_attr_get_u32(a)) : UINT32_MAX;
}

static void compat_expr(const char *name, const struct nlattr *data, uint8_t family,
			struct compat *c)
{
	if (!strcmp(name, "match") || !strcmp(name, "target")) {
		c->has_xt = true;
	} else if (!data) {
		return;
	} else if (!strcmp(name, "meta") &&
		   be32_of(nested(data, NFTA_META_KEY)) == NFT_META_L4PROTO) {
		c->proto_reg = be32_of(nested(data, NFTA_META_DREG));
	} else if (!strcmp(name, "payload") &&
		   be32_of(nested(data, NFTA_PAYLOAD_BASE)) == NFT_PAYLOAD_NETWORK_HEADER &&
		   be32_of(nested(data, NFTA_PAYLOAD_LEN)) == 1 &&
		   be32_of(nested(data, NFTA_PAYLOAD_OFFSET)) == (family == NFPROTO_IPV6 ? 6 : 9)) {
		c->proto_reg = be32_of(nested(data, NFTA_PAYLOAD_DREG));
	} else if (!strcmp(name, "cmp") && c->proto_reg &&
		   be32_of(nested(data, NFTA_CMP_SREG)) == c->proto_reg) {
		const struct nlattr *d = nested(data, NFTA_CMP_DATA);
		const struct nlattr *v = d ? nested(d, NFTA_DATA_VALUE) : NULL;
		uint32_t op = be32_of(nested(data, NFTA_CMP_OP));

		if (v && mnl_attr_get_payload_len(v) == 1 &&
		    (op == NFT_CMP_EQ || op == NFT_CMP_NEQ)) {
			c->proto = *(const uint8_t *)mnl_attr_get_payload(v);
			c->flags = op == NFT_CMP_NEQ ? NFT_RULE_COMPAT_F_INV : 0;
		}
		c->proto_reg = 0;
	}
}

static void compat_of(const struct nlattr *exprs, uint8_t family, struct compat *c)
{
	const struct nlattr *e;

	mnl_attr_for_each_nested(e, exprs)
	{
		const struct nlattr *name = nested(e, NFTA_EXPR_NAME);

		if (name && mnl_attr_validate(name, MNL_TYPE_NUL_STRING) == 0)
			compat_expr(mnl_attr_get_str(name), nested(e, NFTA_EXPR_DATA), family, c);
	}
}

/* src as a request to create it, into buf at *off; false if it does not fit. */
static bool put_copy(char *buf, size_t cap, size_t *off, const struct nlmsghdr *src, uint32_t seq)
{
	const struct nfgenmsg *sg = mnl_nlmsg_get_payload(src);
	uint16_t msg = src->nlmsg_type & 0xff;
	struct compat compat = { 0 };
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	const struct nlattr *a;

	if (cap - *off < src->nlmsg_len + 64)
		return false;
	nlh = mnl_nlmsg_put_header(buf + *off);
	nlh->nlmsg_type = src->nlmsg_type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK |
			   (msg == NFT_MSG_NEWRULE ? NLM_F_APPEND : 0);
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = sg->nfgen_family;
	g->version = NFNETLINK_V0;
	mnl_attr_for_each(a, src, sizeof(*sg))
	{
		if (assigned(msg, mnl_attr_get_type(a)))
			continue;
		/* a process's table in the source is nobody's in the clone */
		if (msg == NFT_MSG_NEWTABLE && mnl_attr_get_type(a) == NFTA_TABLE_FLAGS &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			mnl_attr_put_u32(
				nlh, NFTA_TABLE_FLAGS,
				htonl(ntohl(mnl_attr_get_u32(a)) &
				      ~(uint32_t)(NFT_TABLE_F_OWNER | NFT_TABLE_F_PERSIST)));
			continue;
		}
		/* as the kernel sent it, nested attributes and all */
		memcpy((char *)nlh + nlh->nlmsg_len, a, MNL_ALIGN(a->nla_len));
		nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
		if (msg == NFT_MSG_NEWRULE && mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS)
			compat_of(a, sg->nfgen_family, &compat);
	}
	if (compat.has_xt) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_RULE_COMPAT);

		mnl_attr_put_u32(nlh, NFTA_RULE_COMPAT_PROTO, htonl(compat.proto));
		mnl_attr_put_u32(nlh, NFTA_RULE_COMPAT_FLAGS, htonl(compat.flags));
		mnl_attr_nest_end(nlh, nest);
	}
	*off += nlh->nlmsg_len;
	return true;
}

static void put_batch(char *buf, size_t *off, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *off);
	struct nfgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	*off += nlh->nlmsg_len;
}

/* Every ack of the batch; the first error, with the kernel's words. */
static int read_acks(struct mnl_socket *nl, size_t want, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t got = 0;
	int first = 0;

	while (got < want) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const void *)buf;
		int left = (int)n;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			got++;
			if (e->error && !first) {
				first = e->error;
				char why[256] = "";

				clone_ack_message(nlh, why, sizeof(why));
				snprintf(
					err, errlen,
					"the kernel refused the copy of an xtables table: %s%s%s (message %u, type %u)",
					strerror(-e->error), why[0] ? ": " : "", why,
					e->msg.nlmsg_seq, e->msg.nlmsg_type & 0xff);
			}
			/* a failed batch is aborted whole: no more acks come */
			if (e->error)
				return first;
		}
	}
	return first;
}

/* In the clone: the tables as one batch. 0, or -errno with err. */
int clone_xt_load(const struct clone *c, char *err, size_t errlen)
{
	const struct clone_xt *x = c->xt;
	struct mnl_socket *nl;
	size_t cap = 4096, off = 0;
	uint32_t seq = 1;
	char *buf;
	int r, size;

	if (!x || !x->n)
		return 0;
	for (size_t i = 0; i < x->msgs.n; i++)
		cap += x->msgs.v[i]->nlmsg_len + 64;
	buf = malloc(cap);
	nl = clone_nl_open(NETLINK_NETFILTER);
	if (!buf || !nl) {
		r = -errno;
		goto out;
	}
	put_batch(buf, &off, NFNL_MSG_BATCH_BEGIN, seq++);
	for (size_t i = 0; i < x->msgs.n; i++)
		if (!put_copy(buf, cap, &off, x->msgs.v[i], seq++)) {
			r = -E2BIG;
			goto out;
		}
	put_batch(buf, &off, NFNL_MSG_BATCH_END, seq);
	/* one write: the kernel takes a batch in one message */
	size = (int)off;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	r = mnl_socket_sendto(nl, buf, off) < 0 ? -errno : read_acks(nl, x->msgs.n, err, errlen);
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}
