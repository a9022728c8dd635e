/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
	    mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		goto fail;
	}
	/*
	 * SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN, which
	 * joining the group already required; fall back to what rmem_max
	 * allows rather than fail.
	 */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		(void)setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
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

int nlsock_recv_batch(struct nlsock *s, struct nlsock_batch *b)
{
	unsigned int kept = 0;
	int n;

	for (unsigned int i = 0; i < NLSOCK_BATCH; i++) {
		b->iov[i] = (struct iovec){ .iov_base = b->buf[i], .iov_len = NLSOCK_DGRAM_MAX };
		b->msg[i].msg_hdr = (struct msghdr){
			.msg_name = &b->from[i],
			.msg_namelen = sizeof(b->from[i]),
			.msg_iov = &b->iov[i],
			.msg_iovlen = 1,
		};
	}
	b->n = 0;
	n = recvmmsg(mnl_socket_get_fd(s->nl), b->msg, NLSOCK_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (int i = 0; i < n; i++) {
		const struct msghdr *h = &b->msg[i].msg_hdr;

		/* Only the kernel (port id 0) speaks for the trace group. */
		if (h->msg_namelen != sizeof(struct sockaddr_nl) || b->from[i].nl_pid != 0)
			continue;
		if (kept != (unsigned int)i)
			memcpy(b->buf[kept], b->buf[i], b->msg[i].msg_len);
		b->len[kept++] = h->msg_flags & MSG_TRUNC ? -ENOSPC : (ssize_t)b->msg[i].msg_len;
	}
	b->n = kept;
	return (int)kept;
}
