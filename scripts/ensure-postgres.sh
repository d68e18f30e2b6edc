#!/usr/bin/env bash
# Make sure a PostgreSQL answers at TRACKER_DATABASE_URL's host:port and that its database
# exists: start the local cluster if it is installed and down; otherwise say how to get one.
# Used by `make run`, `make test` and .ci/run.
set -euo pipefail
url="${TRACKER_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/pagesmith}"
# host, port, database and the same URL pointed at the maintenance database "postgres"
read -r host port db admin < <(python3 - "$url" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
db = p.path.lstrip("/") or "postgres"
print(p.hostname or "127.0.0.1", p.port or 5432, db, u.urlunsplit(p._replace(path="/postgres")))
PY
)

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

ensure_database() {
  if ! command -v psql >/dev/null; then
    echo "psql is not installed: make sure the database \"$db\" exists at $host:$port" >&2
    return 0
  fi
  local ok=""
  for _ in $(seq 1 30); do
    if exists=$(psql "$admin" -XtAc "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'" 2>/dev/null); then
      ok=1; break
    fi
    sleep 1  # answering on the port, but still starting up
  done
  if [ -z "$ok" ]; then
    echo "PostgreSQL at $host:$port answers but refuses us (TRACKER_DATABASE_URL's user and password?)" >&2
    exit 1
  fi
  if [ "$exists" != "1" ]; then
    psql "$admin" -Xqc "CREATE DATABASE \"${db//\"/\"\"}\"" && echo "created database $db" >&2
  fi
}

if answers; then ensure_database; exit 0; fi
case "$host" in 127.*|localhost|::1) ;; *)
  echo "PostgreSQL at $host:$port does not answer (TRACKER_DATABASE_URL). Start it, or unset TRACKER_DATABASE_URL to use a local one." >&2
  exit 1;;
esac
cluster=""
if command -v pg_lsclusters >/dev/null; then
  # The installed cluster configured for this port: "<version> <name>".
  cluster=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p {print $1, $2}' | sort -V | tail -1)
fi
if [ -z "$cluster" ]; then
  cat >&2 <<MSG
No PostgreSQL answers at $host:$port and no local cluster is set up for that port. Get one with any of:
  sudo apt-get install postgresql          (Debian/Ubuntu; then: sudo pg_ctlcluster <version> main start)
  brew install postgresql@15 && brew services start postgresql@15     (macOS)
  docker run -d -p $port:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15
or point TRACKER_DATABASE_URL at a PostgreSQL you have (postgresql://user:password@host:5432/pagesmith).
MSG
  exit 1
fi
read -r version name <<<"$cluster"
echo "starting the local PostgreSQL (pg_ctlcluster $version $name start)…" >&2
sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
sudo_ pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >/dev/null 2>&1 || true
for _ in $(seq 1 60); do
  if answers; then echo "PostgreSQL is up on $host:$port" >&2; ensure_database; exit 0; fi
  sleep 1
done
echo "PostgreSQL did not come up on $host:$port within 60 s (see /var/log/postgresql/)" >&2
exit 1
