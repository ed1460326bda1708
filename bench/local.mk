# bench/: load client and peers (scripts/bench).
