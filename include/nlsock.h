/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NLSOCK_H
#define NATTRACED_NLSOCK_H

#include <stddef.h>
#include <sys/types.h>

/* 16 MiB: a 50,000-packet burst of 4 events each fits (trace-facts.md). */
#define NLSOCK_RCVBUF	(16 * 1024 * 1024)

struct nlsock;

/*
 * A non-blocking NETLINK_NETFILTER socket joined to one multicast group.
 * Returns 0, or -errno (-EPERM without CAP_NET_ADMIN).
 */
int nlsock_open(unsigned int group, int rcvbuf, struct nlsock **ret);
struct nlsock *nlsock_close(struct nlsock *s);
int nlsock_fd(const struct nlsock *s);

/*
 * Receive one datagram. Returns its length, -EAGAIN when nothing is
 * queued, -ENOBUFS when the kernel dropped messages for lack of buffer
 * space (the socket stays usable), or another -errno.
 */
ssize_t nlsock_recv(struct nlsock *s, void *buf, size_t len);

#endif
