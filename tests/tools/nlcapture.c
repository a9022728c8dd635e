/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nlcapture: record raw nftables trace messages as fixture bytes.
 *
 * Joins NFNLGRP_NFTRACE on a NETLINK_NETFILTER socket of the current network
 * namespace (run it with `ip netns exec NS`) and appends every netlink
 * message it receives, nlmsghdr included and padded to NLMSG_ALIGNTO, to a
 * file. The file is therefore a plain sequence of netlink messages exactly
 * as the kernel sent them: mnl_nlmsg_ok()/mnl_nlmsg_next() walk it.
 *
 * Stops after -n messages, after -t seconds, or on SIGINT/SIGTERM. ENOBUFS
 * (messages lost because the receive buffer was full) is counted, reported
 * on stderr and not fatal.
 *
 * Usage: nlcapture -o FILE [-n COUNT] [-t SECONDS] [-r READYFILE] [-b BYTES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#define DEFAULT_RCVBUF (16 * 1024 * 1024)

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

static void usage(FILE *out)
{
	fprintf(out, "Usage: nlcapture -o FILE [-n COUNT] [-t SECONDS] [-r READYFILE] [-b BYTES]\n"
		     "Record raw NFT_MSG_TRACE netlink messages (NFNLGRP_NFTRACE) of the\n"
		     "current network namespace to FILE.\n"
		     "  -o FILE       output file (truncated)\n"
		     "  -n COUNT      stop after COUNT messages (default: no limit)\n"
		     "  -t SECONDS    stop after SECONDS (default: 10)\n"
		     "  -r READYFILE  create READYFILE once subscribed to the group\n"
		     "  -b BYTES      receive buffer, SO_RCVBUFFORCE (default 16 MiB)\n"
		     "  -q            no per-message lines on stderr\n");
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char pad[NLMSG_ALIGNTO];
	const char *outpath = NULL, *readypath = NULL;
	unsigned long max_msgs = 0, msgs = 0, enobufs = 0, others = 0;
	double timeout = 10.0, deadline;
	int rcvbuf = DEFAULT_RCVBUF, group = NFNLGRP_NFTRACE;
	bool quiet = false;
	struct mnl_socket *nl;
	struct sigaction sa;
	char *buf;
	int opt, fd, ret = EXIT_FAILURE;

	while ((opt = getopt(argc, argv, "o:n:t:r:b:qh")) != -1) {
		switch (opt) {
		case 'o':
			outpath = optarg;
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
		case 'b':
			rcvbuf = atoi(optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!outpath || optind != argc || timeout <= 0 || rcvbuf <= 0) {
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!buf) {
		perror("nlcapture: malloc");
		return EXIT_FAILURE;
	}

	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "nlcapture: %s: %s\n", outpath, strerror(errno));
		goto out_buf;
	}

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		perror("nlcapture: mnl_socket_open");
		goto out_fd;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nlcapture: mnl_socket_bind");
		goto out_nl;
	}
	/* Without a big buffer a burst of events ends in ENOBUFS. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) <
	    0)
		fprintf(stderr, "nlcapture: SO_RCVBUFFORCE: %s, ignoring\n", strerror(errno));
	if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		perror("nlcapture: NETLINK_ADD_MEMBERSHIP NFNLGRP_NFTRACE");
		goto out_nl;
	}

	if (readypath) {
		int rfd = open(readypath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd < 0) {
			fprintf(stderr, "nlcapture: %s: %s\n", readypath, strerror(errno));
			goto out_nl;
		}
		close(rfd);
	}
	if (!quiet)
		fprintf(stderr, "nlcapture: listening on NFNLGRP_NFTRACE\n");

	deadline = now_seconds() + timeout;
	while (!stop && (max_msgs == 0 || msgs < max_msgs)) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		double left = deadline - now_seconds();
		const struct nlmsghdr *nlh;
		ssize_t len;
		int n;

		if (left <= 0)
			break;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("nlcapture: poll");
			goto out_nl;
		}
		if (n == 0)
			continue;

		len = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4);
		if (len < 0) {
			if (errno == ENOBUFS) {
				enobufs++;
				fprintf(stderr, "nlcapture: ENOBUFS, messages were lost\n");
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("nlcapture: recv");
			goto out_nl;
		}

		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			uint16_t subsys = NFNL_SUBSYS_ID(nlh->nlmsg_type);
			uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
			size_t padlen = NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len;
			int err;

			if (subsys != NFNL_SUBSYS_NFTABLES || type != NFT_MSG_TRACE)
				others++;
			err = write_all(fd, nlh, nlh->nlmsg_len);
			if (!err && padlen)
				err = write_all(fd, pad, padlen);
			if (err) {
				fprintf(stderr, "nlcapture: write %s: %s\n", outpath,
					strerror(-err));
				goto out_nl;
			}
			msgs++;
			if (!quiet)
				fprintf(stderr, "nlcapture: message %lu, %u bytes\n", msgs,
					nlh->nlmsg_len);
			if (max_msgs && msgs >= max_msgs)
				break;
		}
	}

	fprintf(stderr, "nlcapture: %lu messages written to %s", msgs, outpath);
	if (others)
		fprintf(stderr, " (%lu not NFT_MSG_TRACE)", others);
	if (enobufs)
		fprintf(stderr, ", %lu ENOBUFS", enobufs);
	fprintf(stderr, "\n");
	ret = EXIT_SUCCESS;
out_nl:
	mnl_socket_close(nl);
out_fd:
	if (close(fd) < 0 && ret == EXIT_SUCCESS) {
		perror("nlcapture: close");
		ret = EXIT_FAILURE;
	}
out_buf:
	free(buf);
	return ret;
}
