/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --follow asks the kernel two things before it starts: whether trace
 * events carry the conntrack id (without it a followed connection can be
 * neither grouped nor bounded), and whether the namespace tracked any
 * connection before (--follow's rules turn conntrack on for every packet).
 *
 * The kernel release is no answer to the first: distributions backport
 * (and leave out) features, so the probe sends one packet that is sure to
 * have a conntrack entry and reads what its trace event carries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <nftables/libnftables.h>

#include "followprobe.h"
#include "natlog.h"
#include "nlsock.h"
#include "trace.h"

#define PROBE_CHAIN "probe"
/* The discard port: the datagram is dropped before it could reach it. */
#define PROBE_PORT  9

struct probe {
	struct nft_ctx *nft;
	struct nlsock *trace;
	struct nlsock_batch *batch;
	char table[64];
	int fd[2]; /* AF_INET, AF_INET6 (-1 if none) */
	uint16_t port[2];
	bool created;
};

static int udp_socket(int family, uint16_t *ret_port)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len =
		family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int nft(struct probe *p, const char *cmd)
{
	int rc = nft_run_cmd_from_buffer(p->nft, cmd);

	nft_ctx_get_error_buffer(p->nft);
	nft_ctx_get_output_buffer(p->nft);
	return rc ? -EINVAL : 0;
}

/*
 * A table of its own, deleted by the kernel when our socket closes: the
 * first rule traces the probe datagram once conntrack (-200) gave it an
 * entry, the second stops the trace and drops it before conntrack
 * confirms the entry (at the end of postrouting), so none stays.
 */
static int install(struct probe *p)
{
	char ports[32], cmd[1024];

	if (p->fd[1] >= 0 && p->port[1] != p->port[0])
		snprintf(ports, sizeof(ports), "{ %u, %u }", p->port[0], p->port[1]);
	else
		snprintf(ports, sizeof(ports), "%u", p->port[0]);
	snprintf(cmd, sizeof(cmd),
		 "add table inet %1$s { flags owner; }\n"
		 "add chain inet %1$s " PROBE_CHAIN
		 " { type filter hook output priority -150; policy accept; }\n"
		 "add rule inet %1$s " PROBE_CHAIN " udp sport %2$s udp dport %3$u"
		 " ct state new meta nftrace set 1\n"
		 "add rule inet %1$s " PROBE_CHAIN " udp sport %2$s udp dport %3$u"
		 " meta nftrace set 0 drop\n",
		 p->table, ports, PROBE_PORT);
	if (nft(p, cmd) < 0)
		return -EINVAL;
	p->created = true;
	return 0;
}

/* The probe's event, if it came: 1 with a conntrack id, 0 without, -EAGAIN none yet. */
static int answer(struct probe *p, int wait_ms)
{
	struct pollfd pfd = { .fd = nlsock_fd(p->trace), .events = POLLIN };
	int n;

	while (poll(&pfd, 1, wait_ms) > 0) {
		n = nlsock_recv_batch(p->trace, p->batch);
		if (n == -ENOBUFS)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			const struct nlmsghdr *nlh;
			size_t off = 0;
			bool bad = false;

			if (p->batch->len[i] < 0)
				continue;
			while ((nlh = trace_msg_next(p->batch->buf[i], (size_t)p->batch->len[i],
						     &off, &bad))) {
				struct trace_event ev;

				if (trace_decode(nlh, &ev) < 0 || !ev.table || !ev.chain ||
				    strcmp(ev.table, p->table) || strcmp(ev.chain, PROBE_CHAIN))
					continue;
				return ev.present & TRACE_HAS_CT_ID ? 1 : 0;
			}
		}
		wait_ms = 0;
	}
	return -EAGAIN;
}

/* Send one datagram to addr: 0 when it met the output hook, or -errno. */
static int send_to(struct probe *p, const struct sockaddr *addr)
{
	int fd = p->fd[addr->sa_family == AF_INET6];
	socklen_t len = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);

	if (fd < 0)
		return -EAFNOSUPPORT;
	/* our drop rule answers EPERM: the datagram got as far as the hook */
	if (sendto(fd, "n", 1, 0, addr, len) < 0 && errno != EPERM)
		return -errno;
	return 0;
}

static int probe_addr(struct probe *p, const struct sockaddr *sa, char *how, size_t howlen)
{
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN] = "?";
	int r;

	memcpy(&ss, sa,
	       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in));
	if (sa->sa_family == AF_INET6) {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(PROBE_PORT);
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
	} else {
		((struct sockaddr_in *)&ss)->sin_port = htons(PROBE_PORT);
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
	}
	r = send_to(p, (struct sockaddr *)&ss);
	if (r < 0)
		return r;
	snprintf(how, howlen, "a datagram to %s, traced at output", text);
	r = answer(p, FOLLOWPROBE_WAIT_MS);
	return r == -EAGAIN ? -ETIMEDOUT : r;
}

static int run_probe(struct probe *p, char *how, size_t howlen)
{
	struct sockaddr_in lo4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct ifaddrs *ifa = NULL;
	unsigned int tried = 0;
	int r, last;

	last = r = probe_addr(p, (struct sockaddr *)&lo4, how, howlen);
	if (r == -ENETUNREACH || r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		last = r = probe_addr(p, (struct sockaddr *)&lo6, how, howlen);
	if (r >= 0 || r == -ETIMEDOUT)
		return r;
	/* lo is down: a namespace's own address routes through it all the same */
	if (getifaddrs(&ifa) < 0)
		return last;
	for (struct ifaddrs *i = ifa; i && tried < FOLLOWPROBE_ADDRS; i = i->ifa_next) {
		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		/* a link-local address would need its interface named */
		if (i->ifa_addr->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			continue;
		tried++;
		r = probe_addr(p, i->ifa_addr, how, howlen);
		if (r >= 0 || r == -ETIMEDOUT)
			break;
	}
	freeifaddrs(ifa);
	return r;
}

int followprobe_ct_id(char *how, size_t howlen)
{
	struct probe p = { .fd = { -1, -1 } };
	int fd, r;

	snprintf(how, howlen, "no probe datagram could be sent");
	snprintf(p.table, sizeof(p.table), "nattraced_probe_%ld", (long)getpid());
	/* libnftables exits when it cannot open its socket: fail first */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	close(fd);
	p.batch = malloc(sizeof(*p.batch));
	p.nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!p.batch || !p.nft || nft_ctx_buffer_output(p.nft) || nft_ctx_buffer_error(p.nft)) {
		r = -ENOMEM;
		goto out;
	}
	r = nlsock_open(NFNLGRP_NFTRACE, 1 << 20, &p.trace);
	if (r < 0)
		goto out;
	r = p.fd[0] = udp_socket(AF_INET, &p.port[0]);
	if (r < 0)
		goto out;
	p.fd[1] = udp_socket(AF_INET6, &p.port[1]);
	r = install(&p);
	if (r < 0) {
		snprintf(how, howlen, "the probe table could not be added");
		goto out;
	}
	r = run_probe(&p, how, howlen);
out:
	if (p.created) {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "delete table inet %s", p.table);
		nft(&p, cmd);
	}
	if (p.nft)
		nft_ctx_free(p.nft);
	for (int i = 0; i < 2; i++)
		if (p.fd[i] >= 0)
			close(p.fd[i]);
	nlsock_close(p.trace);
	free(p.batch);
	return r;
}

/* CTA_STATS_GLOBAL_ENTRIES of the answer into the int64_t at data */
static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_ENTRIES &&
		    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*(int64_t *)data = ntohl(mnl_attr_get_u32(a));
	}
	return MNL_CB_OK;
}

int followprobe_ct_entries(uint32_t *ret)
{
	int64_t entries = -1;
	int r = natlog_ctnetlink(IPCTNL_MSG_CT_GET_STATS, NLM_F_ACK, stats_cb, &entries);

	if (r < 0)
		return r;
	if (entries < 0)
		return -ENODATA;
	*ret = (uint32_t)entries;
	return 0;
}
