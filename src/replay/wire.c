/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Into the clone and out of it. A packet that came in on an interface is
 * sent on the far end of that interface's veth, in the peer namespace,
 * to the clone end's own MAC address, so the clone's kernel takes it as
 * it took the live one. A packet the host sent leaves a raw socket of
 * the clone's own stack. Whatever the clone sends out of any interface
 * arrives on a far end: one packet socket in the peer sees it all, so
 * "forwarded out of lan0" is seen, not inferred.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "clone.h"
#include "replay.h"

struct wire {
	const struct clone *c;
	int cap;  /* peer: AF_PACKET, every interface, incoming only counts */
	int tx;	  /* peer: AF_PACKET datagrams, the kernel writes the link header */
	int raw4; /* clone: IPPROTO_RAW, header included */
	int raw6;
};

static int close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
	return -1;
}

struct wire *wire_free(struct wire *w)
{
	if (!w)
		return NULL;
	close_fd(w->cap);
	close_fd(w->tx);
	close_fd(w->raw4);
	close_fd(w->raw6);
	free(w);
	return NULL;
}

/* The peer's sockets: created there, they stay there (and so do their packets). */
static int open_peer(struct wire *w)
{
	int r = clone_enter_peer(w->c);

	if (r < 0)
		return r;
	w->cap = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (w->cap >= 0)
		w->tx = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = w->cap < 0 || w->tx < 0 ? -errno : 0;
	/* back to the clone, whatever happened */
	if (clone_enter(w->c) < 0 && r == 0)
		r = -errno;
	return r;
}

int wire_open(const struct clone *c, struct wire **ret)
{
	struct wire *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*w = (struct wire){ .c = c, .cap = -1, .tx = -1, .raw4 = -1, .raw6 = -1 };
	/* the caller's thread is in the clone: these belong to it */
	w->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	w->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (w->raw4 < 0 || w->raw6 < 0) {
		r = -errno;
		wire_free(w);
		return r;
	}
	r = open_peer(w);
	if (r < 0) {
		wire_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void wire_clear(struct wire *w)
{
	char buf[256];

	while (recv(w->cap, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

/* The clone end's MAC: a frame for another host would be forwarded by nobody. */
static int clone_mac(struct wire *w, const char *ifname, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* raw4 lives in the clone: the ioctl asks the clone's interface */
	if (ioctl(w->raw4, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static int send_in(struct wire *w, const struct replay_packet *p, char *err, size_t errlen)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(p->info.l3 == 6 ? ETH_P_IPV6 : ETH_P_IP),
		.sll_halen = ETH_ALEN,
	};
	uint32_t ifindex = clone_peer_ifindex(w->c, p->iif);
	int r;

	if (!ifindex) {
		snprintf(err, errlen, "the clone has no interface %s (the packet came in on it)",
			 p->iif);
		return -ENODEV;
	}
	sll.sll_ifindex = (int)ifindex;
	r = clone_mac(w, p->iif, sll.sll_addr);
	if (r < 0) {
		snprintf(err, errlen, "the clone's %s has no link address: %s", p->iif,
			 strerror(-r));
		return r;
	}
	if (sendto(w->tx, p->bytes, p->len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		snprintf(err, errlen, "sending on the far end of %s: %s", p->iif, strerror(-r));
		return r;
	}
	return 0;
}

/* A packet the host sent: through the clone's output path, with its mark. */
static int send_out(struct wire *w, const struct replay_packet *p, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {};
	socklen_t sl;
	int fd, r;

	if (p->info.l3 == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p->info.daddr, 16);
		sl = sizeof(*s6);
		fd = w->raw6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p->info.daddr, 4);
		sl = sizeof(*s4);
		fd = w->raw4;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &p->mark, sizeof(p->mark)) < 0 ||
	    sendto(fd, p->bytes, p->len, 0, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		/* a route refused is an answer the trace shows, not our failure */
		if (r == -ENETUNREACH || r == -EHOSTUNREACH || r == -EPERM || r == -EACCES)
			return 0;
		snprintf(err, errlen, "sending from the clone's own stack: %s", strerror(-r));
		return r;
	}
	return 0;
}

int wire_send(struct wire *w, const struct replay_packet *p, char *err, size_t errlen)
{
	wire_clear(w);
	if (p->origin == REPLAY_LOCAL_OUT)
		return send_out(w, p, err, errlen);
	return send_in(w, p, err, errlen);
}

unsigned int wire_collect(struct wire *w, int wait_ms, struct wire_seen *ret, unsigned int max)
{
	unsigned int n = 0;

	if (poll(&(struct pollfd){ .fd = w->cap, .events = POLLIN }, 1, wait_ms) <= 0)
		return 0;
	while (n < max) {
		uint8_t buf[512];
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		struct ifreq ifr = {};
		ssize_t len = recvfrom(w->cap, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&sll, &sl);
		size_t nh;

		if (len < 0)
			break;
		/* our own injection, leaving the far end */
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (sll.sll_protocol != htons(ETH_P_IP) && sll.sll_protocol != htons(ETH_P_IPV6))
			continue;
		/* tx lives in the peer: it names the far end, which has the clone end's name */
		ifr.ifr_ifindex = sll.sll_ifindex;
		if (ioctl(w->tx, SIOCGIFNAME, &ifr) < 0)
			continue;
		memset(&ret[n], 0, sizeof(ret[n]));
		snprintf(ret[n].ifname, sizeof(ret[n].ifname), "%s", ifr.ifr_name);
		nh = (buf[0] >> 4) == 6 ? 40 : (size_t)(buf[0] & 0xf) * 4;
		if ((size_t)len >= nh)
			ret[n].valid = packet_parse(buf, nh, buf + nh, (size_t)len - nh,
						    &ret[n].info) == 0;
		n++;
	}
	return n;
}
