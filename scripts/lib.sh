# Shared by docshift's scripts: find free ports, start SecantusDB, wait for services.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DOCSHIFT_VENV:-$ROOT/.venv}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
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
