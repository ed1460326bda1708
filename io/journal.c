/* journal.c: recognise the stream systemd connects to the journal (JOURNAL_STREAM). */
#include "journal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* "DEVICE:INODE", both decimal, nothing else: anything else is not systemd's. */
static bool journal_parse(const char *v, unsigned long long *dev, unsigned long long *ino)
{
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return false;
	errno = 0;
	*dev = strtoull(v, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	*ino = strtoull(end + 1, &end, 10);
	return errno == 0 && *end == '\0';
}

bool journal_owns_fd(int fd)
{
	unsigned long long dev, ino;
	struct stat st;

	if (!journal_parse(getenv("JOURNAL_STREAM"), &dev, &ino) || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
