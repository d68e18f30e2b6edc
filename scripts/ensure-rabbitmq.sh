#!/usr/bin/env bash
# Make sure a RabbitMQ answers at AMQP_URL's host:port: start a local one if it is installed
# and down; otherwise say how to get one. Used by `make run`, `make test` and .ci/run.
set -euo pipefail
url="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5672

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

# The management API makes the tests' per-test vhosts cheap (ms instead of an Erlang VM per
# rabbitmqctl call); enable it when we can, carry on when we cannot.
management() {
  case "$host" in 127.*|localhost|::1) ;; *) return 0;; esac
  (exec 3<>"/dev/tcp/$host/15672") 2>/dev/null && return 0
  plugins=$(command -v rabbitmq-plugins || ls /usr/sbin/rabbitmq-plugins 2>/dev/null || true)
  [ -n "$plugins" ] && "$plugins" enable rabbitmq_management >/dev/null 2>&1 || true
}

if answers; then management; exit 0; fi
case "$host" in 127.*|localhost|::1) ;; *)
  echo "RabbitMQ at $host:$port does not answer (AMQP_URL). Start it, or unset AMQP_URL to use a local one." >&2
  exit 1;;
esac
server=$(command -v rabbitmq-server || ls /usr/sbin/rabbitmq-server 2>/dev/null || true)
if [ -z "$server" ]; then
  cat >&2 <<MSG
No RabbitMQ answers at $host:$port and none is installed. Get one with any of:
  sudo apt-get install rabbitmq-server     (Debian/Ubuntu)
  brew install rabbitmq && brew services start rabbitmq     (macOS)
  docker compose up -d rabbitmq            (this repository's compose file)
MSG
  exit 1
fi
echo "starting the local RabbitMQ ($server -detached)…" >&2
"$server" -detached >/dev/null 2>&1 || true
for _ in $(seq 1 120); do
  if answers; then echo "RabbitMQ is up on $host:$port" >&2; management; exit 0; fi
  sleep 1
done
echo "RabbitMQ did not come up on $host:$port within 120 s" >&2
exit 1
