/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --verify: a live hint's command (today the set-membership hint's `nft
 * add element`) replayed with the packet in a clone of the namespace,
 * so the hint says whether the change is enough.
 *
 * The clone is kept warm in a child process forked before any thread:
 * the replay machinery moves its process into the clone, and the live
 * daemon must stay where it is. The child dies with us (PDEATHSIG), and
 * with it the clone. It rebuilds the clone when the source's ruleset
 * (other than our own table), links, addresses, routes or rules changed,
 * as the kernel's notifications say. At most one replay a second; the
 * daemon waits for it at most VERIFY_WAIT_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>

#include "clock.h"
#include "daemon.h"
#include "explain_text.h"
#include "format.h"
#include "log.h"
#include "replay.h"
#include "verifier.h"

#define VERIFY_INTERVAL_NS (1000ull * 1000 * 1000)
#define VERIFY_WAIT_MS	   2000
#define VERIFY_START_MS	   10000

struct verify_req {
	uint32_t seq;
	struct replay_packet pkt;
	char change[1024];
};

struct verify_resp {
	uint32_t seq;
	int status; /* 0, or -errno with err; the first message: ready or refused */
	struct replay_outcome out;
	char err[256];
};

struct verifier {
	pid_t pid;
	int fd;
	bool ready;
	uint32_t seq;
	uint64_t next_ns;
	struct verify_stats st;
};

/* ---- the child ---- */

/* Subscribed in the source: anything but our own table makes the clone stale. */
struct watch {
	struct mnl_socket *rt, *nft;
	const char *own_table;
};

static struct mnl_socket *watch_open(int bus, unsigned int groups)
{
	struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* The table an nf_tables notification is about: attribute 1 of each object. */
static bool about_own_table(const struct nlmsghdr *nlh, const char *own)
{
	const struct nlattr *a;

	if (nlh->nlmsg_type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN))
		return true; /* the end of a batch: says nothing itself */
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == 1 && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return strcmp(mnl_attr_get_str(a), own) == 0;
		break;
	}
	return false;
}

/* Read what came; true if something but our own table changed. */
static bool watch_stale(struct watch *w)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool stale = false;
	ssize_t n;

	while (w->rt && (n = mnl_socket_recvfrom(w->rt, buf, sizeof(buf))) != 0)
		if (n > 0 || errno == ENOBUFS)
			stale = true;
		else
			break;
	while (w->nft && (n = mnl_socket_recvfrom(w->nft, buf, sizeof(buf))) != 0) {
		const struct nlmsghdr *nlh = (const void *)buf;
		int len = (int)n;

		if (n < 0) {
			stale |= errno == ENOBUFS;
			if (errno != ENOBUFS)
				break;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (!about_own_table(nlh, w->own_table))
				stale = true;
	}
	return stale;
}

static void watch_open_all(struct watch *w, const char *own)
{
	w->own_table = own;
	w->rt = watch_open(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
						  RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
						  RTMGRP_IPV4_RULE);
	w->nft = watch_open(NETLINK_NETFILTER, 1u << (NFNLGRP_NFTABLES - 1));
	if (w->rt) {
		int g = RTNLGRP_IPV6_RULE;

		mnl_socket_setsockopt(w->rt, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g));
	}
}

static int child_build(const struct options *o, int srcfd, struct replayer **r, char *err,
		       size_t errlen)
{
	/* a rebuild: back in the source first, the copy is made from there */
	if (srcfd >= 0 && setns(srcfd, CLONE_NEWNET) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot return to the namespace: %s (needs CAP_SYS_ADMIN)",
			 strerror(e));
		return -e;
	}
	/* the daemon renders; the child only answers */
	return replayer_new(o, false, 0, NULL, r, err, errlen);
}

static void child_serve(struct replayer *r, const struct options *o, int fd, int srcfd,
			struct watch *w)
{
	struct verify_req req;
	struct verify_resp resp;

	while (recv(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
		memset(&resp, 0, sizeof(resp));
		resp.seq = req.seq;
		req.change[sizeof(req.change) - 1] = '\0';
		if (watch_stale(w)) {
			replayer_free(r);
			r = NULL;
			resp.status = child_build(o, srcfd, &r, resp.err, sizeof(resp.err));
		}
		if (resp.status == 0)
			resp.status = replayer_change(r, req.change, resp.err, sizeof(resp.err));
		if (resp.status == 0)
			resp.status =
				replayer_run(r, &req.pkt, &resp.out, resp.err, sizeof(resp.err));
		if (send(fd, &resp, sizeof(resp), 0) < 0 || !r)
			break;
	}
	replayer_free(r);
}

static _Noreturn void child_main(const struct options *opts, int fd, pid_t parent)
{
	struct options o = *opts;
	struct verify_resp resp = {};
	struct replayer *r = NULL;
	struct watch w = {};
	int srcfd, null;

	/* the clone goes with us, and we go with the daemon */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* the daemon says what matters; our output and messages go nowhere */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	o.output = OUTPUT_JSON;
	o.pcap = o.metrics_file = NULL;
	o.summary = o.summary_only = o.follow = o.verify = false;
	o.nat_log = NAT_LOG_OFF;
	srcfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	watch_open_all(&w, o.table);
	/* the first build is made from here */
	resp.status = srcfd < 0 ? -errno : child_build(&o, -1, &r, resp.err, sizeof(resp.err));
	if (send(fd, &resp, sizeof(resp), 0) == (ssize_t)sizeof(resp) && resp.status == 0)
		child_serve(r, &o, fd, srcfd, &w);
	else
		replayer_free(r);
	_exit(0);
}

/* ---- the daemon's side ---- */

int verifier_start(const struct options *opts, struct verifier **ret)
{
	struct verifier *v = calloc(1, sizeof(*v));
	struct verify_resp resp;
	pid_t parent = getpid();
	int sv[2];

	if (!v)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(v);
		return -errno;
	}
	fflush(NULL);
	v->pid = fork();
	if (v->pid == 0) {
		close(sv[0]);
		child_main(opts, sv[1], parent);
	}
	close(sv[1]);
	v->fd = sv[0];
	*ret = v;
	if (v->pid < 0) {
		log_warning_errno(
			-errno, "--verify: cannot start the replay process, hints stay unverified");
		return 0;
	}
	if (poll(&(struct pollfd){ .fd = v->fd, .events = POLLIN }, 1, VERIFY_START_MS) <= 0 ||
	    recv(v->fd, &resp, sizeof(resp), 0) != (ssize_t)sizeof(resp)) {
		log_warning("--verify: the clone was not ready in %d s, hints stay unverified",
			    VERIFY_START_MS / 1000);
		return 0;
	}
	if (resp.status < 0) {
		log_warning(
			"--verify: cannot build a clone of the namespace: %s; hints stay unverified",
			resp.err);
		return 0;
	}
	v->ready = true;
	return 0;
}

struct verifier *verifier_free(struct verifier *v)
{
	if (!v)
		return NULL;
	if (v->fd >= 0)
		close(v->fd);
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, NULL, 0);
	}
	free(v);
	return NULL;
}

const struct verify_stats *verifier_stats(const struct verifier *v)
{
	return &v->st;
}

/* The packet as the timeline's JSON record has it: the one way packets are rebuilt. */
static int packet_of(const struct timeline *tl, const struct explain *ex, struct replay_packet *ret,
		     char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	format_json_line(f, tl, ex);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	r = replay_packet_from_json(buf, ret, err, errlen);
	free(buf);
	return r;
}

static void annotate(struct explain_hint *h, const struct replay_outcome *o)
{
	char line[EXPLAIN_VERIFIED_MAX];

	/* accepted: where it went; else what stopped it */
	if (o->verdict == REPLAY_ACCEPT)
		snprintf(line, sizeof(line), "%s", o->where[0] ? o->where : "accept");
	else
		replay_outcome_str(o, line, sizeof(line));
	h->verified = o->verdict == REPLAY_ACCEPT ? EXPLAIN_VERIFIED : EXPLAIN_NOT_ENOUGH;
	snprintf(h->verified_verdict, sizeof(h->verified_verdict), "%s",
		 replay_verdict_name(o->verdict));
	snprintf(h->verified_cause, sizeof(h->verified_cause), "%s", line);
}

/* Send and wait for our answer; an old one that came late is skipped. */
static int ask(struct verifier *v, struct verify_req *req, struct verify_resp *resp)
{
	uint64_t deadline = now_ns() + VERIFY_WAIT_MS * 1000000ull;

	req->seq = ++v->seq;
	if (send(v->fd, req, sizeof(*req), MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		uint64_t now = now_ns();

		if (now >= deadline || poll(&(struct pollfd){ .fd = v->fd, .events = POLLIN }, 1,
					    (int)((deadline - now) / 1000000 + 1)) <= 0)
			return -ETIMEDOUT;
		if (recv(v->fd, resp, sizeof(*resp), 0) != (ssize_t)sizeof(*resp))
			return -EPIPE;
		if (resp->seq == req->seq)
			return resp->status;
	}
}

void verifier_annotate(struct verifier *v, const struct timeline *tl, struct explain *ex)
{
	struct explain_hint *h = NULL;
	struct verify_req req = {};
	struct verify_resp resp = {};
	char err[256];
	uint64_t now;
	int r;

	for (unsigned int i = 0; i < ex->n_hints && !h; i++)
		if (ex->hints[i].suggest &&
		    explain_hint_command(&ex->hints[i], req.change, sizeof(req.change)) > 0)
			h = &ex->hints[i];
	if (!h || !v->ready)
		return;
	/* the hint prints a shell command; the clone takes nft's own words */
	if (strncmp(req.change, "nft ", 4) == 0)
		memmove(req.change, req.change + 4, strlen(req.change + 4) + 1);
	now = now_ns();
	if (now < v->next_ns) {
		v->st.limited++;
		return;
	}
	v->next_ns = now + VERIFY_INTERVAL_NS;
	if (packet_of(tl, ex, &req.pkt, err, sizeof(err)) < 0) {
		v->st.failed++;
		return;
	}
	r = ask(v, &req, &resp);
	if (r < 0) {
		if (v->st.failed++ == 0)
			log_warning("--verify: a replay failed: %s", r == -ETIMEDOUT
									     ? "no answer in time"
								     : resp.err[0] ? resp.err
										   : strerror(-r));
		if (r == -EPIPE)
			v->ready = false;
		return;
	}
	v->st.replayed++;
	v->st.not_enough += resp.out.verdict != REPLAY_ACCEPT;
	annotate(h, &resp.out);
}
