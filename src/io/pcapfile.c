/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --pcap FILE: pcapng blocks (pcapng.c) into a file, a sink tap. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pcapfile.h"
#include "pcapng.h"

struct pcapfile {
	int fd;
	char name[16 + PATH_MAX];
	struct pcapng_ifaces ifs;
	uint8_t buf[PCAPNG_RECORD_MAX];
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Timelines carry CLOCK_MONOTONIC times; pcapng wants the epoch. The
 * offset is taken now, so a clock step shows from the next packet on.
 */
static uint64_t epoch_ns(uint64_t mono_ns)
{
	struct timespec rt, mt;
	int64_t off;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	off = ((int64_t)rt.tv_sec - (int64_t)mt.tv_sec) * 1000000000ll +
	      ((int64_t)rt.tv_nsec - (int64_t)mt.tv_nsec);
	return (uint64_t)((int64_t)mono_ns + off);
}

static int pcap_timeline(void *ctx, const struct timeline *tl, const struct explain *ex)
{
	struct pcapfile *f = ctx;
	size_t n;

	n = pcapng_record(&f->ifs, tl, ex, epoch_ns(tl->first_ns), f->buf, sizeof(f->buf));
	if (!n)
		return -EMSGSIZE; /* cannot happen: PCAPNG_RECORD_MAX bounds a record */
	return write_all(f->fd, f->buf, n);
}

static void pcap_close(void *ctx)
{
	struct pcapfile *f = ctx;

	if (f->ifs.full)
		log_notice("%s: more than %u interfaces, the others are named \"other\"", f->name,
			   PCAPNG_MAX_IFACES);
	close(f->fd);
	free(f);
}

int pcapfile_open(const char *path, struct sink_tap *ret)
{
	struct pcapfile *f = calloc(1, sizeof(*f));
	size_t n;
	int r;

	if (!f)
		return -ENOMEM;
	snprintf(f->name, sizeof(f->name), "--pcap %s", path);
	/* as tcpdump -w: created for the umask to decide who reads it */
	f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
	if (f->fd < 0) {
		r = -errno;
		log_error_errno(r, "%s: cannot create it", f->name);
		free(f);
		return r;
	}
	n = pcapng_shb(f->buf, sizeof(f->buf), "nattraced " NATTRACED_VERSION);
	r = write_all(f->fd, f->buf, n);
	if (r < 0) {
		log_error_errno(r, "%s: cannot write it", f->name);
		close(f->fd);
		free(f);
		return r;
	}
	*ret = (struct sink_tap){
		.name = f->name,
		.timeline = pcap_timeline,
		.close = pcap_close,
		.ctx = f,
	};
	return 0;
}
