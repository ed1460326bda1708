#!/usr/bin/env bash
# t_milter_journal_stream: authgate-milter -f under its systemd unit, whose stderr is the
# journal (JOURNAL_STREAM=DEVICE:INODE of that stream), logs to syslog only, which the
# journal reads as well; -f with any other stderr (a terminal, a file, a test's log) still
# copies every line there.
set -euo pipefail
. "$AG_SRCDIR/tests/integration/tap.sh"
. "$AG_SRCDIR/tests/integration/lib.sh"

ag_require "the milter" -- milter/authgate-milter
work=$(mktemp -d /tmp/ag-mjournal-XXXXXX)
chmod 755 "$work"
trap 'ag_cleanup_all; rm -rf "$work"' EXIT

# run NAME JOURNAL_STREAM-VALUE: the milter once, from start to a clean stop, its stderr in
# $work/NAME/milter.log ("self" stands for that file's own DEVICE:INODE).
run() {
	local name=$1 stream=$2 port
	port=$(ag_free_port)
	mkdir -p "$work/$name"
	: >"$work/$name/milter.log"
	[ "$stream" = self ] && stream=$(stat -c '%d:%i' "$work/$name/milter.log")
	ag_milter_conf "$work/$name/authgate.conf" "socket=inet:$port@127.0.0.1" || return 1
	JOURNAL_STREAM=$stream ag_milter_start "$work/$name" "$work/$name/authgate.conf" "$port" &&
		ag_milter_stop "$work/$name"
}

must "the milter starts and stops without JOURNAL_STREAM" -- run plain ""
check "without JOURNAL_STREAM, -f copies the lines to stderr" -- \
	grep -q 'listening on' "$work/plain/milter.log"
must "the milter starts and stops with stderr as the journal" -- run journal self
check "stderr is the journal: no line is copied there (syslog reaches the journal)" -- \
	test ! -s "$work/journal/milter.log"
must "the milter starts and stops with JOURNAL_STREAM naming another file" -- \
	run other "$(stat -c '%d:%i' "$work/plain/milter.log")"
check "JOURNAL_STREAM names another stream: the lines still go to stderr" -- \
	grep -q 'listening on' "$work/other/milter.log"
must "the milter starts and stops with a malformed JOURNAL_STREAM" -- run bad "x:y"
check "a malformed JOURNAL_STREAM is not the journal: the lines go to stderr" -- \
	grep -q 'listening on' "$work/bad/milter.log"
tap_done
