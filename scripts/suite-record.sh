# Sourced by the scripts that run suites inside a cluster (test-preloaded.sh, test-reliability.sh).
# record SUITE: writes "<passed> <failed>" to $LOG_DIR/SUITE.counts from the last
# "SUITE: N passed, N failed" line of $LOG_DIR/SUITE.log; a suite that printed no such line failed.
record() {
  local line
  line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$LOG_DIR/$1.log" | tail -1)
  if [ -n "$line" ]; then
    sed -E "s/^$1: ([0-9]+) passed, ([0-9]+) failed/\1 \2/" <<<"$line" >"$LOG_DIR/$1.counts"
  else
    echo "0 1" >"$LOG_DIR/$1.counts"
  fi
}
