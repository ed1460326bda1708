/*
 * fuzz_config.c: config_load_string() on arbitrary text; a loaded config is dumped and freed.
 * FUZZ_SOURCES: policy
 */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct ag_config_error err;
	struct ag_config *c;
	char *text;

	if (size > 65536)
		return 0;
	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		abort();
	text = fuzz_strndup(data, size);
	memset(&err, 0x5a, sizeof(err));
	c = config_load_string(text, "fuzz.conf", &err);
	if (c == NULL) {
		/* A refusal always names the file and fits its buffer. */
		FUZZ_ASSERT(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		FUZZ_ASSERT(strncmp(err.msg, "fuzz.conf", 9) == 0);
	} else {
		FUZZ_ASSERT(c->nbackends <= AG_MAX_BACKENDS);
		FUZZ_ASSERT(c->auth_fail_limit >= 1);
		config_dump(c, sink);
		FUZZ_ASSERT(config_ref(c) == c);
		config_unref(c);
		config_unref(c);
	}
	free(text);
	return 0;
}
