/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "nlsock.h"

struct nlsock {
	struct mnl_socket *nl;
};

int nlsock_open(unsigned int group, int rcvbuf, struct nlsock **ret)
{
	struct nlsock *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!s->nl) {
		r = -errno;
		goto fail;
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		r = -errno;
		goto fail;
	}
	/*
	 * SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN, which
	 * joining the group already required; fall back to what rmem_max
	 * allows rather than fail.
	 */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF,
				 &rcvbuf, sizeof(rcvbuf));
	*ret = s;
	return 0;
fail:
	nlsock_close(s);
	return r;
}

struct nlsock *nlsock_close(struct nlsock *s)
{
	if (!s)
		return NULL;
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s);
	return NULL;
}

int nlsock_fd(const struct nlsock *s)
{
	return mnl_socket_get_fd(s->nl);
}

ssize_t nlsock_recv(struct nlsock *s, void *buf, size_t len)
{
	ssize_t n = mnl_socket_recvfrom(s->nl, buf, len);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}
