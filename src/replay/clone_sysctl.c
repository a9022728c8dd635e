/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysctls that change a packet's path, read in the source and
 * written in the clone. /proc/sys/net is the namespace of the thread
 * that opens the file, so each file is opened after the setns() that
 * picks its side. A value the clone cannot take, where it differs from
 * the clone's own, refuses the clone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clone.h"
#include "clone_int.h"

#define SYSCTL_PATH_MAX 128
#define SYSCTL_VAL_MAX	64

struct clone_sysctl {
	char path[SYSCTL_PATH_MAX]; /* under /proc/sys/net/ */
	char value[SYSCTL_VAL_MAX];
	bool netfilter; /* written after the ruleset loaded conntrack */
};

struct clone_sysctls {
	struct clone_sysctl *v;
	size_t n, cap;
};

/* Globals first: ip_forward and conf/all rewrite every device's value. */
static const char *const globals[] = {
	"ipv4/ip_forward",
	"ipv4/ip_forward_use_pmtu",
	"ipv4/fib_multipath_hash_policy",
	"ipv4/fib_multipath_use_neigh",
	"ipv6/fib_multipath_hash_policy",
};

static const char *const conf4[] = {
	"forwarding",	  "rp_filter",		 "accept_local",  "route_localnet",
	"src_valid_mark", "accept_source_route", "bc_forwarding", "disable_policy",
};

static const char *const conf6[] = {
	"forwarding",
	"disable_ipv6",
	"accept_source_route",
	"force_forwarding",
};

/* Conntrack's: how it judges the replayed packet's state. */
static const char *const netfilter[] = {
	"netfilter/nf_conntrack_tcp_loose",
	"netfilter/nf_conntrack_tcp_be_liberal",
	"netfilter/nf_conntrack_tcp_ignore_invalid_rst",
	"netfilter/nf_conntrack_checksum",
};

static int read_value(const char *path, char *val, size_t len)
{
	char full[SYSCTL_PATH_MAX + 16];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' '))
		n--;
	val[n] = '\0';
	return 0;
}

static int add(struct clone_sysctls *s, const char *path, bool nf)
{
	struct clone_sysctl *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *v = realloc(s->v, cap * sizeof(*s->v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	if ((size_t)snprintf(e->path, sizeof(e->path), "%s", path) >= sizeof(e->path))
		return 0;
	e->netfilter = nf;
	/* missing in the source (no such knob, module not loaded): nothing to copy */
	if (read_value(e->path, e->value, sizeof(e->value)) == 0)
		s->n++;
	return 0;
}

static int add_conf(struct clone_sysctls *s, const char *dev)
{
	char path[SYSCTL_PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < sizeof(conf4) / sizeof(conf4[0]) && r == 0; i++) {
		snprintf(path, sizeof(path), "ipv4/conf/%s/%s", dev, conf4[i]);
		r = add(s, path, false);
	}
	for (size_t i = 0; i < sizeof(conf6) / sizeof(conf6[0]) && r == 0; i++) {
		snprintf(path, sizeof(path), "ipv6/conf/%s/%s", dev, conf6[i]);
		r = add(s, path, false);
	}
	return r;
}

int clone_sysctls_read(const struct clone *c, struct clone_sysctls **ret)
{
	struct clone_sysctls *s = calloc(1, sizeof(*s));
	int r = 0;

	*ret = NULL;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]) && r == 0; i++)
		r = add(s, globals[i], false);
	if (r == 0)
		r = add_conf(s, "all");
	if (r == 0)
		r = add_conf(s, "default");
	for (size_t i = 0; i < c->nlinks && r == 0; i++)
		r = add_conf(s, c->links[i].name);
	for (size_t i = 0; i < sizeof(netfilter) / sizeof(netfilter[0]) && r == 0; i++)
		r = add(s, netfilter[i], true);
	if (r < 0) {
		clone_sysctls_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct clone_sysctls *clone_sysctls_free(struct clone_sysctls *s)
{
	if (s) {
		free(s->v);
		free(s);
	}
	return NULL;
}

static int write_value(const char *path, const char *val)
{
	char full[SYSCTL_PATH_MAX + 16];
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "/proc/sys/net/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EIO;
}

/* In the clone: every value read in the source that differs from the clone's. */
int clone_sysctls_write(const struct clone_sysctls *s, bool nf, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct clone_sysctl *e = &s->v[i];
		char now[SYSCTL_VAL_MAX];
		int r;

		if (e->netfilter != nf)
			continue;
		if (read_value(e->path, now, sizeof(now)) == 0 && strcmp(now, e->value) == 0)
			continue;
		r = write_value(e->path, e->value);
		if (r < 0) {
			char *p, name[SYSCTL_PATH_MAX + 8];

			snprintf(name, sizeof(name), "net/%s", e->path);
			for (p = name; *p; p++)
				if (*p == '/')
					*p = '.';
			snprintf(err, errlen, "cannot set sysctl %s = %s in the clone: %s", name,
				 e->value, strerror(-r));
			return r;
		}
	}
	return 0;
}

int clone_sysctl_quiet(char *err, size_t errlen)
{
	/* IN6_ADDR_GEN_MODE_NONE: no link-local address, so no DAD, RS or MLD of its own */
	static const char *const paths[] = {
		"ipv6/conf/default/addr_gen_mode",
		"ipv6/conf/default/accept_dad",
		"ipv6/conf/default/accept_ra",
	};
	static const char *const vals[] = { "1", "0", "0" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int r = write_value(paths[i], vals[i]);

		if (r < 0 && r != -ENOENT) {
			snprintf(err, errlen, "cannot set net.%s in a new namespace: %s", paths[i],
				 strerror(-r));
			return r;
		}
	}
	return 0;
}
