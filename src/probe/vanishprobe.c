/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts for vanish.c from the kernel of the daemon's namespace. Read only:
 * RTM_GETROUTE and sock_diag requests without NLM_F_CREATE/REPLACE/ACK
 * change nothing, and sysctls are only opened for reading.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include "clock.h"
#include "hash.h"
#include "log.h"
#include "vanish.h"
#include "vanishprobe.h"

#define ANSWER_CACHE  64
#define ANSWER_TTL_NS (1000ull * 1000 * 1000)

struct key {
	int hook;
	unsigned int expected;
	bool ct_known, ct_new, ct_reply;
	uint8_t l3, l4proto;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t iif, mark;
};

struct answer {
	uint64_t at; /* 0: empty */
	struct key key;
	struct vanish_result res;
};

/* sock_diag per protocol and family: 0 not probed, 1 works, -1 does not */
enum {
	DIAG_TCP4,
	DIAG_TCP6,
	DIAG_UDP4,
	DIAG_UDP6,
	DIAG_MAX
};

struct vanishprobe {
	struct mnl_socket *rt, *diag;
	int ioctl_fd; /* for SIOCGIFMTU, -1 if none */
	uint32_t seq;
	int diag_ok[DIAG_MAX];
	uint64_t refill_ns;
	unsigned int tokens;
	unsigned int budget; /* queries left for this timeline */
	struct answer answers[ANSWER_CACHE];
	struct vanishprobe_stats stats;
	const char *no_sockets; /* why sockets are not asked, NULL: they are */
};

static int open_nl(int bus, struct mnl_socket **ret)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = VANISH_TIMEOUT_MS * 1000 };
	struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	int r;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

int vanishprobe_new(struct vanishprobe **ret)
{
	struct vanishprobe *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	v->tokens = VANISH_BURST;
	v->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	v->refill_ns = now_ns();
	r = open_nl(NETLINK_ROUTE, &v->rt);
	if (r == 0)
		r = open_nl(NETLINK_SOCK_DIAG, &v->diag);
	if (r < 0) {
		vanishprobe_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

struct vanishprobe *vanishprobe_free(struct vanishprobe *v)
{
	if (!v)
		return NULL;
	if (v->rt)
		mnl_socket_close(v->rt);
	if (v->diag)
		mnl_socket_close(v->diag);
	if (v->ioctl_fd >= 0)
		close(v->ioctl_fd);
	free(v);
	return NULL;
}

const struct vanishprobe_stats *vanishprobe_stats(const struct vanishprobe *v)
{
	return &v->stats;
}

static bool take_token(struct vanishprobe *v)
{
	uint64_t now = now_ns(), per = 1000000000ull / VANISH_RATE;

	while (v->tokens < VANISH_BURST && now - v->refill_ns >= per) {
		v->tokens++;
		v->refill_ns += per;
	}
	if (v->tokens == VANISH_BURST)
		v->refill_ns = now;
	if (v->tokens == 0)
		return false;
	v->tokens--;
	return true;
}

/* ---- sysctls ---- */

/* An interface name that is one path component. */
static bool plain_ifname(const char *name)
{
	return name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/');
}

/* The integer in /proc/sys/net/PATH, or -1. */
static int sysctl_int(const char *fmt, const char *ifname)
{
	char path[128], buf[32];
	ssize_t n;
	int fd, val;

	snprintf(path, sizeof(path), fmt, ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%d", &val) != 1)
		return -1;
	return val;
}

static void read_proc_sysctls(const struct vanish_query *q, struct vanish_facts *f)
{
	const char *ifn = f->iifname;
	bool ok = plain_ifname(ifn);

	if (q->pkt.l3 == 4) {
		f->ip_forward = sysctl_int("/proc/sys/net/ipv4/ip_forward%s", "");
		f->fwd_all = sysctl_int("/proc/sys/net/ipv4/conf/all/forwarding%s", "");
		f->rp_all = sysctl_int("/proc/sys/net/ipv4/conf/all/rp_filter%s", "");
		if (ok) {
			f->fwd_iif = sysctl_int("/proc/sys/net/ipv4/conf/%s/forwarding", ifn);
			f->rp_iif = sysctl_int("/proc/sys/net/ipv4/conf/%s/rp_filter", ifn);
		}
	} else {
		/* conf.IIF.forwarding does not stop forwarding (6.18, tested) */
		f->fwd_all = sysctl_int("/proc/sys/net/ipv6/conf/all/forwarding%s", "");
		if (ok)
			f->force_fwd_iif =
				sysctl_int("/proc/sys/net/ipv6/conf/%s/force_forwarding", ifn);
	}
}

/* ---- netlink ---- */

struct route_reply {
	struct vanish_route *route;
	bool got;
	uint32_t mtu; /* the route's mtu metric, 0 if none */
};

static int metric_cb(const struct nlattr *a, void *data)
{
	struct route_reply *rr = data;

	if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		rr->mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_reply *rr = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			rr->route->oif = mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		/* 4 or 16 bytes, by the route's family */
		if (mnl_attr_get_payload_len(a) == 4 || mnl_attr_get_payload_len(a) == 16) {
			memcpy(rr->route->gateway, mnl_attr_get_payload(a),
			       mnl_attr_get_payload_len(a));
			rr->route->has_gateway = true;
		}
		break;
	case RTA_METRICS:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(a, metric_cb, rr);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_reply *rr = data;
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	rr->route->type = rtm->rtm_type;
	rr->got = true;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, rr);
	return MNL_CB_OK;
}

/*
 * Send one request and read its answer. 0, or the kernel's -errno for the
 * request, or -ETIMEDOUT, -EIO.
 */
static int transact(struct vanishprobe *v, struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl), seq = ++v->seq;
	ssize_t n;
	int r;

	if (v->budget == 0)
		return -EAGAIN;
	v->budget--;
	v->stats.queries++;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0) {
			/* an answer to an earlier request that timed out: skip it */
			if (errno == EPROTO || errno == ESRCH)
				continue;
			return -errno;
		}
		/* a non-dump answer comes in one message */
		if (!(nlh->nlmsg_flags & NLM_F_DUMP))
			return 0;
	}
}

/*
 * RTM_GETROUTE: with iif, the kernel's input route lookup (rp_filter,
 * martians, forwarding included); without, the plain route lookup.
 */
static int route_get(struct vanishprobe *v, const struct vanish_query *q, bool to_src,
		     bool with_iif, struct vanish_route *ret)
{
	char buf[512] = { 0 }; /* libmnl leaves attribute padding as it was */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct packet_info *p = &q->pkt;
	size_t alen = p->l3 == 4 ? 4 : 16;
	struct route_reply rr = { .route = ret };
	struct rtmsg *rtm;
	int r;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->l3 == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	mnl_attr_put(nlh, RTA_DST, alen, to_src ? p->saddr : p->daddr);
	if (with_iif) {
		rtm->rtm_src_len = (unsigned char)(alen * 8);
		mnl_attr_put(nlh, RTA_SRC, alen, p->saddr);
		mnl_attr_put_u32(nlh, RTA_IIF, q->iif);
	}
	if (!to_src) {
		if (q->mark)
			mnl_attr_put_u32(nlh, RTA_MARK, q->mark);
		/* policy routing may select by protocol and ports (4.17) */
		mnl_attr_put_u8(nlh, RTA_IP_PROTO, p->l4proto);
		if (p->has_ports) {
			mnl_attr_put_u16(nlh, RTA_SPORT, htons(p->sport));
			mnl_attr_put_u16(nlh, RTA_DPORT, htons(p->dport));
		}
	}
	memset(ret, 0, sizeof(*ret));
	r = transact(v, v->rt, nlh, route_cb, &rr);
	if (r == -EAGAIN)
		return -1; /* over the budget: not asked */
	ret->asked = true;
	ret->err = r == 0 && !rr.got ? -EIO : r;
	if (ret->oif)
		if_indextoname(ret->oif, ret->oifname);
	return rr.mtu ? (int)rr.mtu : -1;
}

/* An interface's MTU (SIOCGIFMTU on a socket of this namespace), -1 unknown. */
static int if_mtu(struct vanishprobe *v, const char *name)
{
	struct ifreq ifr = { 0 };

	if (v->ioctl_fd < 0 || !name[0] || strlen(name) >= sizeof(ifr.ifr_name))
		return -1;
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(v->ioctl_fd, SIOCGIFMTU, &ifr) < 0)
		return -1;
	return ifr.ifr_mtu;
}

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	bool *found = data;

	if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY)
		*found = true;
	return MNL_CB_OK;
}

static int diag_index(const struct packet_info *p)
{
	return (p->l4proto == IPPROTO_UDP ? DIAG_UDP4 : DIAG_TCP4) + (p->l3 == 6);
}

static void diag_req(struct nlmsghdr *nlh, const struct packet_info *p, uint16_t flags,
		     struct inet_diag_req_v2 **ret)
{
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = flags;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = p->l3 == 4 ? AF_INET : AF_INET6;
	req->sdiag_protocol = p->l4proto;
	req->id.idiag_cookie[0] = req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	*ret = req;
}

/*
 * A missing diag module answers -ENOENT like a missing socket: check once
 * per protocol with an empty dump (no states) that the kernel can answer.
 */
static bool diag_works(struct vanishprobe *v, const struct packet_info *p)
{
	int *ok = &v->diag_ok[diag_index(p)];
	struct inet_diag_req_v2 *req;
	char buf[256] = { 0 };
	struct nlmsghdr *nlh;
	bool found = false;
	int r;

	if (*ok)
		return *ok > 0;
	nlh = mnl_nlmsg_put_header(buf);
	diag_req(nlh, p, NLM_F_REQUEST | NLM_F_DUMP, &req);
	req->idiag_states = 0;
	r = transact(v, v->diag, nlh, diag_cb, &found);
	if (r == -EAGAIN || r == -ETIMEDOUT)
		return false; /* not asked, or no answer yet: ask again later */
	*ok = r == 0 ? 1 : -1;
	return *ok > 0;
}

/*
 * The kernel's own socket lookup for the packet (an exact sock_diag
 * request, inet_diag_find_one_icsk / udp_dump_one): a listener, a bound
 * or connected socket, SO_BINDTODEVICE and SO_REUSEPORT as for a packet.
 * TCP reads the local end from idiag_src, UDP from idiag_dst ("src and dst
 * are swapped for historical reasons", net/ipv4/udp_diag.c).
 */
static int socket_lookup(struct vanishprobe *v, const struct vanish_query *q)
{
	const struct packet_info *p = &q->pkt;
	size_t alen = p->l3 == 4 ? 4 : 16;
	bool udp = p->l4proto == IPPROTO_UDP, found = false;
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	char buf[256] = { 0 };
	int r;

	if (!diag_works(v, p))
		return -EOPNOTSUPP;
	nlh = mnl_nlmsg_put_header(buf);
	diag_req(nlh, p, NLM_F_REQUEST, &req);
	req->idiag_states = ~0u;
	memcpy(udp ? req->id.idiag_dst : req->id.idiag_src, p->daddr, alen);
	memcpy(udp ? req->id.idiag_src : req->id.idiag_dst, p->saddr, alen);
	req->id.idiag_sport = htons(udp ? p->sport : p->dport);
	req->id.idiag_dport = htons(udp ? p->dport : p->sport);
	req->id.idiag_if = q->iif;
	r = transact(v, v->diag, nlh, diag_cb, &found);
	if (r < 0)
		return r;
	return found ? 0 : -ENOENT;
}

/* ---- RTM_GETNETCONF ---- */

struct netconf_reply {
	bool got;
	int forwarding, rp_filter; /* -1: not in the answer */
};

static int netconf_attr_cb(const struct nlattr *a, void *data)
{
	struct netconf_reply *nr = data;

	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NETCONFA_FORWARDING:
		nr->forwarding = (int)mnl_attr_get_u32(a);
		break;
	case NETCONFA_RP_FILTER:
		nr->rp_filter = (int)mnl_attr_get_u32(a);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int netconf_cb(const struct nlmsghdr *nlh, void *data)
{
	struct netconf_reply *nr = data;

	if (nlh->nlmsg_type != RTM_NEWNETCONF ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct netconfmsg)))
		return MNL_CB_OK;
	nr->got = true;
	mnl_attr_parse(nlh, NLMSG_ALIGN(sizeof(struct netconfmsg)), netconf_attr_cb, nr);
	return MNL_CB_OK;
}

/*
 * One interface's (or NETCONFA_IFINDEX_ALL's) forwarding and rp_filter,
 * as inet_netconf_get_devconf() / inet6_netconf_get_devconf() answer: the
 * same values /proc/sys/net/ipv{4,6}/conf/X/ shows, readable where /proc/sys
 * is not (ProcSubset=pid). 0 or -errno.
 */
static int netconf_get(struct vanishprobe *v, uint8_t l3, int ifindex, struct netconf_reply *ret)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct netconfmsg *ncm;
	int r;

	nlh->nlmsg_type = RTM_GETNETCONF;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ncm = mnl_nlmsg_put_extra_header(nlh, NLMSG_ALIGN(sizeof(*ncm)));
	ncm->ncm_family = l3 == 4 ? AF_INET : AF_INET6;
	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, (uint32_t)ifindex);
	ret->got = false;
	ret->forwarding = ret->rp_filter = -1;
	r = transact(v, v->rt, nlh, netconf_cb, ret);
	if (r == 0 && !ret->got)
		r = -EIO;
	return r;
}

/*
 * net.ipv6.conf.IIF.force_forwarding (6.17): netconf does not carry it
 * (6.18, checked), so /proc/sys. A kernel without the knob has the file
 * missing while /proc/sys/net/ipv6 exists: off. Without /proc/sys (the
 * unit's ProcSubset=pid), -1: not known.
 */
static int force_forwarding(const char *ifname)
{
	int val = -1;

	if (plain_ifname(ifname))
		val = sysctl_int("/proc/sys/net/ipv6/conf/%s/force_forwarding", ifname);
	if (val < 0 && access("/proc/sys/net/ipv6/conf", F_OK) == 0)
		val = 0;
	return val;
}

/*
 * Forwarding and rp_filter for the packet's family, of all and of its
 * input interface: RTM_GETNETCONF first, /proc/sys where that fails
 * (kernels before 3.x, or a kernel error). net.ipv4.ip_forward is
 * conf.all.forwarding (the same sysctl data, net/ipv4/devinet.c).
 */
static void read_sysctls(struct vanishprobe *v, const struct vanish_query *q,
			 struct vanish_facts *f)
{
	struct netconf_reply all, iif;
	int r;

	r = netconf_get(v, q->pkt.l3, NETCONFA_IFINDEX_ALL, &all);
	if (r == 0 && q->iif)
		r = netconf_get(v, q->pkt.l3, (int)q->iif, &iif);
	else
		iif.forwarding = iif.rp_filter = -1;
	if (r < 0) {
		/* said once: the reasons may go missing where /proc/sys is hidden */
		if (!v->stats.netconf_failed++)
			log_warning(
				"RTM_GETNETCONF failed (%s), reading forwarding and rp_filter from /proc/sys/net instead",
				strerror(-r));
		read_proc_sysctls(q, f);
		return;
	}
	f->from_netconf = true;
	f->fwd_all = all.forwarding;
	if (q->pkt.l3 == 4) {
		f->ip_forward = all.forwarding;
		f->fwd_iif = iif.forwarding;
		f->rp_all = all.rp_filter;
		f->rp_iif = iif.rp_filter;
	} else {
		f->force_fwd_iif = force_forwarding(f->iifname);
	}
}

/* ---- the callback ---- */

static void make_key(const struct vanish_query *q, struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->hook = q->hook;
	k->expected = q->expected;
	k->l3 = q->pkt.l3;
	k->l4proto = q->pkt.l4proto;
	memcpy(k->saddr, q->pkt.saddr, 16);
	memcpy(k->daddr, q->pkt.daddr, 16);
	k->sport = q->pkt.sport;
	k->dport = q->pkt.dport;
	k->iif = q->iif;
	k->mark = q->mark;
	k->ct_known = q->ct_known;
	k->ct_new = q->ct_new;
	k->ct_reply = q->ct_reply;
}

void vanishprobe_no_sockets(struct vanishprobe *v, const char *why)
{
	v->no_sockets = why;
}

static void ask_socket(struct vanishprobe *v, const struct vanish_query *q, struct vanish_facts *f)
{
	int r;

	if (v->no_sockets) {
		f->sock_asked = false;
		snprintf(f->missing, sizeof(f->missing), "%s", v->no_sockets);
		return;
	}
	r = socket_lookup(v, q);

	f->sock_asked = r == 0 || r == -ENOENT;
	f->sock_err = r;
	if (!f->sock_asked)
		snprintf(f->missing, sizeof(f->missing), "the socket lookup failed: %s",
			 r == -EOPNOTSUPP ? "sock_diag cannot answer for this protocol"
					  : strerror(-r));
}

/*
 * Ask what need names, cheapest answer first: after prerouting, the input
 * lookup alone says where a packet goes when it succeeds (a local route:
 * then only the socket; a unicast one: then only forwarding), and the
 * route to the destination and back to the source matter only when the
 * kernel refuses it.
 */
static void gather(struct vanishprobe *v, const struct vanish_query *q, unsigned int need,
		   struct vanish_facts *f)
{
	bool refused = true, local = false;

	if (q->iif && !if_indextoname(q->iif, f->iifname))
		f->iifname[0] = '\0';
	if (need & VANISH_NEED_INPUT) {
		f->out_mtu = route_get(v, q, false, true, &f->input);
		refused = !f->input.asked || f->input.err != 0;
		local = !refused && f->input.type == RTN_LOCAL;
		if (!refused && f->input.type == RTN_UNICAST) {
			if (f->out_mtu < 0)
				f->out_mtu = if_mtu(v, f->input.oifname);
			f->in_mtu = if_mtu(v, f->iifname);
		}
	}
	if ((need & VANISH_NEED_SYSCTL) && !local)
		read_sysctls(v, q, f);
	if ((need & VANISH_NEED_TO_DST) && refused)
		route_get(v, q, false, false, &f->to_dst);
	if ((need & VANISH_NEED_TO_SRC) && refused)
		route_get(v, q, true, false, &f->to_src);
	/* after prerouting only for a local route; at input always */
	if ((need & VANISH_NEED_SOCKET) && (local || !(need & VANISH_NEED_INPUT)))
		ask_socket(v, q, f);
	if ((f->input.asked && f->input.err == -ETIMEDOUT) ||
	    (f->to_dst.asked && f->to_dst.err == -ETIMEDOUT))
		snprintf(f->missing, sizeof(f->missing), "the route lookup timed out");
}

static void vanish(void *vctx, const struct vanish_query *q, struct vanish_result *ret)
{
	struct vanishprobe *v = vctx;
	struct vanish_facts f;
	struct answer *ans;
	unsigned int need;
	struct key k;
	uint64_t now;

	memset(ret, 0, sizeof(*ret));
	need = vanish_needs(q);
	if (!need) {
		vanish_facts_init(&f);
		vanish_decide(q, &f, ret);
		return;
	}
	make_key(q, &k);
	ans = &v->answers[hash_fnv1a(HASH_FNV1A_INIT, &k, sizeof(k)) % ANSWER_CACHE];
	now = now_ns();
	if (ans->at && now - ans->at < ANSWER_TTL_NS && memcmp(&ans->key, &k, sizeof(k)) == 0) {
		v->stats.cached++;
		*ret = ans->res;
		return;
	}
	if (!take_token(v)) {
		v->stats.limited++;
		ret->reason = VANISH_NOT_CHECKED;
		snprintf(ret->evidence, sizeof(ret->evidence),
			 "checks are rate-limited (%d timelines a second)", VANISH_RATE);
		return;
	}
	v->stats.checks++;
	v->budget = VANISH_MAX_QUERIES;
	vanish_facts_init(&f);
	gather(v, q, need, &f);
	vanish_decide(q, &f, ret);
	/* a timeout or kernel error is not an answer to keep */
	if (ret->reason != VANISH_NOT_CHECKED) {
		ans->at = now_ns();
		ans->key = k;
		ans->res = *ret;
	}
}

void vanishprobe_resolver(struct vanishprobe *v, struct resolver *r)
{
	r->vctx = v;
	r->vanish = vanish;
}
