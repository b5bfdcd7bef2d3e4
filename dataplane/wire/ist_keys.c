/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key file loader. The file is read with read(2) into one stack buffer, not
 * through stdio, so that the only copy of the key text this code makes is
 * one it can wipe before returning.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ist_keys.h"

#define MAX_TOKENS 6

struct key_line {
	unsigned int lineno;
	bool send;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void ist_keys_wipe(struct ist_keys *ks)
{
	OPENSSL_cleanse(ks, sizeof(*ks));
	ks->mode = IST_KEYS_UNSET;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Returns 0, or the 1-based position of the first non-hex character. */
static size_t hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < 2 * n; i++)
		if (hexval(s[i]) < 0)
			return i + 1;
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return 0;
}

/*
 * Tokens of a line into tok[0 .. max-1]; returns max + 1 when there are more.
 */
static unsigned int split(char *line, char **tok, unsigned int max)
{
	unsigned int n = 0;
	char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
	return n;
}

/*
 * A token for an error message. Long ones are not shown: a key pasted in the
 * wrong place must not end up in a log.
 */
static const char *shown(const char *t)
{
	return strlen(t) <= 2 * IST_KEY_SALT_LEN ? t : "(long value, not shown)";
}

static int parse_key(const char *path, unsigned int ln, char **tok, unsigned int nt,
		     struct ist_keys *ks, struct key_line *kl, char *err, size_t errlen)
{
	struct ist_key *k;
	unsigned long id;
	size_t bad, i;
	char *end;

	if (nt < 4)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key line needs an id, a key and a salt: "
			    "write 'key <1..255> <64 hex> <8 hex> [send]'",
			    path, ln);
	if (nt > 5 || (nt == 5 && strcmp(tok[4], "send") != 0))
		return fail(err, errlen, -EINVAL,
			    "%s:%u: unexpected '%s' after the salt: the only option is 'send'",
			    path, ln, shown(strcmp(tok[4], "send") == 0 ? tok[5] : tok[4]));
	errno = 0;
	id = strtoul(tok[1], &end, 10);
	if (*end != '\0' || errno != 0 || id < 1 || id > 255 || !isdigit((unsigned char)*tok[1]))
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key id '%s' is not 1..255: number the keys 1..255", path, ln,
			    shown(tok[1]));
	for (i = 0; i < ks->n; i++)
		if (ks->key[i].id == id)
			return fail(err, errlen, -EINVAL,
				    "%s:%u: key id %lu is already used on line %u: give each key "
				    "its own id",
				    path, ln, id, kl[i].lineno);
	if (ks->n == IST_KEYS_MAX)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: more than %d keys: keep only the current key and the next one",
			    path, ln, IST_KEYS_MAX);
	k = &ks->key[ks->n];
	/* Never echo key material: say where it is wrong, not what it is. */
	if (strlen(tok[2]) != 2 * IST_KEY_LEN)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key has %zu characters, not %d hex characters: "
			    "generate one with 'openssl rand -hex %d'",
			    path, ln, strlen(tok[2]), 2 * IST_KEY_LEN, IST_KEY_LEN);
	bad = hex_decode(tok[2], k->key, IST_KEY_LEN);
	if (bad != 0)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key character %zu is not hex (0-9, a-f): "
			    "generate one with 'openssl rand -hex %d'",
			    path, ln, bad, IST_KEY_LEN);
	for (i = 0; i < IST_KEY_LEN && k->key[i] == 0; i++)
		;
	if (i == IST_KEY_LEN)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key is all zeros: generate one with 'openssl rand -hex %d'",
			    path, ln, IST_KEY_LEN);
	if (strlen(tok[3]) != 2 * IST_KEY_SALT_LEN)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: salt has %zu characters, not %d hex characters: "
			    "generate one with 'openssl rand -hex %d'",
			    path, ln, strlen(tok[3]), 2 * IST_KEY_SALT_LEN, IST_KEY_SALT_LEN);
	bad = hex_decode(tok[3], k->salt, IST_KEY_SALT_LEN);
	if (bad != 0)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: salt character %zu is not hex (0-9, a-f): "
			    "generate one with 'openssl rand -hex %d'",
			    path, ln, bad, IST_KEY_SALT_LEN);
	k->id = (uint8_t)id;
	kl[ks->n].lineno = ln;
	kl[ks->n].send = nt == 5;
	ks->n++;
	return 0;
}

static int parse(const char *path, char *text, struct ist_keys *ks, char *err, size_t errlen)
{
	struct key_line kl[IST_KEYS_MAX] = {0};
	unsigned int ln = 0, none_line = 0, nt, i, send_line;
	char *line = text, *next, *hash, *tok[MAX_TOKENS];
	int rc, n_send = 0;

	for (; line != NULL; line = next) {
		ln++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		nt = split(line, tok, MAX_TOKENS);
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "key") == 0) {
			if (none_line != 0)
				return fail(err, errlen, -EINVAL,
					    "%s:%u: key line after 'mode none' on line %u: "
					    "remove the keys or the 'mode none' line",
					    path, ln, none_line);
			rc = parse_key(path, ln, tok, nt, ks, kl, err, errlen);
			if (rc < 0)
				return rc;
		} else if (strcmp(tok[0], "mode") == 0) {
			if (nt != 2 || strcmp(tok[1], "none") != 0)
				return fail(err, errlen, -EINVAL,
					    "%s:%u: unknown mode: the only mode is 'mode none' "
					    "(unauthenticated link)",
					    path, ln);
			if (ks->n > 0 || none_line != 0)
				return fail(err, errlen, -EINVAL,
					    "%s:%u: 'mode none' must be the only directive: "
					    "remove the key lines or the 'mode none' line",
					    path, ln);
			none_line = ln;
		} else {
			return fail(err, errlen, -EINVAL,
				    "%s:%u: unknown directive '%s': lines are 'key <id> <64 hex> "
				    "<8 hex> [send]', 'mode none' or '# comment'",
				    path, ln, shown(tok[0]));
		}
	}
	if (none_line != 0) {
		ks->mode = IST_KEYS_NONE;
		return 0;
	}
	if (ks->n == 0)
		return fail(err, errlen, -EINVAL,
			    "%s: no key: add 'key 1 <openssl rand -hex 32> <openssl rand -hex 4>', "
			    "or 'mode none' for an unauthenticated link",
			    path);
	ks->send = 0;
	send_line = 0;
	for (i = 0; i < ks->n; i++) {
		if (!kl[i].send)
			continue;
		if (n_send++ > 0)
			return fail(err, errlen, -EINVAL,
				    "%s:%u: second key marked 'send' (first on line %u): "
				    "mark exactly one key 'send'",
				    path, kl[i].lineno, send_line);
		ks->send = (uint8_t)i;
		send_line = kl[i].lineno;
	}
	if (ks->n > 1 && n_send == 0)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: two keys and none marked 'send': add 'send' to the key "
			    "this appliance seals with",
			    path, kl[ks->n - 1].lineno);
	ks->mode = IST_KEYS_PSK;
	return 0;
}

int ist_keys_load(const char *path, struct ist_keys *ks, char *err, size_t errlen)
{
	char text[IST_KEYS_FILE_MAX + 2];
	size_t len = 0;
	struct stat st;
	ssize_t r;
	int fd, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(ks, 0, sizeof(*ks));
	if (path == NULL)
		return fail(err, errlen, -EINVAL, "no key file given");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		return fail(err, errlen, rc, "%s: cannot open: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return fail(err, errlen, rc, "%s: cannot stat: %s", path, strerror(-rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, -EINVAL,
			    "%s: not a regular file: name the key file itself", path);
	}
	/* Check the opened file, not the name: no window for a swap between the two. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return fail(
			err, errlen, -EACCES,
			"%s: mode %04o lets group or others read or change the keys: chmod 600 %s",
			path, (unsigned int)(st.st_mode & 07777), path);
	}
	if (st.st_size > IST_KEYS_FILE_MAX) {
		close(fd);
		return fail(err, errlen, -EFBIG,
			    "%s: %lld bytes, more than a key file's %d: name the key file itself",
			    path, (long long)st.st_size, IST_KEYS_FILE_MAX);
	}
	/* Read one byte more than allowed, to notice a file that grew after fstat(). */
	while (len <= IST_KEYS_FILE_MAX) {
		r = read(fd, text + len, IST_KEYS_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			close(fd);
			OPENSSL_cleanse(text, sizeof(text));
			return fail(err, errlen, rc, "%s: cannot read: %s", path, strerror(-rc));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > IST_KEYS_FILE_MAX) {
		OPENSSL_cleanse(text, sizeof(text));
		return fail(err, errlen, -EFBIG, "%s: more than %d bytes: name the key file itself",
			    path, IST_KEYS_FILE_MAX);
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		OPENSSL_cleanse(text, sizeof(text));
		return fail(err, errlen, -EINVAL,
			    "%s: binary data in a text file: name the key file", path);
	}
	rc = parse(path, text, ks, err, errlen);
	OPENSSL_cleanse(text, sizeof(text));
	if (rc < 0)
		ist_keys_wipe(ks);
	return rc;
}
