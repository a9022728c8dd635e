/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NETNS_H
#define NATTRACED_NETNS_H

/*
 * --netns: trace inside another network namespace. The whole process
 * enters it at start, before it opens any socket or starts a thread, so
 * that everything it opens later is that namespace's: the trace and
 * ruleset sockets, libnftables, conntrack, set and route checks, interface
 * names (if_indextoname), /proc/net and /proc/sys/net (looked up in the
 * opener's namespace at open time). The mount namespace stays the
 * caller's, and with it sysfs: /sys/class/net lists the caller's
 * interfaces, not the target's, so ask netlink or /proc/sys/net instead.
 */
#include <stddef.h>

/* Longest resolved path: /run/netns/NAME, /proc/PID/ns/net or a path. */
#define NETNS_PATH_MAX 4096

enum netns_kind {
	NETNS_NAME, /* an `ip netns` name: /run/netns/NAME */
	NETNS_PID,  /* a process: /proc/PID/ns/net */
	NETNS_PATH, /* a namespace file or a bind mount of one */
};

/*
 * Where arg names a namespace: a path if it holds a '/', a PID if it is
 * all digits, else an `ip netns` name. Pure. Returns the kind, or -EINVAL
 * (empty, ".", "..", a PID of 0 or beyond pid_t, too long) with the
 * problem in err.
 */
int netns_resolve(const char *arg, char *path, size_t pathlen, char *err, size_t errlen);

/*
 * Enter the network namespace arg names (netns_resolve()), for the
 * calling thread: call it before any other thread exists, and before any
 * socket is opened. Checks that the file is a network namespace
 * (NS_GET_NSTYPE) before setns(). Returns 0; -errno with a message naming
 * arg, its path and the reason in err: -ENOENT (no such namespace or
 * process), -EINVAL (not a network namespace), -EPERM (no CAP_SYS_ADMIN).
 * On failure nothing changed.
 */
int netns_enter(const char *arg, char *err, size_t errlen);

#endif
