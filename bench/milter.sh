#!/usr/bin/env bash
# milter.sh: the milter cost of issue 16: Postfix + smtp-source with no milter, with
# bench/nullmilter (the milter protocol's own price) and with authgate-milter on a unix and
# an inet socket, interleaved, with the CPU time per message of each side. Sourced by
# scripts/bench (and bench/milter-cost) after peers.sh and measure.sh.
#
# Results in $BENCH_RES: milter.txt ("MODE msgs/s", one line a run), milter-cpu.txt ("MODE
# REP postfix_ms milter_ms": CPU per message of Postfix's process tree, queue drained, and
# of the milter's), milter-audit.txt.

# bench_milter_cpu_ms TICKS0 TICKS1 N: CPU milliseconds per message between two readings.
bench_milter_cpu_ms() {
	awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.3f\n", (b - a) * 1000 / hz / n }'
}

# bench_milter_cost WDIR CERTDIR N REPS: the runs; WDIR is made here.
bench_milter_cost() {
	local fd=$1 certs=$2 n=$3 reps=$4 fsink fport mport rep mode r pf p0 p1 m0 m1 mpid
	local -A mpids=()
	: >"$BENCH_RES/milter.txt"
	: >"$BENCH_RES/milter-cpu.txt"
	mkdir -p "$fd/usock"
	chmod 755 "$fd"
	chmod 1777 "$fd/usock" # the milter may create its socket after dropping to nobody
	fsink=$(bench_free_port) fport=$(bench_free_port) mport=$(bench_free_port)
	bench_sink_start "$fsink" "$fd/sink.log"
	bench_postfix_start "$fd/pf" "$fport" 0 "$fsink" "$certs" "milter_default_action=tempfail" ||
		return 1
	# inet: as INTERFACE.md configures it; unix: the same milter on a local socket, where
	# TCP's Nagle and delayed-ACK timers do not apply; null: bench/nullmilter on unix.
	bench_milter_start "$fd/m" "inet:$mport@127.0.0.1" || return 1
	mpids[inet]=$MILTER_PID
	bench_milter_start "$fd/u" "unix:$fd/usock/milter.sock" || return 1
	mpids[unix]=$MILTER_PID
	if [ -x "$AG_BUILDDIR/bench/nullmilter" ]; then
		"$AG_BUILDDIR/bench/nullmilter" "unix:$fd/usock/null.sock" >"$fd/null.log" 2>&1 &
		mpids[null]=$!
		bench_track "${mpids[null]}" nullmilter
		wait_for 10 test -S "$fd/usock/null.sock" || {
			cat "$fd/null.log" >&2
			return 1
		}
	fi
	pf=$(ag__postfix_master_pid "$fd/pf") || return 1
	for rep in $(seq 1 "$reps"); do
		for mode in off null unix inet; do
			case $mode in
			off) ag_postfix_set "$fd/pf" "smtpd_milters=" ;;
			null)
				[ -n "${mpids[null]:-}" ] || continue
				ag_postfix_set "$fd/pf" "smtpd_milters=unix:$fd/usock/null.sock"
				;;
			unix) ag_postfix_set "$fd/pf" "smtpd_milters=unix:$fd/usock/milter.sock" ;;
			inet) ag_postfix_set "$fd/pf" "smtpd_milters=inet:127.0.0.1:$mport" ;;
			esac
			ag_postfix_reload "$fd/pf"
			sleep 2
			mpid=${mpids[$mode]:-}
			p0=$(bench_cpu_ticks "$pf") m0=0
			[ -n "$mpid" ] && m0=$(bench_cpu_ticks "$mpid")
			r=$(bench_smtp_source "$fport" "$n") || r=nan
			bench_wait_drained "$fd/pf"
			p1=$(bench_cpu_ticks "$pf") m1=0
			[ -n "$mpid" ] && m1=$(bench_cpu_ticks "$mpid")
			echo "$mode $r" >>"$BENCH_RES/milter.txt"
			echo "$mode $rep $(bench_milter_cpu_ms "$p0" "$p1" "$n") $(bench_milter_cpu_ms "$m0" "$m1" "$n")" \
				>>"$BENCH_RES/milter-cpu.txt"
			echo "  milter $mode run $rep: $r msgs/s accepted; CPU ms/msg: postfix" \
				"$(bench_milter_cpu_ms "$p0" "$p1" "$n") milter $(bench_milter_cpu_ms "$m0" "$m1" "$n")" \
				"(load $(cut -d' ' -f1 /proc/loadavg))"
		done
	done
	echo "  milter audit records: inet $(wc -l <"$fd/m/audit.jsonl" 2>/dev/null || echo 0)," \
		"unix $(wc -l <"$fd/u/audit.jsonl" 2>/dev/null || echo 0)" | tee -a "$BENCH_RES/milter-audit.txt"
	bench_stop_all
	ag_postfix_stop "$fd/pf" || true
}

# bench_milter_median MODE [FIELD]: the median msgs/s of MODE's runs (FIELD 2), or of a
# column of milter-cpu.txt (FIELD cpu-postfix, cpu-milter).
bench_milter_median() {
	local mode=$1 field=${2:-2} file=$BENCH_RES/milter.txt col=2
	case $field in
	cpu-postfix) file=$BENCH_RES/milter-cpu.txt col=3 ;;
	cpu-milter) file=$BENCH_RES/milter-cpu.txt col=4 ;;
	esac
	[ -s "$file" ] || {
		echo nan
		return
	}
	# shellcheck disable=SC2046 # numbers only
	bench_median $(awk -v m="$mode" -v c="$col" '$1 == m { print $c }' "$file")
}
