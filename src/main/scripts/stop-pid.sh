#!/bin/sh
# Stops the process whose PID a file holds (SIGTERM, then SIGKILL after 30 s) and removes the file.
pidfile="$1"
[ -f "$pidfile" ] || { echo "nothing to stop: no $pidfile"; exit 0; }
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  echo "stopping $pidfile (pid $pid)"
  kill -TERM "$pid"
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
rm -f "$pidfile"
