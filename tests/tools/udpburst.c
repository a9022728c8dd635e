/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udpburst ADDR PORT COUNT: send COUNT small UDP datagrams to ADDR:PORT as
 * fast as one core can (sendmmsg, 64 per call). For the flood tests and
 * bench/: run it inside a lab namespace, towards a lab address.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct mmsghdr msg[BATCH];
	struct iovec iov = { .iov_base = "nattraced-burst", .iov_len = 15 };
	struct addrinfo *ai;
	unsigned long count, sent = 0;
	char *end;
	int fd, r;

	if (argc != 4) {
		fprintf(stderr, "usage: udpburst ADDR PORT COUNT\n");
		return 2;
	}
	count = strtoul(argv[3], &end, 10);
	if (*end || !count) {
		fprintf(stderr, "udpburst: COUNT '%s' is not a positive number\n", argv[3]);
		return 2;
	}
	r = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (r) {
		fprintf(stderr, "udpburst: %s %s: %s\n", argv[1], argv[2], gai_strerror(r));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udpburst: socket");
		return 1;
	}
	for (int i = 0; i < BATCH; i++)
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	while (sent < count) {
		unsigned int n = count - sent < BATCH ? (unsigned int)(count - sent) : BATCH;

		r = sendmmsg(fd, msg, n, 0);
		if (r < 0) {
			/* a full queue or an ICMP error from an earlier datagram */
			if (errno == ENOBUFS || errno == ECONNREFUSED || errno == EINTR)
				continue;
			perror("udpburst: sendmmsg");
			return 1;
		}
		sent += (unsigned long)r;
	}
	freeaddrinfo(ai);
	close(fd);
	printf("%lu\n", sent);
	return 0;
}
