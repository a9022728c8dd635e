/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --check FILE: one expectation per line ("tcp A:P -> B:Q iif wan0 syn:
 * accept"), each packet replayed in one clone of the namespace (or of
 * --ruleset), conntrack flushed between them. One result per line, a
 * JUnit report for CI, and the exit status: 0 all passed, 1 one failed,
 * 2 a bad file or a clone refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "checkreport.h"
#include "jsonw.h"
#include "clock.h"
#include "daemon.h"
#include "journal.h"
#include "log.h"
#include "nattraced.h"
#include "replay_int.h"
#include "sink.h"

/* Expectations per file: a CI check, not a traffic generator. */
#define CHECK_MAX_LINES	    10000
#define CHECK_FILE_MAX	    (4 << 20)
/* MESSAGE_ID of a --check result's journal entry (contrib/systemd/nattraced.catalog) */
#define CHECK_JOURNAL_MSGID "8c1e4f2b6d0a4b9f8e3c7a5d1f2e6b40"

struct expectations {
	struct expectation *v;
	size_t n;
};

/* Every line parsed before anything is built: a bad file changes nothing. */
static int read_expectations(const char *path, struct expectations *ret)
{
	char *text = replay_read_file(path, CHECK_FILE_MAX), *line, *next;
	unsigned int lineno = 0;
	int status = GO_ON;

	if (!text) {
		fprintf(stderr, "nattraced: --check %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	for (line = text; line && status == GO_ON; line = next) {
		char err[REPLAY_ERR_MAX];
		struct expectation e;
		int r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		r = expect_parse_line(line, lineno, &e, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "nattraced: %s:%u: %s\n", path, lineno, err);
			status = EXIT_USAGE;
		} else if (r > 0 && ret->n == CHECK_MAX_LINES) {
			fprintf(stderr, "nattraced: %s:%u: more than %d expectations\n", path,
				lineno, CHECK_MAX_LINES);
			status = EXIT_USAGE;
		} else if (r > 0) {
			if (ret->n % 64 == 0) {
				struct expectation *nv =
					realloc(ret->v, (ret->n + 64) * sizeof(*nv));

				if (!nv) {
					status = EXIT_RUNTIME;
					break;
				}
				ret->v = nv;
			}
			ret->v[ret->n++] = e;
		}
	}
	free(text);
	if (status == GO_ON && !ret->n) {
		fprintf(stderr, "nattraced: %s: no expectation in it\n", path);
		status = EXIT_USAGE;
	}
	return status;
}

/* The clone's outcome in the check's terms; check_judge() compares. */
static void judge(const struct replay_outcome *o, struct check_result *res)
{
	res->known = o->verdict == REPLAY_ACCEPT || o->verdict == REPLAY_DROP ||
		     o->verdict == REPLAY_REJECT;
	res->verdict = o->verdict == REPLAY_ACCEPT   ? EXPECT_ACCEPT
		       : o->verdict == REPLAY_REJECT ? EXPECT_REJECT
						     : EXPECT_DROP;
	res->by_policy = o->by_policy;
	res->has_handle = o->has_handle;
	res->handle = o->handle;
	replay_outcome_str(o, res->actual, sizeof(res->actual));
	check_judge(res);
}

static void result_text(FILE *out, const void *ctx)
{
	check_text_line(out, ctx);
}

static void result_json(struct jsonw *w, const void *ctx)
{
	check_json(w, ctx);
}

static int check_journal(const void *ctx)
{
	const struct check_result *res = ctx;
	char line[64], passed[32];
	const char *fields[] = { line, passed, NULL };

	snprintf(line, sizeof(line), "NATTRACE_CHECK_LINE=%u", res->exp->line);
	snprintf(passed, sizeof(passed), "NATTRACE_CHECK_PASSED=%d", res->passed);
	return journal_message(res->passed ? LOG_INFO : LOG_WARNING, CHECK_JOURNAL_MSGID, fields,
			       "check line %u %s: %s: %s", res->exp->line,
			       res->passed ? "passed" : "failed", res->exp->text,
			       res->passed ? res->actual : res->detail);
}

static int write_junit(const char *path, const char *suite, const struct check_result *res,
		       size_t n, double seconds)
{
	FILE *f = fopen(path, "we");
	int r;

	if (!f) {
		fprintf(stderr, "nattraced: --junit %s: %s\n", path, strerror(errno));
		return -errno;
	}
	junit_write(f, suite, res, n, seconds);
	r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		fprintf(stderr, "nattraced: --junit %s: %s\n", path, strerror(-r));
	return r;
}

/* Replay each expectation's packet; the number that failed, or -1. */
static long run_all(struct replayer *r, const struct expectations *ex, struct check_result *res)
{
	long failed = 0;

	for (size_t i = 0; i < ex->n; i++) {
		struct replay_outcome out;
		char err[1024];
		uint64_t t0 = now_ns();

		res[i] = (struct check_result){ .exp = &ex->v[i] };
		if (replayer_run(r, &ex->v[i].pkt, &out, err, sizeof(err)) < 0) {
			fprintf(stderr, "nattraced: %s:%u: %s\n", "check", ex->v[i].line, err);
			return -1;
		}
		judge(&out, &res[i]);
		res[i].seconds = (double)(now_ns() - t0) / 1e9;
		failed += !res[i].passed;
		sink_result(replayer_sink(r), &(struct sink_result){ .text = result_text,
								     .json = result_json,
								     .journal = check_journal,
								     .ctx = &res[i] });
		sink_flush(replayer_sink(r));
	}
	return failed;
}

int check_main(struct options *opts, int argc, char **argv)
{
	struct expectations ex = {};
	struct check_result *res = NULL;
	struct replayer *r = NULL;
	uint64_t t0 = now_ns();
	char err[1024];
	long failed = -1;
	int status;
	char *change = replay_change_text(opts, &status);

	if (status)
		return status;
	status = read_expectations(opts->check, &ex);
	if (status == GO_ON && !(res = calloc(ex.n, sizeof(*res))))
		status = EXIT_RUNTIME;
	if (status == GO_ON)
		status = replay_start(opts, argc, argv, &r);
	if (status == GO_ON && change && replayer_change(r, change, err, sizeof(err)) < 0) {
		fprintf(stderr, "nattraced: --change refused: %s\n", err);
		status = EXIT_USAGE;
	}
	if (status == GO_ON) {
		failed = run_all(r, &ex, res);
		if (failed < 0)
			status = EXIT_RUNTIME;
	}
	if (status == GO_ON)
		log_notice("%s: %zu expectations, %ld failed (%.2f s)", opts->check, ex.n, failed,
			   (double)(now_ns() - t0) / 1e9);
	if (status == GO_ON && opts->junit &&
	    write_junit(opts->junit, opts->check, res, ex.n, (double)(now_ns() - t0) / 1e9) < 0)
		status = EXIT_RUNTIME;
	if (replayer_free(r) && status == GO_ON)
		status = EXIT_RUNTIME;
	free(change);
	free(res);
	free(ex.v);
	if (status != GO_ON)
		return status;
	return failed ? EXIT_CHECK_FAILED : EXIT_OK;
}
