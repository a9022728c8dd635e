/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clone's routes of every table and its policy-routing rules, copied
 * attribute by attribute from the source's dumps, interfaces mapped by
 * name. What the kernel makes by itself (table local, the connected
 * routes of proto kernel, the default rules) comes with the addresses
 * and the namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "clone.h"
#include "clone_int.h"

/* A route whose gateway is reached by a route copied later: a few rounds. */
#define ROUTE_PASSES 4

static uint32_t route_table(const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			return mnl_attr_get_u32(a);
	}
	return rtm->rtm_table;
}

/* The route in words for a refusal: "198.51.100.0/24 table 100". */
static void route_words(const struct nlmsghdr *nlh, char *out, size_t len)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	char addr[INET6_ADDRSTRLEN] = "default";
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_DST)
			inet_ntop(rtm->rtm_family, mnl_attr_get_payload(a), addr, sizeof(addr));
	}
	snprintf(out, len, "%s%s/%u table %u", rtm->rtm_family == AF_INET6 ? "-6 " : "", addr,
		 rtm->rtm_dst_len, route_table(nlh));
}

/* The nexthops of a multipath route, their ifindexes the clone's. */
static int put_multipath(struct nlmsghdr *nlh, const struct nlattr *a, const struct clone *c)
{
	size_t len = mnl_attr_get_payload_len(a), off = 0;
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, mnl_attr_get_payload(a), len);
	while (off + sizeof(struct rtnexthop) <= len) {
		struct rtnexthop *nh = (struct rtnexthop *)(copy + off);

		if (nh->rtnh_len < sizeof(*nh) || off + nh->rtnh_len > len)
			break;
		nh->rtnh_ifindex = (int)clone_map_ifindex(c, (uint32_t)nh->rtnh_ifindex);
		nh->rtnh_flags &= RTNH_F_ONLINK;
		off += RTNH_ALIGN(nh->rtnh_len);
	}
	mnl_attr_put(nlh, RTA_MULTIPATH, len, copy);
	free(copy);
	return 0;
}

/* 0, 1 for a route not to copy, -EOPNOTSUPP for one the clone cannot take. */
static int build_route(struct nlmsghdr *nlh, const struct nlmsghdr *src, const struct clone *c)
{
	const struct rtmsg *srtm = mnl_nlmsg_get_payload(src);
	const struct nlattr *a;
	struct rtmsg *rtm;

	if (src->nlmsg_type != RTM_NEWROUTE || route_table(src) == RT_TABLE_LOCAL ||
	    srtm->rtm_protocol == RTPROT_KERNEL || (srtm->rtm_flags & RTM_F_CLONED))
		return 1;
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	*rtm = *srtm;
	rtm->rtm_flags &= RTNH_F_ONLINK;
	mnl_attr_for_each(a, src, sizeof(*srtm))
	{
		uint16_t type = mnl_attr_get_type(a);

		switch (type) {
		case RTA_OIF:
		case RTA_IIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				mnl_attr_put_u32(nlh, type,
						 clone_map_ifindex(c, mnl_attr_get_u32(a)));
			break;
		case RTA_MULTIPATH:
			if (put_multipath(nlh, a, c) < 0)
				return -ENOMEM;
			break;
		case RTA_NH_ID:
		case RTA_ENCAP:
		case RTA_ENCAP_TYPE:
			return -EOPNOTSUPP;
		case RTA_DST:
		case RTA_SRC:
		case RTA_GATEWAY:
		case RTA_PRIORITY:
		case RTA_PREFSRC:
		case RTA_METRICS:
		case RTA_FLOW:
		case RTA_TABLE:
		case RTA_PREF:
		case RTA_VIA:
		case RTA_NEWDST:
			mnl_attr_put(nlh, type, mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
			break;
		default: /* cache info, expiry, uid: the kernel's bookkeeping */
			break;
		}
	}
	return 0;
}

int clone_routes_copy(struct clone *c, struct clone_msgs *routes, char *err, size_t errlen)
{
	struct mnl_socket *nl = clone_nl_open(NETLINK_ROUTE);
	bool *done = calloc(routes->n ? routes->n : 1, sizeof(*done));
	char buf[MNL_SOCKET_BUFFER_SIZE], why[256] = "", words[96];
	size_t left = routes->n, pass, i, failed = 0;
	int r = 0, last = 0;

	if (!nl || !done) {
		r = nl ? -ENOMEM : -errno;
		goto out;
	}
	for (pass = 0; pass < ROUTE_PASSES && left && r == 0; pass++) {
		size_t before = left;

		for (i = 0; i < routes->n && r == 0; i++) {
			struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
			int b;

			if (done[i])
				continue;
			b = build_route(nlh, routes->v[i], c);
			if (b == -EOPNOTSUPP) {
				route_words(routes->v[i], words, sizeof(words));
				snprintf(
					err, errlen,
					"route %s: nexthop objects and encapsulations are not copied",
					words);
				r = b;
				break;
			}
			if (b == 0)
				b = clone_nl_talk(nl, nlh, why, sizeof(why));
			if (b == -EEXIST || b > 0)
				b = 0;
			if (b == 0) {
				done[i] = true;
				left--;
			} else {
				last = b;
				failed = i;
			}
		}
		if (left == before)
			break;
	}
	if (r == 0 && left) {
		route_words(routes->v[failed], words, sizeof(words));
		snprintf(err, errlen, "cannot copy route %s: %s%s%s", words, strerror(-last),
			 why[0] ? ": " : "", why);
		r = last ? last : -EINVAL;
	}
out:
	free(done);
	if (nl)
		mnl_socket_close(nl);
	return r;
}

/* The rules a new namespace has: 0 local, 32766 main, 32767 default. */
static bool default_rule(const struct nlmsghdr *nlh)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	uint32_t prio = 0, table = frh->table;
	const struct nlattr *a;

	if (frh->src_len || frh->dst_len || frh->tos || frh->action != FR_ACT_TO_TBL ||
	    (frh->flags & FIB_RULE_INVERT))
		return false;
	mnl_attr_for_each(a, nlh, sizeof(*frh))
	{
		switch (mnl_attr_get_type(a)) {
		case FRA_PRIORITY:
			prio = mnl_attr_get_u32(a);
			break;
		case FRA_TABLE:
			table = mnl_attr_get_u32(a);
			break;
		case FRA_PROTOCOL:
		case FRA_SUPPRESS_PREFIXLEN:
		case FRA_PAD:
			break;
		default:
			return false;
		}
	}
	return (prio == 0 && table == RT_TABLE_LOCAL) ||
	       (prio == 32766 && table == RT_TABLE_MAIN) ||
	       (prio == 32767 && table == RT_TABLE_DEFAULT);
}

int clone_rules_copy(struct clone *c, struct clone_msgs *rules, char *err, size_t errlen)
{
	struct mnl_socket *nl = clone_nl_open(NETLINK_ROUTE);
	char buf[MNL_SOCKET_BUFFER_SIZE], why[256];
	int r = 0;

	(void)c;
	if (!nl)
		return -errno;
	for (size_t i = 0; i < rules->n && r == 0; i++) {
		const struct nlmsghdr *src = rules->v[i];
		const struct fib_rule_hdr *sfrh = mnl_nlmsg_get_payload(src);
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct fib_rule_hdr *frh;
		const struct nlattr *a;
		uint32_t prio = 0;

		if (src->nlmsg_type != RTM_NEWRULE || default_rule(src))
			continue;
		nlh->nlmsg_type = RTM_NEWRULE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
		frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
		*frh = *sfrh;
		frh->flags &= FIB_RULE_INVERT;
		/* the selectors name interfaces, not ifindexes: copied as they are */
		mnl_attr_for_each(a, src, sizeof(*sfrh))
		{
			if (mnl_attr_get_type(a) == FRA_PAD)
				continue;
			if (mnl_attr_get_type(a) == FRA_PRIORITY)
				prio = mnl_attr_get_u32(a);
			mnl_attr_put(nlh, mnl_attr_get_type(a), mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
		}
		r = clone_nl_talk(nl, nlh, why, sizeof(why));
		if (r == -EEXIST)
			r = 0;
		if (r < 0)
			snprintf(err, errlen, "cannot copy the %s policy-routing rule %u: %s%s%s",
				 sfrh->family == AF_INET6 ? "IPv6" : "IPv4", prio, strerror(-r),
				 why[0] ? ": " : "", why);
	}
	mnl_socket_close(nl);
	return r;
}
