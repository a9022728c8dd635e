/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udpburst ADDR PORT COUNT [RATE]: send COUNT small UDP datagrams to
 * ADDR:PORT as fast as one core can (sendmmsg, 64 per call), or paced at
 * RATE datagrams a second (in groups of 16, so about RATE/16 wakeups a
 * second). For the flood tests and bench/: run it inside a lab namespace,
 * towards a lab address.
 */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define PACED_BATCH 16

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct mmsghdr msg[BATCH];
	struct iovec iov = { .iov_base = "nattraced-burst", .iov_len = 15 };
	struct addrinfo *ai;
	unsigned long count, sent = 0, rate = 0;
	unsigned int batch = BATCH;
	struct timespec next;
	char *end;
	int fd, r;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: udpburst ADDR PORT COUNT [RATE]\n");
		return 2;
	}
	count = strtoul(argv[3], &end, 10);
	if (*end || !count) {
		fprintf(stderr, "udpburst: COUNT '%s' is not a positive number\n", argv[3]);
		return 2;
	}
	if (argc == 5) {
		rate = strtoul(argv[4], &end, 10);
		if (*end || !rate) {
			fprintf(stderr, "udpburst: RATE '%s' is not a positive number\n", argv[4]);
			return 2;
		}
		batch = PACED_BATCH;
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
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (sent < count) {
		unsigned int n = count - sent < batch ? (unsigned int)(count - sent) : batch;

		if (rate) {
			/* the next group is due batch/rate seconds after this one */
			uint64_t ns = (uint64_t)next.tv_nsec + 1000000000ull * n / rate;

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
			next.tv_sec += (time_t)(ns / 1000000000ull);
			next.tv_nsec = (long)(ns % 1000000000ull);
		}

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
