/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clonetool: the clone of the current network namespace (src/replay), for
 * tests/e2e/clone.sh.
 *   clonetool [--ruleset FILE] [--change TEXT]... [--time] -- CMD ARGS...
 *       CMD runs inside the clone; clonetool exits with its status
 *   clonetool --peer -- CMD ARGS...     CMD runs in the peer namespace
 *   clonetool --map                     "family table clonehandle realhandle"
 *   --flush-conntrack empties the clone's conntrack table before CMD
 *   --reset undoes the changes (clone_reset_ruleset) before CMD or --map
 * Exit 2 with the error when the clone is refused or a change fails.
 * --time prints clone_new's milliseconds on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clone.h"

#define MAX_CHANGES 16

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run(const struct clone *c, bool peer, char **argv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if ((peer ? clone_enter_peer(c) : clone_enter(c)) < 0) {
			perror("clonetool: setns");
			_exit(2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "clonetool: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	const char *changes[MAX_CHANGES];
	struct clone_opts o = { .skip_table = "nattraced" };
	bool peer = false, map = false, timing = false, reset = false, flush = false;
	size_t nchanges = 0;
	struct clone *c;
	char err[4096];
	int i, r;
	double t0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--ruleset") == 0 && i + 1 < argc)
			o.ruleset_file = argv[++i];
		else if (strcmp(argv[i], "--change") == 0 && i + 1 < argc && nchanges < MAX_CHANGES)
			changes[nchanges++] = argv[++i];
		else if (strcmp(argv[i], "--skip-table") == 0 && i + 1 < argc)
			o.skip_table = argv[++i];
		else if (strcmp(argv[i], "--peer") == 0)
			peer = true;
		else if (strcmp(argv[i], "--map") == 0)
			map = true;
		else if (strcmp(argv[i], "--flush-conntrack") == 0)
			flush = true;
		else if (strcmp(argv[i], "--reset") == 0)
			reset = true;
		else if (strcmp(argv[i], "--time") == 0)
			timing = true;
		else {
			fprintf(stderr, "clonetool: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (!map && i + 1 >= argc) {
		fprintf(stderr,
			"usage: clonetool [--ruleset FILE] [--change TEXT] [--reset] [--peer] "
			"[--map] [--time] -- CMD ARGS...\n");
		return 2;
	}
	t0 = now_ms();
	r = clone_new(&o, &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "clonetool: %s\n", err);
		return 2;
	}
	if (timing)
		fprintf(stderr, "clonetool: clone_new %.1f ms\n", now_ms() - t0);
	for (size_t k = 0; k < nchanges; k++) {
		r = clone_apply_change(c, changes[k], err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "clonetool: %s\n", err);
			clone_free(c);
			return 2;
		}
	}
	if (reset && clone_reset_ruleset(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "clonetool: %s\n", err);
		clone_free(c);
		return 2;
	}
	if (flush && (r = clone_flush_conntrack(c)) < 0) {
		fprintf(stderr, "clonetool: conntrack flush: %s\n", strerror(-r));
		clone_free(c);
		return 2;
	}
	if (map) {
		const char *table;
		uint64_t ch, real;
		uint8_t family;

		for (size_t k = 0; clone_map_entry(c, k, &family, &table, &ch, &real); k++)
			printf("%u %s %llu %llu\n", family, table, (unsigned long long)ch,
			       (unsigned long long)real);
	}
	r = i + 1 < argc ? run(c, peer, argv + i + 1) : 0;
	clone_free(c);
	return r;
}
