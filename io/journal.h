/* journal.h: is a file descriptor systemd's journal stream? */
#ifndef AG_IO_JOURNAL_H
#define AG_IO_JOURNAL_H

#include <stdbool.h>

/*
 * True when fd is the stream systemd connected to the journal for this service
 * (JOURNAL_STREAM="DEVICE:INODE", systemd.exec(5)). A daemon started with -f by its
 * unit then logs to syslog only: the journal reads /dev/log as well, and every line
 * would be there twice.
 */
bool journal_owns_fd(int fd);

#endif
