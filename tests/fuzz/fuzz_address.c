/*
 * fuzz_address.c: address_parse_path() and address_find_param() on arbitrary bytes.
 * FUZZ_SOURCES: policy
 */
#include <stdbool.h>

#include "address.h"
#include "fuzz_util.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_address a, b;
	const char *why = NULL;
	bool allow_null;
	unsigned flags;
	char *arg;
	int rc;

	if (size < 1)
		return 0;
	allow_null = data[0] & 1;
	/* Bit 1: SMTPUTF8 in effect (AG_ADDR_UTF8). */
	flags = (allow_null ? AG_ADDR_NULL_OK : 0) | ((data[0] & 2) ? AG_ADDR_UTF8 : 0);
	data++;
	size--;
	arg = fuzz_memdup(data, size);
	memset(&a, 0x5a, sizeof(a));
	rc = address_parse_path(arg, size, flags, &a, &why);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_ASSERT(why != NULL && why[0] != '\0');
	} else {
		/* Every field is a bounded C string; a null path only where allowed. */
		FUZZ_ASSERT(memchr(a.local, '\0', sizeof(a.local)) != NULL);
		FUZZ_ASSERT(memchr(a.domain, '\0', sizeof(a.domain)) != NULL);
		FUZZ_ASSERT(memchr(a.addr, '\0', sizeof(a.addr)) != NULL);
		FUZZ_ASSERT(a.params_off <= size);
		FUZZ_ASSERT(!a.null_path || allow_null);
		FUZZ_ASSERT(!a.null_path || a.addr[0] == '\0');
		/* No CR, LF or NUL smuggled into what goes to the backend and the log. */
		FUZZ_ASSERT(strpbrk(a.addr, "\r\n") == NULL);
		FUZZ_ASSERT(strpbrk(a.domain, "\r\n") == NULL);
		/* 8-bit only in UTF-8 mode, and then only whole, valid UTF-8 characters. */
		for (size_t i = 0; a.addr[i] != '\0'; i++) {
			size_t n;

			if ((unsigned char)a.addr[i] < 0x80)
				continue;
			FUZZ_ASSERT(flags & AG_ADDR_UTF8);
			FUZZ_ASSERT(a.utf8);
			n = utf8_sequence_len((const unsigned char *)a.addr + i, strlen(a.addr + i));
			FUZZ_ASSERT(n > 0);
			i += n - 1;
		}
		if (!a.null_path) {
			/* The canonical form parses again to itself. */
			char canon[AG_MAX_PATH + 3];

			snprintf(canon, sizeof(canon), "<%s>", a.addr);
			rc = address_parse_path(canon, strlen(canon), flags & AG_ADDR_UTF8, &b, &why);
			FUZZ_ASSERT(rc == 0);
			FUZZ_ASSERT(strcmp(a.addr, b.addr) == 0);
		}
		{
			/* Parameters are a C string here (as the proxy passes them). */
			char *s = fuzz_strndup(data, size);
			size_t vlen = 0;
			const char *v;

			if (a.params_off <= strlen(s)) {
				v = address_find_param(s + a.params_off, "SIZE", &vlen);
				if (v != NULL)
					FUZZ_ASSERT(v >= s && v + vlen <= s + strlen(s));
			}
			free(s);
		}
	}
	free(arg);
	return 0;
}
