/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --netns: which file names the namespace, and entering it.
 *
 * setns(CLONE_NEWNET) moves the calling thread only; sockets keep the
 * namespace they were opened in. main calls netns_enter() before its
 * first socket, libnftables context or thread, so all of them (and the

 * receive thread, which inherits the namespace) are the target's.
 * /proc/sys/net is looked up in the opener's network namespace at open
 * time, so the route and forwarding checks read the target's values as
 * well; an fd opened before setns() keeps showing the old namespace's.
 * The mount namespace stays ours: /run/netns and /proc are the caller's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/nsfs.h>

#include "netns.h"
#include "strbuf.h"

/* Where `ip netns add NAME` bind-mounts the namespace (iproute2's NETNS_RUN_DIR). */
#define NETNS_RUN_DIR  "/run/netns"
/* iproute2 refuses longer names (NAME_MAX of a file in NETNS_RUN_DIR). */
#define NETNS_NAME_MAX 255

int netns_resolve(const char *arg, char *path, size_t pathlen, char *err, size_t errlen)
{
	size_t n = arg ? strlen(arg) : 0;
	int len;

	if (n == 0)
		return strbuf_error(err, errlen,
				    "--netns: empty (give an ip netns name, a PID or a path)");
	if (strchr(arg, '/')) {
		if (n >= pathlen || n >= NETNS_PATH_MAX)
			return strbuf_error(err, errlen, "--netns: path longer than %d bytes",
					    NETNS_PATH_MAX - 1);
		memcpy(path, arg, n + 1);
		return NETNS_PATH;
	}
	if (strspn(arg, "0123456789") == n) {
		unsigned long pid;

		errno = 0;
		pid = strtoul(arg, NULL, 10);
		/* canonical digits: /proc knows "42", not "042" */
		if (errno || pid == 0 || pid > INT_MAX)
			return strbuf_error(err, errlen, "--netns: '%.32s' is not a process id",
					    arg);
		len = snprintf(path, pathlen, "/proc/%lu/ns/net", pid);
		if (len < 0 || (size_t)len >= pathlen)
			return strbuf_error(err, errlen, "--netns: path too long");
		return NETNS_PID;
	}
	if (strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0)
		return strbuf_error(err, errlen, "--netns: '%s' is not a namespace name", arg);
	if (n > NETNS_NAME_MAX)
		return strbuf_error(err, errlen, "--netns: a namespace name is at most %d bytes",
				    NETNS_NAME_MAX);
	len = snprintf(path, pathlen, NETNS_RUN_DIR "/%s", arg);
	if (len < 0 || (size_t)len >= pathlen)
		return strbuf_error(err, errlen, "--netns: path too long");
	return NETNS_NAME;
}

/* "a mount namespace" for the types NS_GET_NSTYPE returns */
static const char *ns_type_name(int type)
{
	switch (type) {
	case CLONE_NEWNS:
		return "a mount namespace";
	case CLONE_NEWUTS:
		return "a UTS namespace";
	case CLONE_NEWIPC:
		return "an IPC namespace";
	case CLONE_NEWUSER:
		return "a user namespace";
	case CLONE_NEWPID:
		return "a PID namespace";
	case CLONE_NEWCGROUP:
		return "a cgroup namespace";
	}
	return "another kind of namespace";
}

/* The message for a namespace that cannot be opened, by what arg was; r. */
static int open_failed(const char *arg, const char *path, int kind, int r, char *err, size_t errlen)
{
	if (r == -ENOENT && kind == NETNS_NAME)
		strbuf_error(
			err, errlen,
			"--netns %s: no network namespace named '%s' (%s: %s; see ip netns list)",
			arg, arg, path, strerror(-r));
	else if (r == -ENOENT && kind == NETNS_PID)
		strbuf_error(err, errlen, "--netns %s: no process %s (%s: %s)", arg, arg, path,
			     strerror(-r));
	else
		strbuf_error(err, errlen, "--netns %s: cannot open %s: %s", arg, path,
			     strerror(-r));
	return r;
}

int netns_enter(const char *arg, char *err, size_t errlen)
{
	char path[NETNS_PATH_MAX];
	struct statfs sfs;
	struct stat st, self;
	int kind, fd, type, r = 0;

	kind = netns_resolve(arg, path, sizeof(path), err, errlen);
	if (kind < 0)
		return kind;
	/*
	 * A namespace file is a regular file (nsfs). Anything else is not
	 * opened at all: a FIFO would block, a device could do something.
	 */
	if (stat(path, &st) < 0)
		return open_failed(arg, path, kind, -errno, err, errlen);
	if (!S_ISREG(st.st_mode))
		return strbuf_error(err, errlen, "--netns %s: %s is not a network namespace", arg,
				    path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_failed(arg, path, kind, -errno, err, errlen);
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		r = strbuf_error(err, errlen,
				 "--netns %s: %s is not a network namespace (not a namespace file)",
				 arg, path);
		goto out;
	}
	/* Linux 4.11+; older kernels leave the check to setns() below */
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0 && type != CLONE_NEWNET) {
		r = strbuf_error(err, errlen, "--netns %s: %s is %s, not a network namespace", arg,
				 path, ns_type_name(type));
		goto out;
	}
	/*
	 * Already there (systemd's NetworkNamespacePath= entered it): no
	 * setns(), which would need CAP_SYS_ADMIN even for our own namespace.
	 */
	if (fstat(fd, &st) == 0 && stat("/proc/self/ns/net", &self) == 0 &&
	    st.st_dev == self.st_dev && st.st_ino == self.st_ino)
		goto out;
	if (setns(fd, CLONE_NEWNET) < 0) {
		r = -errno;
		if (r == -EINVAL)
			strbuf_error(err, errlen, "--netns %s: %s is not a network namespace", arg,
				     path);
		else
			strbuf_error(
				err, errlen, "--netns %s: cannot enter %s: %s%s", arg, path,
				strerror(-r),
				r == -EPERM
					? " (needs CAP_SYS_ADMIN; a systemd unit can use NetworkNamespacePath= instead)"
					: "");
	}
out:
	close(fd);
	return r;
}
