/* test_io_journal.c: JOURNAL_STREAM names this descriptor, another one, or nothing sane. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/journal.h"
#include "tap.h"

int main(void)
{
	char tmpl[] = "/tmp/ag-journal-XXXXXX", other[] = "/tmp/ag-journal-XXXXXX", v[96];
	int fd = mkstemp(tmpl), fd2 = mkstemp(other);
	struct stat st;

	if (!ok(fd >= 0 && fd2 >= 0 && fstat(fd, &st) == 0, "two temporary files"))
		return tap_done();
	unsetenv("JOURNAL_STREAM");
	ok(!journal_owns_fd(fd), "no JOURNAL_STREAM: not the journal");
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ok(journal_owns_fd(fd), "DEVICE:INODE of this descriptor: the journal");
	ok(!journal_owns_fd(fd2), "another file on the same device: not the journal");
	ok(!journal_owns_fd(-1), "a closed descriptor: not the journal");
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ok(!journal_owns_fd(fd), "trailing garbage: not the journal");
	setenv("JOURNAL_STREAM", ":1", 1);
	ok(!journal_owns_fd(fd), "no device: not the journal");
	setenv("JOURNAL_STREAM", "1:", 1);
	ok(!journal_owns_fd(fd), "no inode: not the journal");
	setenv("JOURNAL_STREAM", "-1:-1", 1);
	ok(!journal_owns_fd(fd), "signs: not the journal");
	setenv("JOURNAL_STREAM", "99999999999999999999999:1", 1);
	ok(!journal_owns_fd(fd), "a device number out of range: not the journal");
	close(fd);
	close(fd2);
	unlink(tmpl);
	unlink(other);
	return tap_done();
}
