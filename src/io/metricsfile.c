/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --metrics-file PATH: metrics.c's text, replaced atomically (metricsfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "metricsfile.h"

struct metricsfile {
	char path[PATH_MAX];
	char name[16 + PATH_MAX];
	struct metrics *m;
	const struct capture_stats *st;
};

/* The directory of path ("." for a bare name) and the temporary name in it. */
static int temp_name(const char *path, char *buf, size_t len, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, dirlen, ".");
	else if (slash == path)
		n = snprintf(dir, dirlen, "/");
	else
		n = snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dirlen)
		return -ENAMETOOLONG;
	/* a dot file without .prom: the textfile collector skips it while it is written */
	n = snprintf(buf, len, "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int metricsfile_replace(const char *path, int (*fill)(FILE *out, void *ctx), void *ctx)
{
	char tmp[PATH_MAX + 16], dir[PATH_MAX];
	FILE *out;
	int fd, dfd, r;

	r = temp_name(path, tmp, sizeof(tmp), dir, sizeof(dir));
	if (r < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* node_exporter runs as its own user: it must read the file */
	if (fchmod(fd, 0644) < 0 || !(out = fdopen(fd, "w"))) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	r = fill(out, ctx);
	if (fflush(out) != 0 && r == 0)
		r = -errno;
	if (r == 0 && fsync(fileno(out)) < 0)
		r = -errno;
	if (fclose(out) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* the rename itself survives a crash once the directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int fill(FILE *out, void *ctx)
{
	struct metricsfile *f = ctx;

	return metrics_text(out, f->m, f->st);
}

static int metrics_timeline(void *ctx, const struct timeline *tl, const struct explain *ex)
{
	struct metricsfile *f = ctx;

	metrics_count(f->m, tl, ex);
	return 0;
}

static int metrics_stats(void *ctx, const struct capture_stats *st)
{
	struct metricsfile *f = ctx;

	f->st = st;
	return metricsfile_replace(f->path, fill, f);
}

static void metrics_close(void *ctx)
{
	struct metricsfile *f = ctx;

	metrics_free(f->m);
	free(f);
}

int metricsfile_open(const char *path, struct sink_tap *ret)
{
	struct metricsfile *f = calloc(1, sizeof(*f));
	struct capture_stats none = {};
	int r;

	if (!f)
		return -ENOMEM;
	snprintf(f->name, sizeof(f->name), "--metrics-file %s", path);
	if (strlen(path) >= sizeof(f->path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	r = metrics_new(&f->m);
	if (r < 0)
		goto fail;
	/* now, so that a directory we cannot write is said at start, not in a minute */
	f->st = &none;
	r = metricsfile_replace(f->path, fill, f);
	f->st = NULL;
	if (r < 0)
		goto fail;
	*ret = (struct sink_tap){
		.name = f->name,
		.timeline = metrics_timeline,
		.stats = metrics_stats,
		.close = metrics_close,
		.ctx = f,
	};
	return 0;
fail:
	log_error_errno(r, "%s: cannot write it", f->name);
	metrics_free(f->m);
	free(f);
	return r;
}
