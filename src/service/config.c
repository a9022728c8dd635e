/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file: the long options, one "key = value" per line.
 * Pure: no logging, no global state but getopt's (through options_parse).
 *
 * The file becomes "--key=value" arguments placed before the command
 * line's, so getopt sees the command line last and it wins, and both go
 * through the very same checks in options.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "strbuf.h"

struct config_entry {
	const char *key; /* from config_keys[] */
	char *value;
	char *arg; /* "--key=value" */
	unsigned int line;
};

struct config {
	struct config_entry entries[CONFIG_ENTRIES_MAX];
	unsigned int n;
	char **argv; /* merged by config_options() */
};

/* The long options a file may set; not config, help or version. */
static const char *const config_keys[] = {
	"match",  "rate",  "count",	   "timeout",	 "output",	   "table",
	"family", "hooks", "max-inflight", "max-events", "stats-interval", "nat-log",
	"netns",  "pcap",  "metrics-file", "summary",	 "color",
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (unsigned int i = 0; i < c->n; i++) {
		free(c->entries[i].value);
		free(c->entries[i].arg);
	}
	free(c->argv);
	free(c);
	return NULL;
}

const char *config_get(const struct config *c, const char *key)
{
	for (unsigned int i = 0; c && i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return c->entries[i].value;
	return NULL;
}

unsigned int config_line(const struct config *c, const char *key)
{
	for (unsigned int i = 0; c && i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return c->entries[i].line;
	return 0;
}

const char *config_match_place(const struct config *c, const char *path, const char *match,
			       char *buf, size_t len)
{
	const char *v = config_get(c, "match");

	if (len)
		buf[0] = '\0';
	/* the command line wins: only the file's own value is placed there */
	if (path && v && match && strcmp(v, match) == 0)
		snprintf(buf, len, "%s:%u: ", path, config_line(c, "match"));
	return buf;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *known_key(const char *s, size_t n)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strlen(config_keys[i]) == n && strncmp(s, config_keys[i], n) == 0)
			return config_keys[i];
	return NULL;
}

/*
 * Check one value as its option would be checked on a command line: an
 * options_parse() of "--match=- --key=value" (match is checked when the
 * trace table is installed; here only that it is not empty).
 */
static int check_value(const char *arg, char *msg, size_t msglen)
{
	char *argv[] = { "nattraced", "--match=-", (char *)arg, NULL };
	struct options o;

	return options_parse(3, argv, &o, msg, msglen);
}

/* One line, without its newline; 0 if it is blank or a comment. */
static int parse_line(struct config *c, const char *name, unsigned int lineno, char *line,
		      char *err, size_t errlen)
{
	struct config_entry *e;
	const char *key;
	char *p = line, *eq, *end, msg[512];
	size_t klen;
	int n;

	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	eq = strchr(p, '=');
	if (!eq)
		return strbuf_error(err, errlen, "%s:%u: expected 'key = value', got '%.64s'", name,
				    lineno, p);
	for (end = eq; end > p && is_blank(end[-1]); end--)
		;
	klen = (size_t)(end - p);
	key = known_key(p, klen);
	if (!key)
		return strbuf_error(
			err, errlen,
			"%s:%u: unknown key '%.*s' (use match, rate, count, timeout, output, "
			"table, family, hooks, max-inflight, max-events, stats-interval, nat-log, netns)",
			name, lineno, (int)(klen > 64 ? 64 : klen), p);
	for (unsigned int i = 0; i < c->n; i++)
		if (c->entries[i].key == key)
			return strbuf_error(err, errlen,
					    "%s:%u: '%s' is set twice (first on line %u)", name,
					    lineno, key, c->entries[i].line);
	p = eq + 1;
	while (is_blank(*p))
		p++;
	for (end = p + strlen(p); end > p && is_blank(end[-1]); end--)
		;
	*end = '\0';
	if (*p == '\0')
		return strbuf_error(err, errlen, "%s:%u: '%s' has no value", name, lineno, key);
	if (c->n >= CONFIG_ENTRIES_MAX)
		return strbuf_error(err, errlen, "%s:%u: too many settings", name, lineno);

	e = &c->entries[c->n];
	e->key = key;
	e->line = lineno;
	e->value = strdup(p);
	n = asprintf(&e->arg, "--%s=%s", key, p);
	if (!e->value || n < 0) {
		free(e->value);
		e->value = NULL;
		e->arg = NULL;
		return -ENOMEM;
	}
	c->n++;
	/* "--rate: '5/minutes' is not ..." reads as "rate: ..." in a file */
	if (check_value(e->arg, msg, sizeof(msg)) < 0)
		return strbuf_error(err, errlen, "%s:%u: %s", name, lineno,
				    strncmp(msg, "--", 2) == 0 ? msg + 2 : msg);
	return 0;
}

/*
 * Control characters from a file go back to a terminal in error messages:
 * "unknown key 'x^[]0;owned^G'" would retitle it, ^[[2J clear it. Every
 * byte below 0x20 and DEL becomes \xNN (the message text itself has none).
 */
static void escape_controls(char *err, size_t errlen)
{
	char out[1024];
	size_t o = 0;

	if (!err || !errlen)
		return;
	for (const unsigned char *p = (const unsigned char *)err; *p && o + 5 < sizeof(out); p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
	snprintf(err, errlen, "%s", out);
}

/* The text of a whole file, already bounded by CONFIG_SIZE_MAX. */
static int parse_text(struct config *c, const char *name, char *text, size_t len, char *err,
		      size_t errlen)
{
	unsigned int lineno = 0;
	char *line = text, *end = text + len;
	int r;

	while (line < end) {
		char *eol = memchr(line, '\n', (size_t)(end - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);

		lineno++;
		if (n > CONFIG_LINE_MAX)
			return strbuf_error(err, errlen, "%s:%u: line longer than %d bytes", name,
					    lineno, CONFIG_LINE_MAX);
		if (memchr(line, '\0', n))
			return strbuf_error(err, errlen, "%s:%u: NUL byte in line", name, lineno);
		line[n] = '\0';
		r = parse_line(c, name, lineno, line, err, errlen);
		if (r < 0)
			return r;
		line += n + 1;
	}
	return 0;
}

int config_parse(const char *name, FILE *in, struct config **ret, char *err, size_t errlen)
{
	struct config *c;
	char *text;
	size_t len;
	int r;

	/*
	 * At most CONFIG_SIZE_MAX + 1 bytes are read, whatever in is: a
	 * stream that never ends (/dev/zero) is refused, not buffered.
	 */
	text = malloc(CONFIG_SIZE_MAX + 2);
	c = calloc(1, sizeof(*c));
	if (!text || !c) {
		r = -ENOMEM;
		goto out;
	}
	len = fread(text, 1, CONFIG_SIZE_MAX + 1, in);
	if (ferror(in)) {
		r = strbuf_error(err, errlen, "%s: read error", name);
		goto out;
	}
	if (len > CONFIG_SIZE_MAX) {
		r = strbuf_error(err, errlen,
				 "%s: larger than %d bytes, not a nattraced configuration", name,
				 CONFIG_SIZE_MAX);
		goto out;
	}
	text[len] = '\0';
	r = parse_text(c, name, text, len, err, errlen);
out:
	free(text);
	if (r < 0) {
		escape_controls(err, errlen);
		config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

int config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd, r;

	/*
	 * O_NONBLOCK: opening a FIFO for reading would wait for a writer,
	 * at start and on SIGHUP, with the signals that could stop us
	 * blocked. Only a regular file is read; its size is bounded.
	 */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		strbuf_error(err, errlen, "cannot read configuration %s: %s", path, strerror(-r));
		goto out_escape;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		strbuf_error(err, errlen, "cannot read configuration %s: %s", path, strerror(-r));
		close(fd);
		goto out_escape;
	}
	if (!S_ISREG(st.st_mode)) {
		r = strbuf_error(err, errlen, "configuration %s is %s: only a regular file is read",
				 path, file_kind(st.st_mode));
		close(fd);
		goto out_escape;
	}
	if (st.st_size > CONFIG_SIZE_MAX) {
		r = strbuf_error(
			err, errlen,
			"configuration %s is larger than %d bytes, not a nattraced configuration",
			path, CONFIG_SIZE_MAX);
		close(fd);
		goto out_escape;
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		strbuf_error(err, errlen, "cannot read configuration %s: %s", path, strerror(-r));
		goto out_escape;
	}
	r = config_parse(path, f, ret, err, errlen);
	fclose(f);
	return r;
out_escape:
	escape_controls(err, errlen);
	return r;
}

int config_options(int argc, char **argv, struct options *ret, struct config **ret_config,
		   char *err, size_t errlen)
{
	struct config *c = NULL;
	struct options o;
	char **merged;
	int r, n = 0;

	r = options_parse(argc, argv, &o, err, errlen);
	if (r < 0) {
		escape_controls(err, errlen);
		return r;
	}
	if (o.config && !o.help && !o.version) {
		r = config_load(o.config, &c, err, errlen);
		if (r < 0)
			return r;
		/* argv[0], the file's arguments, the rest of the command line */
		merged = calloc((size_t)argc + c->n + 1, sizeof(*merged));
		if (!merged) {
			config_free(c);
			return -ENOMEM;
		}
		merged[n++] = argv[0];
		for (unsigned int i = 0; i < c->n; i++)
			merged[n++] = c->entries[i].arg;
		for (int i = 1; i < argc; i++)
			merged[n++] = argv[i];
		c->argv = merged;
		r = options_parse(n, merged, &o, err, errlen);
		if (r < 0) {
			escape_controls(err, errlen);
			config_free(c);
			return r;
		}
	}
	/* --nat-table, --nat-log=all, --replay and --check need no match; options_parse() said so */
	if (!o.match && !o.help && !o.version && !o.nat_table && o.nat_log != NAT_LOG_ALL &&
	    !o.replay && !o.check) {
		config_free(c);
		if (o.config)
			return strbuf_error(
				err, errlen,
				"--match is required: neither %s nor the command line sets it",
				o.config);
		return strbuf_error(err, errlen, "--match is required");
	}
	*ret = o;
	*ret_config = c;
	return 0;
}
