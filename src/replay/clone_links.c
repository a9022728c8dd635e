/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clone's interfaces: every interface of the source but lo becomes a
 * veth pair, its end in the clone with the source's name, MTU, MAC and
 * addresses, its far end (same name) in the peer. The clone's end is
 * NOARP: the clone never waits for a neighbour, it sends to its own MAC
 * and the far end receives everything.
 */
#include <errno.h>
#include <net/if.h> /* before the uapi headers: libc-compat.h then skips theirs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "clone.h"
#include "clone_int.h"

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static bool is_bridge(const struct nlattr *linkinfo)
{
	const struct nlattr *a;

	if (!linkinfo)
		return false;
	mnl_attr_for_each_nested(a, linkinfo)
	{
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(a), "bridge") == 0)
			return true;
	}
	return false;
}

static int link_from_msg(struct clone_link *l, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };

	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb);
	if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0 ||
	    strlen(mnl_attr_get_str(tb[IFLA_IFNAME])) >= IF_NAMESIZE)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	l->src_index = (uint32_t)ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->loopback = ifi->ifi_type == ARPHRD_LOOPBACK;
	if (tb[IFLA_MTU] && mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) == 0)
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER] && mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32) == 0)
		l->master = mnl_attr_get_u32(tb[IFLA_MASTER]);
	/* the recorded link headers name this MAC: frames to it are for us */
	if (ifi->ifi_type == ARPHRD_ETHER && tb[IFLA_ADDRESS] &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		l->has_mac = true;
	}
	l->bridge = is_bridge(tb[IFLA_LINKINFO]);
	return 0;
}

int clone_links_read(struct clone *c, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct clone_msgs m = { 0 };
	struct ifinfomsg *ifi;
	int r;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	r = clone_nl_dump(NETLINK_ROUTE, nlh, &m);
	if (r < 0) {
		snprintf(err, errlen, "cannot list the source's interfaces: %s", strerror(-r));
		goto out;
	}
	if (m.n > CLONE_MAX_LINKS) {
		snprintf(err, errlen,
			 "the namespace has %zu interfaces, more than the %d a clone copies", m.n,
			 CLONE_MAX_LINKS);
		r = -E2BIG;
		goto out;
	}
	c->links = calloc(m.n ? m.n : 1, sizeof(*c->links));
	if (!c->links) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m.n; i++)
		if (m.v[i]->nlmsg_type == RTM_NEWLINK &&
		    link_from_msg(&c->links[c->nlinks], m.v[i]) == 0)
			c->nlinks++;
out:
	clone_msgs_free(&m);
	return r;
}

/* A new veth pair: name in the clone, name in the peer, down, NOARP here. */
static int add_veth(struct mnl_socket *nl, const struct clone *c, const struct clone_link *l,
		    char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *ifi, *pifi;
	char why[256];
	int r;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_flags = IFF_NOARP;
	ifi->ifi_change = IFF_NOARP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	if (l->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	if (l->has_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, l->mac);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	memset(pifi, 0, sizeof(*pifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->peer_fd);
	if (l->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	r = clone_nl_talk(nl, nlh, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "cannot make interface %s (mtu %u) as a veth: %s%s%s",
			 l->name, l->mtu, strerror(-r), why[0] ? ": " : "", why);
	return r;
}

static int set_up(struct mnl_socket *nl, uint32_t ifindex, char *why, size_t whylen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return clone_nl_talk(nl, nlh, why, whylen);
}

/* In the clone: lo up, the veths, their ifindexes on both sides. */
int clone_links_build(struct clone *c, char *err, size_t errlen)
{
	struct mnl_socket *nl = clone_nl_open(NETLINK_ROUTE);
	int r = 0;

	if (!nl) {
		r = -errno;
		snprintf(err, errlen, "cannot open rtnetlink in the clone: %m");
		return r;
	}
	for (size_t i = 0; i < c->nlinks && r == 0; i++) {
		struct clone_link *l = &c->links[i];

		if (l->loopback && strcmp(l->name, "lo") == 0) {
			char why[256];

			/* up before the addresses: its own 127.0.0.1 and ::1, as a new one has */
			l->clone_index = if_nametoindex("lo");
			r = set_up(nl, l->clone_index, why, sizeof(why));
			if (r < 0)
				snprintf(err, errlen, "cannot set lo up in the clone: %s",
					 strerror(-r));
			continue;
		}
		r = add_veth(nl, c, l, err, errlen);
		if (r == 0)
			l->clone_index = if_nametoindex(l->name);
	}
	mnl_socket_close(nl);
	if (r < 0)
		return r;
	r = clone_enter_peer(c);
	for (size_t i = 0; i < c->nlinks && r == 0; i++)
		if (c->links[i].clone_index != 1)
			c->links[i].peer_index = if_nametoindex(c->links[i].name);
	if (r == 0)
		r = clone_enter(c);
	return r;
}

/* lo and the interfaces up in the source; every far end up. */
int clone_links_up(struct clone *c, char *err, size_t errlen)
{
	struct mnl_socket *nl = clone_nl_open(NETLINK_ROUTE);
	char why[256] = "";
	size_t i;
	int r = 0;

	if (!nl)
		return -errno;
	for (i = 0; i < c->nlinks && r == 0; i++)
		if ((c->links[i].flags & IFF_UP) || c->links[i].clone_index == 1)
			r = set_up(nl, c->links[i].clone_index, why, sizeof(why));
	mnl_socket_close(nl);
	if (r < 0)
		goto fail;
	r = clone_enter_peer(c);
	if (r < 0)
		return r;
	nl = clone_nl_open(NETLINK_ROUTE);
	r = nl ? 0 : -errno;
	for (i = 0; nl && i < c->nlinks && r == 0; i++)
		if (c->links[i].peer_index)
			r = set_up(nl, c->links[i].peer_index, why, sizeof(why));
	if (nl)
		mnl_socket_close(nl);
	if (clone_enter(c) < 0 && r == 0)
		r = -EPERM;
	if (r == 0)
		return 0;
fail:
	snprintf(err, errlen, "cannot set interface %s up in the clone: %s%s%s",
		 i > 0 ? c->links[i - 1].name : "?", strerror(-r), why[0] ? ": " : "", why);
	return r;
}

/* Flags an address may be added with; NODAD: usable at once, no probe sent. */
#define ADDR_KEEP_FLAGS (IFA_F_NOPREFIXROUTE | IFA_F_HOMEADDRESS)

static int put_addr(struct mnl_socket *nl, const struct nlmsghdr *src, uint32_t ifindex, char *why,
		    size_t whylen)
{
	const struct ifaddrmsg *sifa = mnl_nlmsg_get_payload(src);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint32_t flags = sifa->ifa_flags;
	struct ifaddrmsg *ifa;
	const struct nlattr *a;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	*ifa = *sifa;
	ifa->ifa_index = ifindex;
	mnl_attr_for_each(a, src, sizeof(*sifa))
	{
		switch (mnl_attr_get_type(a)) {
		case IFA_FLAGS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				flags = mnl_attr_get_u32(a);
			break;
		case IFA_ADDRESS:
		case IFA_LOCAL:
		case IFA_LABEL:
		case IFA_BROADCAST:
		case IFA_ANYCAST:
		case IFA_RT_PRIORITY:
			mnl_attr_put(nlh, mnl_attr_get_type(a), mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
			break;
		default: /* lifetimes, cache info: the copy's are permanent */
			break;
		}
	}
	flags = (flags & ADDR_KEEP_FLAGS) | IFA_F_NODAD;
	ifa->ifa_flags = (uint8_t)flags;
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return clone_nl_talk(nl, nlh, why, whylen);
}

int clone_addrs_copy(struct clone *c, struct clone_msgs *addrs, char *err, size_t errlen)
{
	struct mnl_socket *nl = clone_nl_open(NETLINK_ROUTE);
	char why[256];
	int r = 0;

	if (!nl)
		return -errno;
	for (size_t i = 0; i < addrs->n && r == 0; i++) {
		const struct nlmsghdr *m = addrs->v[i];
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(m);
		const struct clone_link *l;

		if (m->nlmsg_type != RTM_NEWADDR)
			continue;
		l = clone_link_by_src(c, ifa->ifa_index);
		if (!l || !l->clone_index)
			continue;
		r = put_addr(nl, m, l->clone_index, why, sizeof(why));
		/* lo's 127.0.0.1 and ::1 come with lo up */
		if (r == -EEXIST)
			r = 0;
		if (r < 0)
			snprintf(err, errlen, "cannot copy an address of %s: %s%s%s", l->name,
				 strerror(-r), why[0] ? ": " : "", why);
	}
	mnl_socket_close(nl);
	return r;
}
