/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clone's life: two new network namespaces held by file descriptors
 * only, moving the calling thread between them, and the netlink exchange
 * the other clone files share.
 *
 * unshare(CLONE_NEWNET) moves the calling thread into a new namespace;
 * its fd is kept and the thread goes back with setns() at once. Nothing
 * names the namespaces, so the kernel removes them, and every veth pair
 * in them, with the last fd: the process's exit, SIGKILL included.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>

#include "clone.h"
#include "clone_int.h"
#include "strbuf.h"

/* One answer at a time; a dump's messages are at most this long. */
#define CLONE_NL_BUF 65536

void clone_msgs_free(struct clone_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

static int msgs_add(struct clone_msgs *m, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *copy;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		void *v = realloc(m->v, cap * sizeof(*m->v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	copy = malloc(nlh->nlmsg_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, nlh, nlh->nlmsg_len);
	m->v[m->n++] = copy;
	return 0;
}

struct mnl_socket *clone_nl_open(int bus)
{
	struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	int one = 1;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	/* the kernel's reason with an error ("Nexthop device is not up") */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* an error's ack without the request it answers: fits clone_nl_talk's buffer */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	return msgs_add(data, nlh) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int clone_nl_dump(int bus, struct nlmsghdr *req, struct clone_msgs *out)
{
	struct mnl_socket *nl = clone_nl_open(bus);
	unsigned int seq = (unsigned int)time(NULL), portid;
	char *buf;
	int r = 0;

	if (!nl)
		return -errno;
	buf = malloc(CLONE_NL_BUF);
	if (!buf) {
		mnl_socket_close(nl);
		return -ENOMEM;
	}
	portid = mnl_socket_get_portid(nl);
	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		r = -errno;
	while (r == 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, CLONE_NL_BUF);

		if (n < 0) {
			r = -errno;
			break;
		}
		n = mnl_cb_run(buf, (size_t)n, seq, portid, dump_cb, out);
		if (n < 0)
			r = errno ? -errno : -EIO;
		else if (n == MNL_CB_STOP)
			break;
	}
	free(buf);
	mnl_socket_close(nl);
	return r;
}

/* The kernel's own words in an error's extended ack, if it sent some. */
void clone_ack_message(const struct nlmsghdr *nlh, char *err, size_t errlen)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *attr; /* the name mnl_attr_for_each_payload() uses */

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !err || errlen == 0)
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each_payload((const void *)((const char *)e + off),
				  mnl_nlmsg_get_payload_len(nlh) - off)
	{
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
			snprintf(err, errlen, "%s", mnl_attr_get_str(attr));
			return;
		}
	}
}

int clone_nl_talk(struct mnl_socket *nl, struct nlmsghdr *req, char *err, size_t errlen)
{
	static unsigned int seq;
	char buf[8192];
	ssize_t n;

	if (err && errlen)
		err[0] = '\0';
	req->nlmsg_flags |= NLM_F_ACK;
	req->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *nlh;

		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		nlh = (const struct nlmsghdr *)buf;
		for (; mnl_nlmsg_ok(nlh, (int)n); nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error)
				clone_ack_message(nlh, err, errlen);
			return e->error;
		}
	}
}

int clone_setns(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int clone_enter(const struct clone *c)
{
	return clone_setns(c->clone_fd);
}

int clone_enter_peer(const struct clone *c)
{
	return clone_setns(c->peer_fd);
}

int clone_leave(const struct clone *c)
{
	return clone_setns(c->src_fd);
}

/*
 * Work in the clone and come back to where the thread was: the source
 * while the clone is built, the clone itself once the replay moved there.
 * Going "back" to the source from a thread that lives in the clone would
 * make its next socket the real namespace's.
 */
int clone_visit(const struct clone *c, int *ret_back)
{
	int r;

	*ret_back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*ret_back < 0)
		return -errno;
	r = clone_enter(c);
	if (r < 0) {
		close(*ret_back);
		*ret_back = -1;
	}
	return r;
}

bool clone_is_current(const struct clone *c)
{
	struct stat here, clone;

	return stat("/proc/thread-self/ns/net", &here) == 0 && fstat(c->clone_fd, &clone) == 0 &&
	       here.st_ino == clone.st_ino && here.st_dev == clone.st_dev;
}

/* Back from clone_visit(); a thread that cannot get back must not go on. */
void clone_return(int back)
{
	if (clone_setns(back) < 0)
		abort();
	close(back);
}

const struct clone_link *clone_link_by_src(const struct clone *c, uint32_t src_index)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].src_index == src_index)
			return &c->links[i];
	return NULL;
}

const struct clone_link *clone_link_by_name(const struct clone *c, const char *name)
{
	for (size_t i = 0; name && i < c->nlinks; i++)
		if (strcmp(c->links[i].name, name) == 0)
			return &c->links[i];
	return NULL;
}

uint32_t clone_map_ifindex(const struct clone *c, uint32_t src_index)
{
	const struct clone_link *l = clone_link_by_src(c, src_index);

	return l ? l->clone_index : 0;
}

uint32_t clone_ifindex(const struct clone *c, const char *name)
{
	const struct clone_link *l = clone_link_by_name(c, name);

	return l ? l->clone_index : 0;
}

uint32_t clone_peer_ifindex(const struct clone *c, const char *name)
{
	const struct clone_link *l = clone_link_by_name(c, name);

	return l ? l->peer_index : 0;
}

const char *clone_ifname(const struct clone *c, uint32_t clone_index)
{
	for (size_t i = 0; clone_index && i < c->nlinks; i++)
		if (c->links[i].clone_index == clone_index)
			return c->links[i].name;
	return NULL;
}

struct clone *clone_free(struct clone *c)
{
	if (!c)
		return NULL;
	if (c->nft) {
		/* its socket, if any, is the clone's whatever the thread's namespace */
		nft_ctx_free(c->nft);
	}
	if (c->clone_fd >= 0)
		close(c->clone_fd);
	if (c->peer_fd >= 0)
		close(c->peer_fd);
	if (c->src_fd >= 0)
		close(c->src_fd);
	free(c->links);
	free(c->listing);
	c->xt = clone_xt_free(c->xt);
	free(c->ruleset_file);
	clone_rules_free(&c->src_rules);
	clone_rules_free(&c->clone_rules);
	free(c->map);
	free(c->rmap);
	free(c);
	return NULL;
}

/* A new namespace's fd; the thread is back in the source on return. */
static int new_netns(struct clone *c, int *fd, char *err, size_t errlen)
{
	int r;

	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		if (r == -EPERM)
			snprintf(err, errlen,
				 "cannot create a network namespace: %s (needs CAP_SYS_ADMIN; the "
				 "shipped unit has RestrictNamespaces=yes)",
				 strerror(EPERM));
		else
			snprintf(err, errlen, "cannot create a network namespace: %s",
				 strerror(-r));
		return r;
	}
	*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	r = *fd < 0 ? -errno : 0;
	if (clone_leave(c) < 0) {
		/* checked before unshare: cannot happen short of a kernel change */
		snprintf(err, errlen, "cannot return to the source namespace: %m");
		abort();
	}
	if (r < 0)
		snprintf(err, errlen, "cannot open the new namespace: %s", strerror(-r));
	return r;
}

/* Route and address dumps of the source, both families. */
static int read_rtnl(int type, struct clone_msgs *out)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (size_t i = 0; i < sizeof(families); i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtgenmsg *g;
		int r;

		nlh->nlmsg_type = (uint16_t)type;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		/* rtmsg, ifaddrmsg and fib_rule_hdr all start with the family */
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
		g->rtgen_family = families[i];
		r = clone_nl_dump(NETLINK_ROUTE, nlh, out);
		if (r < 0)
			return r;
	}
	return 0;
}

struct source {
	struct clone_msgs addrs, routes, rules;
	struct clone_sysctls *sysctls;
};

static int read_source(struct clone *c, const struct clone_opts *o, struct source *s, char *err,
		       size_t errlen)
{
	int r = clone_links_read(c, err, errlen);

	if (r < 0)
		return r;
	if ((r = read_rtnl(RTM_GETADDR, &s->addrs)) < 0 ||
	    (r = read_rtnl(RTM_GETROUTE, &s->routes)) < 0 ||
	    (r = read_rtnl(RTM_GETRULE, &s->rules)) < 0) {
		snprintf(err, errlen, "cannot read the source's addresses and routes: %s",
			 strerror(-r));
		return r;
	}
	r = clone_sysctls_read(c, &s->sysctls);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the source's sysctls: %s", strerror(-r));
		return r;
	}
	if (o->ruleset_file)
		return 0;
	return clone_ruleset_read(c, o->skip_table, err, errlen);
}

/* Build inside the clone (the thread is there), from what read_source took. */
static int build(struct clone *c, struct source *s, char *err, size_t errlen)
{
	int r;

	if ((r = clone_enter_peer(c)) < 0 || (r = clone_sysctl_quiet(err, errlen)) < 0)
		return r;
	if ((r = clone_enter(c)) < 0 || (r = clone_sysctl_quiet(err, errlen)) < 0)
		return r;
	if ((r = clone_links_build(c, err, errlen)) < 0)
		return r;
	if ((r = clone_sysctls_write(s->sysctls, false, err, errlen)) < 0)
		return r;
	if ((r = clone_addrs_copy(c, &s->addrs, err, errlen)) < 0)
		return r;
	if ((r = clone_links_up(c, err, errlen)) < 0)
		return r;
	if ((r = clone_routes_copy(c, &s->routes, err, errlen)) < 0)
		return r;
	if ((r = clone_rules_copy(c, &s->rules, err, errlen)) < 0)
		return r;
	if ((r = clone_ruleset_load(c, err, errlen)) < 0)
		return r;
	/* conntrack's knobs exist once the ruleset loaded its module */
	return clone_sysctls_write(s->sysctls, true, err, errlen);
}

int clone_new(const struct clone_opts *o, struct clone **ret, char *err, size_t errlen)
{
	struct source s = { 0 };
	struct clone *c;
	int r;

	*ret = NULL;
	err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->clone_fd = c->peer_fd = -1;
	c->src_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->src_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open /proc/thread-self/ns/net: %m");
		goto out;
	}
	/* Coming back needs CAP_SYS_ADMIN over the source: asked before leaving it. */
	r = clone_leave(c);
	if (r < 0) {
		snprintf(err, errlen,
			 "cannot create a network namespace: %s (needs CAP_SYS_ADMIN; the shipped "
			 "unit has RestrictNamespaces=yes)",
			 strerror(-r));
		goto out;
	}
	if (o->ruleset_file && !(c->ruleset_file = strdup(o->ruleset_file))) {
		r = -ENOMEM;
		goto out;
	}
	r = read_source(c, o, &s, err, errlen);
	if (r < 0)
		goto out;
	r = new_netns(c, &c->clone_fd, err, errlen);
	if (r == 0)
		r = new_netns(c, &c->peer_fd, err, errlen);
	if (r < 0)
		goto out;
	r = build(c, &s, err, errlen);
	if (clone_leave(c) < 0)
		abort(); /* checked above; a thread left in the clone would lie */
out:
	clone_msgs_free(&s.addrs);
	clone_msgs_free(&s.routes);
	clone_msgs_free(&s.rules);
	clone_sysctls_free(s.sysctls);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot copy the namespace: %s", strerror(-r));
		clone_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int clone_flush_conntrack(const struct clone *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct mnl_socket *nl;
	struct nfgenmsg *g;
	int r, back;

	r = clone_visit(c, &back);
	if (r < 0)
		return r;
	nl = clone_nl_open(NETLINK_NETFILTER);
	r = nl ? 0 : -errno;
	if (nl) {
		/* IPCTNL_MSG_CT_DELETE without a tuple empties the table */
		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
		nlh->nlmsg_flags = NLM_F_REQUEST;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->nfgen_family = AF_UNSPEC;
		g->version = NFNETLINK_V0;
		r = clone_nl_talk(nl, nlh, NULL, 0);
		mnl_socket_close(nl);
		/* no conntrack module: nothing to forget */
		if (r == -ENOENT || r == -EOPNOTSUPP)
			r = 0;
	}
	clone_return(back);
	return r;
}

const char *clone_limits(void)
{
	return "A replay runs in a copy of the namespace, which differs from it: counters and "
	       "quotas restart from the values listed, rate limits start full, dynamic set "
	       "elements' timeouts restart; conntrack is not copied (a replayed packet is the "
	       "first of its connection, unless the record says it was established: then its "
	       "entry alone is recreated from the record) and neither are sockets; every "
	       "interface is a "
	       "veth of the same name (meta iiftype and link types differ) with no neighbours "
	       "(NOARP); bridge family chains are not replayed.";
}
