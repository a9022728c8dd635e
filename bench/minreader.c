/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * minreader: the least a trace listener can do, as a yardstick for
 * bench/compare.sh. Joins NFNLGRP_NFTRACE with a 64 MiB SO_RCVBUFFORCE
 * buffer, reads with recvmmsg (64 datagrams of 8 KiB per call) and
 * discards; counts netlink messages and ENOBUFS. On SIGINT or SIGTERM it
 * prints "messages N datagrams N enobufs N" and exits. Run it inside the
 * namespace to listen to (ip netns exec NS minreader).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#define BATCH  64
#define DGRAM  8192
#define RCVBUF (64 * 1024 * 1024)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	static char buf[BATCH][DGRAM];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	/* no SA_RESTART: a signal ends the blocking recvmmsg */
	struct sigaction act = { .sa_handler = on_signal };
	unsigned long long messages = 0, datagrams = 0, enobufs = 0;
	int group = NFNLGRP_NFTRACE, rcvbuf = RCVBUF;
	int fd;

	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		perror("minreader: netlink socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		perror("minreader: SO_RCVBUFFORCE");
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = DGRAM };
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	/* ready: the caller waits for this line before sending */
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);

		if (n < 0) {
			if (errno == ENOBUFS)
				enobufs++;
			else if (errno != EINTR)
				perror("minreader: recvmmsg");
			continue;
		}
		datagrams += (unsigned long long)n;
		for (int i = 0; i < n; i++) {
			unsigned int len = msg[i].msg_len;
			const struct nlmsghdr *nlh = (const void *)buf[i];

			for (; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
				messages++;
		}
	}
	printf("messages %llu datagrams %llu enobufs %llu\n", messages, datagrams, enobufs);
	return 0;
}
