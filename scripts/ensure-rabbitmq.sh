#!/usr/bin/env bash
# Make sure a RabbitMQ answers at AMQP_URL's host:port: start a local one if it is installed
# and down; otherwise say how to get one. Used by `make run`, `make test` and .ci/run.
# RABBITMQ_SERVER names the server command to start (default: rabbitmq-server on PATH, else
# /usr/sbin/rabbitmq-server); tests point it elsewhere.
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

ways() {
  cat >&2 <<MSG
Get a RabbitMQ on $host:$port with any of these, then run the command again:
  docker run -d --name rabbitmq -p $port:5672 -p 15672:15672 rabbitmq:3-management
      (or podman run with the same arguments; after a reboot: docker start rabbitmq)
  sudo apt-get install rabbitmq-server && sudo systemctl start rabbitmq-server     (Debian/Ubuntu;
      without systemd: sudo rabbitmq-server -detached)
  sudo rabbitmq-plugins enable rabbitmq_management     (optional: faster test set-up)
  brew install rabbitmq && brew services start rabbitmq     (macOS)
Or point AMQP_URL at a broker you already have (user, password, host, port, vhost).
MSG
}

if answers; then management; exit 0; fi
case "$host" in 127.*|localhost|::1) ;; *)
  echo "RabbitMQ at $host:$port does not answer (AMQP_URL). Start it, or unset AMQP_URL to use a local one." >&2
  exit 1;;
esac
server="${RABBITMQ_SERVER:-$(command -v rabbitmq-server || ls /usr/sbin/rabbitmq-server 2>/dev/null || true)}"
if [ -z "$server" ] || ! [ -x "$server" ]; then
  echo "No RabbitMQ answers at $host:$port, and no rabbitmq-server is installed here." >&2
  ways
  exit 1
fi
echo "starting the local RabbitMQ ($server -detached)…" >&2
# -detached returns at once; a refusal (Debian's wrapper runs only as root or rabbitmq) is final.
if ! output=$("$server" -detached 2>&1); then
  echo "could not start it:" >&2
  printf '%s\n' "$output" | sed '/^[[:space:]]*$/d; s/^/  /' >&2
  ways
  exit 1
fi
for _ in $(seq 1 120); do
  if answers; then echo "RabbitMQ is up on $host:$port" >&2; management; exit 0; fi
  sleep 1
done
echo "RabbitMQ did not come up on $host:$port within 120 s (its logs: /var/log/rabbitmq/, or \`brew services info rabbitmq\`)." >&2
ways
exit 1
