# Pure helpers shared by run.sh and bench-lib.sh (no side effects when sourced).

# to_ms VALUE-WITH-UNIT (wrk prints us / ms / s / m)
to_ms() { awk -v v="$1" 'BEGIN{ n=v+0; u=v; sub(/^[0-9.]+/,"",u);
  if(u=="us")n/=1000; else if(u=="s")n*=1000; else if(u=="m")n*=60000; printf "%.3f", n }'; }

# CPU accounting from /proc, in clock ticks
cpu_ticks() { awk '/^cpu /{ busy=$2+$3+$4+$7+$8+$9; total=busy+$5+$6; print busy, total }' /proc/stat; }
tree_ticks() { # utime+stime of PID and all its descendants (threads included)
  local -a todo=("$1") all=()
  local p c
  while ((${#todo[@]})); do
    p="${todo[0]}"; todo=("${todo[@]:1}"); all+=("$p")
    for c in $(pgrep -P "$p" 2>/dev/null || true); do todo+=("$c"); done
  done
  for p in "${all[@]}"; do cat "/proc/$p/stat" 2>/dev/null || true; done \
    | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
# CPU of this script's reaped children (wrk, once waited for)
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
# trees_ticks PID...: like tree_ticks for each PID (one line each, in order), from one pass over /proc
trees_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
    { pid = $1; sub(/^.*\) /, ""); ppid[pid] = $2; t[pid] = $12 + $13 }
    END {
      n = split(roots, r, " ")
      for (i = 1; i <= n; i++) {
        s = 0
        for (p in t) { q = p; while (q in ppid && q != r[i]) q = ppid[q]; if (q == r[i]) s += t[p] }
        print s + 0
      }
    }'
}
