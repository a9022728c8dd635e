/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_CLONE_INT_H
#define NATTRACED_CLONE_INT_H

/*
 * What the clone's files share: the clone itself, one netlink exchange
 * helper, and each file's step of clone_new().
 */
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct nft_ctx;

/* A source namespace with more interfaces is refused, not half copied. */
#define CLONE_MAX_LINKS	 1024
/* Attempts at a listing the source did not change under. */
#define CLONE_LIST_TRIES 3

struct clone_link {
	char name[IF_NAMESIZE];
	uint32_t src_index;
	uint32_t clone_index;
	uint32_t peer_index;
	uint32_t mtu;
	uint32_t flags;	 /* the source's IFF_* */
	uint32_t master; /* the source's ifindex of its bridge, 0 if none */
	uint8_t mac[6];
	bool has_mac;
	bool loopback;
	bool bridge;
};

/* One rule of a dump: where it is, and its handle. */
struct clone_rule {
	const char *table; /* in the dump's string pool */
	const char *chain;
	uint64_t handle;
	uint32_t pos; /* its place in its chain, from 0 */
	uint8_t family;
};

/* A dump's rules and the names they point to. */
struct clone_rules {
	struct clone_rule *v;
	size_t n, cap;
	char **strs;
	size_t nstrs, strcap;
};

/* The clone's handle of a source rule, and back. */
struct clone_hmap {
	const char *table; /* in the clone's dump pool */
	uint64_t clone_handle;
	uint64_t real;
	uint8_t family;
};

struct clone {
	int src_fd, clone_fd, peer_fd;
	struct clone_link *links;
	size_t nlinks;
	struct nft_ctx *nft; /* made in the clone: its socket is the clone's */
	char *listing;	     /* the source ruleset as loaded; NULL with a file */
	char *ruleset_file;
	struct clone_rules src_rules; /* sorted by place */
	struct clone_rules clone_rules;
	struct clone_hmap *map;	 /* by clone handle */
	struct clone_hmap *rmap; /* by real handle */
	size_t nmap;
	struct clone_xt *xt; /* tables copied by netlink (clone_xt.c), NULL: none */
};

/* Raw copies of the messages of one dump. */
struct clone_msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

void clone_msgs_free(struct clone_msgs *m);
/* Dump req (NLM_F_DUMP set by the caller) on a new socket of bus in the current namespace. */
int clone_nl_dump(int bus, struct nlmsghdr *req, struct clone_msgs *out);
/*
 * One request with an acknowledgement on nl: 0 or -errno, the kernel's
 * extended message (if any) into err.
 */
int clone_nl_talk(struct mnl_socket *nl, struct nlmsghdr *req, char *err, size_t errlen);
struct mnl_socket *clone_nl_open(int bus);
/* The kernel's words in an error ack (extended ack), into err. */
void clone_ack_message(const struct nlmsghdr *nlh, char *err, size_t errlen);

/*
 * clone_xt.c: the tables whose compat expressions nft cannot load back,
 * taken out of c->listing and read from the source by netlink (in the
 * source), then sent to the clone as they are (in the clone).
 */
struct clone_xt;
int clone_xt_read(struct clone *c, char *err, size_t errlen);
int clone_xt_load(const struct clone *c, char *err, size_t errlen);
struct clone_xt *clone_xt_free(struct clone_xt *x);

int clone_setns(int fd);
/* Into the clone, and back to the thread's namespace before (not the source). */
int clone_visit(const struct clone *c, int *ret_back);
void clone_return(int back);
const struct clone_link *clone_link_by_src(const struct clone *c, uint32_t src_index);
const struct clone_link *clone_link_by_name(const struct clone *c, const char *name);
/* The clone's ifindex for the source's ifindex, 0 if none. */
uint32_t clone_map_ifindex(const struct clone *c, uint32_t src_index);

/* clone_links.c: read in the source, build in the clone and the peer. */
int clone_links_read(struct clone *c, char *err, size_t errlen);
int clone_links_build(struct clone *c, char *err, size_t errlen);
int clone_addrs_copy(struct clone *c, struct clone_msgs *addrs, char *err, size_t errlen);
int clone_links_up(struct clone *c, char *err, size_t errlen);

/* clone_routes.c */
int clone_routes_copy(struct clone *c, struct clone_msgs *routes, char *err, size_t errlen);
int clone_rules_copy(struct clone *c, struct clone_msgs *rules, char *err, size_t errlen);

/* clone_sysctl.c: values read in the source, written in the clone. */
struct clone_sysctls;
int clone_sysctls_read(const struct clone *c, struct clone_sysctls **ret);
int clone_sysctls_write(const struct clone_sysctls *s, bool netfilter, char *err, size_t errlen);
struct clone_sysctls *clone_sysctls_free(struct clone_sysctls *s);
/* Written in a new namespace before any interface: no address of its own. */
int clone_sysctl_quiet(char *err, size_t errlen);

/* clone_ruleset.c */
int clone_ruleset_read(struct clone *c, const char *skip_table, char *err, size_t errlen);
int clone_ruleset_load(struct clone *c, char *err, size_t errlen);
void clone_rules_free(struct clone_rules *r);
/* In the clone: text in one batch; nft's message after what into err. */
int clone_ruleset_run(struct clone *c, const char *text, const char *what, char *err,
		      size_t errlen);

#endif
