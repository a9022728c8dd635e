/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udpburst ADDR PORT COUNT [RATE [PORTS]]: send COUNT small UDP datagrams
 * to ADDR:PORT as fast as one core can (sendmmsg, 64 per call), or paced
 * at RATE datagrams a second (in groups of 16, so about RATE/16 wakeups a
 * second; 0: unpaced). With PORTS, datagram i goes to port PORT + i % PORTS:
 * that many flows (new conntrack entries). For the flood tests and bench/:
 * run it inside a lab namespace, towards a lab address.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	    64
#define PACED_BATCH 16

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct mmsghdr msg[BATCH];
	struct iovec iov = { .iov_base = "nattraced-burst", .iov_len = 15 };
	struct addrinfo *ai;
	unsigned long count, sent = 0, rate = 0, ports = 0;
	struct sockaddr_storage *dest = NULL;
	unsigned int batch = BATCH;
	struct timespec next;
	char *end;
	int fd, r;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: udpburst ADDR PORT COUNT [RATE [PORTS]]\n");
		return 2;
	}
	count = strtoul(argv[3], &end, 10);
	if (*end || !count) {
		fprintf(stderr, "udpburst: COUNT '%s' is not a positive number\n", argv[3]);
		return 2;
	}
	if (argc >= 5) {
		rate = strtoul(argv[4], &end, 10);
		if (*end) {
			fprintf(stderr, "udpburst: RATE '%s' is not a number\n", argv[4]);
			return 2;
		}
		if (rate)
			batch = PACED_BATCH;
	}
	if (argc == 6) {
		ports = strtoul(argv[5], &end, 10);
		if (*end || !ports || ports > 65535) {
			fprintf(stderr, "udpburst: PORTS '%s' is not 1 to 65535\n", argv[5]);
			return 2;
		}
	}
	r = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (r) {
		fprintf(stderr, "udpburst: %s %s: %s\n", argv[1], argv[2], gai_strerror(r));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	/* many flows: an address per message instead of a connected socket */
	if (fd < 0 || (!ports && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)) {
		perror("udpburst: socket");
		return 1;
	}
	if (ports) {
		dest = calloc(BATCH, sizeof(*dest));
		if (!dest)
			return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		msg[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
		if (dest) {
			memcpy(&dest[i], ai->ai_addr, ai->ai_addrlen);
			msg[i].msg_hdr.msg_name = &dest[i];
			msg[i].msg_hdr.msg_namelen = ai->ai_addrlen;
		}
	}
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

		for (unsigned int i = 0; dest && i < n; i++) {
			/* the port field sits at the same offset for v4 and v6 */
			uint16_t port = (uint16_t)(strtoul(argv[2], NULL, 10) + (sent + i) % ports);

			((struct sockaddr_in *)&dest[i])->sin_port = htons(port);
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
	free(dest);
	freeaddrinfo(ai);
	close(fd);
	printf("%lu\n", sent);
	return 0;
}
