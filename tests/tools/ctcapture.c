/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctcapture: record raw ctnetlink (conntrack) messages as fixture bytes.
 *
 * Events: joins NFNLGRP_CONNTRACK_NEW, _UPDATE and _DESTROY on a
 * NETLINK_NETFILTER socket of the current network namespace (run it with
 * `ip netns exec NS`) and appends every message, nlmsghdr included and
 * padded to NLMSG_ALIGNTO, to FILE, exactly as the kernel sent it.
 * Dump (-d): asks for the whole conntrack table (IPCTNL_MSG_CT_GET with
 * NLM_F_DUMP) and writes the replies the same way, without NLMSG_DONE.
 *
 * Stops after -n messages, -t seconds, or SIGINT/SIGTERM.
 *
 * Usage: ctcapture -o FILE [-d] [-n COUNT] [-t SECONDS] [-r READYFILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_msg(int fd, const struct nlmsghdr *nlh)
{
	static const char pad[NLMSG_ALIGNTO];
	size_t padlen = NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len;

	if (write(fd, nlh, nlh->nlmsg_len) != (ssize_t)nlh->nlmsg_len)
		return -1;
	if (padlen && write(fd, pad, padlen) != (ssize_t)padlen)
		return -1;
	return 0;
}

static int send_dump_request(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const int groups[] = {
		NFNLGRP_CONNTRACK_NEW,
		NFNLGRP_CONNTRACK_UPDATE,
		NFNLGRP_CONNTRACK_DESTROY,
	};
	const char *outpath = NULL, *readypath = NULL;
	unsigned long max_msgs = 0, msgs = 0;
	double timeout = 10.0, deadline;
	int rcvbuf = 16 * 1024 * 1024, opt, fd, ret = EXIT_FAILURE;
	bool dump = false, done = false;
	struct mnl_socket *nl;
	struct sigaction sa = { .sa_handler = on_signal };
	static char buf[256 * 1024];

	while ((opt = getopt(argc, argv, "o:dn:t:r:h")) != -1) {
		switch (opt) {
		case 'o':
			outpath = optarg;
			break;
		case 'd':
			dump = true;
			break;
		case 'n':
			max_msgs = strtoul(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtod(optarg, NULL);
			break;
		case 'r':
			readypath = optarg;
			break;
		default:
			fprintf(stderr,
				"Usage: ctcapture -o FILE [-d] [-n COUNT] [-t SECONDS] [-r READYFILE]\n");
			return opt == 'h' ? EXIT_SUCCESS : 2;
		}
	}
	if (!outpath || optind != argc || timeout <= 0) {
		fprintf(stderr,
			"Usage: ctcapture -o FILE [-d] [-n COUNT] [-t SECONDS] [-r READYFILE]\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "ctcapture: %s: %s\n", outpath, strerror(errno));
		return EXIT_FAILURE;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("ctcapture: netlink socket");
		goto out;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (dump) {
		if (send_dump_request(nl) < 0) {
			perror("ctcapture: dump request");
			goto out;
		}
	} else {
		for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				       &groups[i], sizeof(groups[i])) < 0) {
				perror("ctcapture: NETLINK_ADD_MEMBERSHIP");
				goto out;
			}
	}
	if (readypath) {
		int rfd = open(readypath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd >= 0)
			close(rfd);
	}

	deadline = now_seconds() + timeout;
	while (!stop && !done && (max_msgs == 0 || msgs < max_msgs)) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		double left = deadline - now_seconds();
		const struct nlmsghdr *nlh;
		ssize_t len;
		int n;

		if (left <= 0)
			break;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			perror("ctcapture: poll");
			goto out;
		}
		if (n <= 0)
			continue;
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			if (errno == ENOBUFS) {
				fprintf(stderr, "ctcapture: ENOBUFS, messages were lost\n");
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("ctcapture: recv");
			goto out;
		}
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
				done = dump;
				break;
			}
			if (write_msg(fd, nlh) < 0) {
				fprintf(stderr, "ctcapture: write %s: %s\n", outpath,
					strerror(errno));
				goto out;
			}
			msgs++;
			if (max_msgs && msgs >= max_msgs)
				break;
		}
	}
	fprintf(stderr, "ctcapture: %lu messages written to %s\n", msgs, outpath);
	ret = EXIT_SUCCESS;
out:
	if (nl)
		mnl_socket_close(nl);
	close(fd);
	return ret;
}
