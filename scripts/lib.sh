# Shared by docshift's scripts: find free ports, start SecantusDB, wait for services.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DOCSHIFT_VENV:-$ROOT/.venv}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# What the build has used, and what is left on the disk it writes to: a CI machine's disk
# can be small, and a build that runs out of it fails far from the cause.
disk_report() { # when
  local free used
  free="$(df -h --output=avail "$ROOT" 2>/dev/null | tail -1 | tr -d ' ' || true)"
  used="$( (du -sh "$ROOT/target" 2>/dev/null || true) | cut -f1)"
  echo "disk ($1): target/ ${used:-0} · free ${free}"
}

wait_for_port() { # port what
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not start listening on port $1" >&2
  return 1
}

start_secantus() { # port storage-path log-file
  "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$1" --storage-path "$2" --log-level WARNING >"$3" 2>&1 &
  SECANTUS_PID=$!
  wait_for_port "$1" "SecantusDB"
}
