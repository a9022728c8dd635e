/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NLSOCK_H
#define NATTRACED_NLSOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <linux/netlink.h>

/*
 * 64 MiB. The kernel charges each queued event's whole skb, about 1 KiB,
 * so a fast burst queues faster than any reader drains: with 16 MiB a
 * 50,000-packet burst (300,000 events) overran once and lost 10% while nft
 * monitor trace shared the core; with 64 MiB 100,000 packets fit. Memory
 * is only charged while events wait to be read.
 */
#define NLSOCK_RCVBUF (64 * 1024 * 1024)

struct nlsock;

/*
 * A non-blocking NETLINK_NETFILTER socket joined to one multicast group.
 * Returns 0, or -errno (-EPERM without CAP_NET_ADMIN).
 */
int nlsock_open(unsigned int group, int rcvbuf, struct nlsock **ret);
struct nlsock *nlsock_close(struct nlsock *s);
int nlsock_fd(const struct nlsock *s);

/*
 * Datagrams received by one call: one system call for up to
 * NLSOCK_BATCH of them. A trace event is well under 1 KiB; a datagram
 * longer than NLSOCK_DGRAM_MAX is cut and reported as -ENOSPC.
 */
#define NLSOCK_BATCH	 64
#define NLSOCK_DGRAM_MAX 8192

struct nlsock_batch {
	unsigned int n;		   /* datagrams received */
	ssize_t len[NLSOCK_BATCH]; /* length, or -ENOSPC if cut */
	char buf[NLSOCK_BATCH][NLSOCK_DGRAM_MAX] __attribute__((aligned(8)));
	struct mmsghdr msg[NLSOCK_BATCH];
	struct iovec iov[NLSOCK_BATCH];
	struct sockaddr_nl from[NLSOCK_BATCH];
};

/*
 * Receive what is queued, up to NLSOCK_BATCH datagrams, into b. Returns
 * the number received (also in b->n), -EAGAIN when nothing is queued,
 * -ENOBUFS when the kernel dropped messages for lack of buffer space (the
 * socket stays usable), or another -errno. Datagrams not sent by the
 * kernel are dropped.
 */
int nlsock_recv_batch(struct nlsock *s, struct nlsock_batch *b);

#endif
