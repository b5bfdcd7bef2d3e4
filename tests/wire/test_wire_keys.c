/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the key file loader: valid files (one key, rotation with two,
 * comments, `mode none`) and every error class, each checked for its return
 * code, its file:line and its fix, and for not echoing key material.
 *
 * Key files are written to a mkdtemp() directory that the group teardown
 * removes, whatever the tests' outcome.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ist_keys.h"

#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "F0E1D2C3B4A5968778695A4B3C2D1E0FF0E1D2C3B4A5968778695A4B3C2D1E0F"
#define S1 "a1b2c3d4"
#define S2 "0badf00d"

static char tmpdir[PATH_MAX];
static char path[PATH_MAX];
static unsigned int file_seq;
static struct ist_keys ks;
static char err[512];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/ist-keys-XXXXXX", base ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write text to a fresh file with the given mode; path names it. */
static void write_keys(const char *text, mode_t mode)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/keys%u.conf", tmpdir, file_seq++);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int load(const char *text)
{
	write_keys(text, 0600);
	memset(err, 0, sizeof(err));
	return ist_keys_load(path, &ks, err, sizeof(err));
}

/* The error names path:line (line 0: the file alone), says `fix`, and leaks no key. */
static void expect_error(int rc, int want_rc, unsigned int line, const char *fix)
{
	char where[PATH_MAX + 16];

	assert_int_equal(rc, want_rc);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u: ", path, line);
	else
		snprintf(where, sizeof(where), "%s: ", path);
	if (strncmp(err, where, strlen(where)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, where);
	if (strstr(err, fix) == NULL)
		fail_msg("error '%s' does not say '%s'", err, fix);
	assert_null(strchr(err, '\n'));
	assert_null(strstr(err, "0a0b0c0d"));
	assert_null(strstr(err, "F0E1D2C3"));
	/* Nothing half-loaded survives an error. */
	assert_int_equal(ks.mode, IST_KEYS_UNSET);
	assert_int_equal(ks.n, 0);
	assert_false(ist_keys_keyed(&ks));
	assert_null(ist_keys_sender(&ks));
}

static void test_one_key(void **state)
{
	const struct ist_key *k;

	(void)state;
	assert_int_equal(load("key 1 " K1 " " S1 "\n"), 0);
	assert_int_equal(ks.mode, IST_KEYS_PSK);
	assert_true(ist_keys_keyed(&ks));
	assert_int_equal(ks.n, 1);
	k = ist_keys_sender(&ks);
	assert_non_null(k);
	assert_int_equal(k->id, 1);
	for (int i = 0; i < IST_KEY_LEN; i++)
		assert_int_equal(k->key[i], i);
	assert_int_equal(k->salt[0], 0xa1);
	assert_int_equal(k->salt[3], 0xd4);
	assert_ptr_equal(ist_keys_find(&ks, 1), k);
	assert_null(ist_keys_find(&ks, 2));
	assert_null(ist_keys_find(&ks, 0));
	/* Marked send, no trailing newline, comments, blanks, CRLF, upper-case hex. */
	assert_int_equal(load("# link keys\r\n\r\n   \n\tkey 255 " K2 " " S2 " send # current\r\n"
			      "# end"),
			 0);
	k = ist_keys_sender(&ks);
	assert_int_equal(k->id, 255);
	assert_int_equal(k->key[0], 0xf0);
	assert_int_equal(k->key[31], 0x0f);
	assert_int_equal(k->salt[1], 0xad);
	ist_keys_wipe(&ks);
	assert_int_equal(ks.mode, IST_KEYS_UNSET);
	assert_int_equal(ks.n, 0);
	assert_int_equal(ks.key[0].key[0], 0);
	assert_int_equal(ks.key[0].key[31], 0);
}

static void test_rotation(void **state)
{
	(void)state;
	assert_int_equal(load("key 1 " K1 " " S1 "\nkey 2 " K2 " " S2 " send\n"), 0);
	assert_int_equal(ks.n, 2);
	assert_int_equal(ist_keys_sender(&ks)->id, 2);
	assert_int_equal(ist_keys_find(&ks, 1)->salt[0], 0xa1);
	assert_int_equal(ist_keys_find(&ks, 2)->salt[0], 0x0b);
	assert_null(ist_keys_find(&ks, 3));
	assert_int_equal(load("key 9 " K1 " " S1 " send\nkey 2 " K2 " " S2 "\n"), 0);
	assert_int_equal(ist_keys_sender(&ks)->id, 9);
	assert_non_null(ist_keys_find(&ks, 2));
}

static void test_mode_none(void **state)
{
	(void)state;
	assert_int_equal(load("# lab link, no keys on purpose\nmode none\n"), 0);
	assert_int_equal(ks.mode, IST_KEYS_NONE);
	assert_false(ist_keys_keyed(&ks));
	assert_null(ist_keys_sender(&ks));
	assert_null(ist_keys_find(&ks, 1));
	expect_error(load("mode none\nkey 1 " K1 " " S1 "\n"), -EINVAL, 2,
		     "remove the keys or the 'mode none' line");
	expect_error(load("key 1 " K1 " " S1 "\nmode none\n"), -EINVAL, 2,
		     "remove the key lines or the 'mode none' line");
	expect_error(load("mode none\nmode none\n"), -EINVAL, 2, "'mode none' must be the only");
	expect_error(load("mode psk\n"), -EINVAL, 1, "the only mode is 'mode none'");
	expect_error(load("mode\n"), -EINVAL, 1, "the only mode is 'mode none'");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error(load(""), -EINVAL, 0, "or 'mode none'");
	expect_error(load("# only a comment\n\n"), -EINVAL, 0, "openssl rand -hex 32");
	expect_error(load("\nkeys 1 " K1 " " S1 "\n"), -EINVAL, 2, "unknown directive 'keys'");
	/* A key pasted alone on a line is refused without being echoed. */
	expect_error(load(K1 "\n"), -EINVAL, 1, "(long value, not shown)");
	expect_error(load("key 1 " K1 "\n"), -EINVAL, 1, "needs an id, a key and a salt");
	expect_error(load("key 1\n"), -EINVAL, 1, "needs an id, a key and a salt");
	expect_error(load("key 1 " K1 " " S1 " sned\n"), -EINVAL, 1,
		     "unexpected 'sned' after the salt: the only option is 'send'");
	expect_error(load("key 1 " K1 " " S1 " send x\n"), -EINVAL, 1, "unexpected 'x'");
	expect_error(load("key 1 " K1 " " S1 " send a b c d\n"), -EINVAL, 1, "unexpected 'a'");
	expect_error(load("key 1 " S1 " " K1 "\n"), -EINVAL, 1, "key has 8 characters");
}

static void test_value_errors(void **state)
{
	(void)state;
	expect_error(load("# c\nkey 0 " K1 " " S1 "\n"), -EINVAL, 2, "number the keys 1..255");
	expect_error(load("key 256 " K1 " " S1 "\n"), -EINVAL, 1, "key id '256' is not 1..255");
	expect_error(load("key -1 " K1 " " S1 "\n"), -EINVAL, 1, "is not 1..255");
	expect_error(load("key +1 " K1 " " S1 "\n"), -EINVAL, 1, "is not 1..255");
	expect_error(load("key 1x " K1 " " S1 "\n"), -EINVAL, 1, "is not 1..255");
	expect_error(load("key " K1 " " K1 " " S1 "\n"), -EINVAL, 1, "(long value, not shown)");
	/* Key: length, hex, zero. */
	expect_error(load("key 1 " K1 "0 " S1 "\n"), -EINVAL, 1,
		     "key has 65 characters, not 64 hex characters: generate one with "
		     "'openssl rand -hex 32'");
	expect_error(load("key 1 00 " S1 "\n"), -EINVAL, 1, "key has 2 characters");
	expect_error(load("\n\nkey 1 "
			  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eXY " S1
			  "\n"),
		     -EINVAL, 3, "key character 63 is not hex");
	expect_error(load("key 1 " K1 " " S1 "\nkey 2 "
			  "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f " S2
			  " send\n"),
		     -EINVAL, 2, "key character 1 is not hex");
	expect_error(load("key 1 "
			  "0000000000000000000000000000000000000000000000000000000000000000 " S1
			  "\n"),
		     -EINVAL, 1, "key is all zeros");
	/* Salt: length, hex. */
	expect_error(load("key 1 " K1 " a1b2c3\n"), -EINVAL, 1,
		     "salt has 6 characters, not 8 hex characters: generate one with "
		     "'openssl rand -hex 4'");
	expect_error(load("key 1 " K1 " a1b2c3d4e5\n"), -EINVAL, 1, "salt has 10 characters");
	expect_error(load("key 1 " K1 " a1b2c3dz\n"), -EINVAL, 1, "salt character 8 is not hex");
}

static void test_set_errors(void **state)
{
	(void)state;
	expect_error(load("key 1 " K1 " " S1 "\n# next\nkey 1 " K2 " " S2 " send\n"), -EINVAL, 3,
		     "key id 1 is already used on line 1: give each key its own id");
	expect_error(load("key 1 " K1 " " S1 "\nkey 2 " K2 " " S2 " send\nkey 3 " K1 " " S1 "\n"),
		     -EINVAL, 3, "more than 2 keys: keep only the current key and the next one");
	expect_error(load("key 1 " K1 " " S1 "\nkey 2 " K2 " " S2 "\n"), -EINVAL, 2,
		     "none marked 'send': add 'send' to the key");
	expect_error(load("key 1 " K1 " " S1 " send\n\nkey 2 " K2 " " S2 " send\n"), -EINVAL, 3,
		     "second key marked 'send' (first on line 1): mark exactly one key 'send'");
}

static void test_file_errors(void **state)
{
	char dir[PATH_MAX + 8];
	char *big;
	int rc;

	(void)state;
	write_keys("key 1 " K1 " " S1 "\n", 0644);
	rc = ist_keys_load(path, &ks, err, sizeof(err));
	expect_error(rc, -EACCES, 0, "mode 0644");
	assert_non_null(strstr(err, "chmod 600 "));
	assert_non_null(strstr(err, path));
	write_keys("key 1 " K1 " " S1 "\n", 0640);
	expect_error(ist_keys_load(path, &ks, err, sizeof(err)), -EACCES, 0, "chmod 600");
	write_keys("key 1 " K1 " " S1 "\n", 0602);
	expect_error(ist_keys_load(path, &ks, err, sizeof(err)), -EACCES, 0, "chmod 600");
	write_keys("key 1 " K1 " " S1 "\n", 0400);
	assert_int_equal(ist_keys_load(path, &ks, err, sizeof(err)), 0);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	expect_error(ist_keys_load(path, &ks, err, sizeof(err)), -ENOENT, 0, "cannot open");

	snprintf(dir, sizeof(dir), "%s/adir", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s", dir);
	expect_error(ist_keys_load(path, &ks, err, sizeof(err)), -EINVAL, 0, "not a regular file");

	big = malloc(IST_KEYS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', IST_KEYS_FILE_MAX + 1);
	big[IST_KEYS_FILE_MAX + 1] = '\0';
	expect_error(load(big), -EFBIG, 0, "name the key file itself");
	big[IST_KEYS_FILE_MAX] = '\0';
	expect_error(load(big), -EINVAL, 0, "no key");
	free(big);

	/* NUL bytes. */
	write_keys("", 0600);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite("key 1\0", 1, 6, f);
		fclose(f);
	}
	expect_error(ist_keys_load(path, &ks, err, sizeof(err)), -EINVAL, 0, "binary data");

	assert_int_equal(ist_keys_load(NULL, &ks, err, sizeof(err)), -EINVAL);
	/* No error buffer is fine. */
	assert_int_equal(load("bad\n"), -EINVAL);
	assert_int_equal(ist_keys_load(path, &ks, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_key),      cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_mode_none),    cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_value_errors), cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
