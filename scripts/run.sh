#!/usr/bin/env bash
# `make run`: Pagesmith's services (the tracker included, on a local PostgreSQL) through honcho,
# plus the local forge when GITHUB_TOKEN is unset, the llm stub when OPENAI_API_KEY is unset,
# and a callback listener for the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.pagesmith
mkdir -p "$state"

bash scripts/ensure-rabbitmq.sh
bash scripts/ensure-postgres.sh

processes=(gateway generator publisher notifier tracker)
if [ -z "${GATEWAY_SECRET:-}" ]; then
  [ -s "$state/gateway-secret" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > "$state/gateway-secret"
  GATEWAY_SECRET=$(cat "$state/gateway-secret")
fi
export GATEWAY_SECRET
if [ -z "${TRACKER_TOKEN:-}" ]; then
  [ -s "$state/tracker-token" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$state/tracker-token"
  TRACKER_TOKEN=$(cat "$state/tracker-token")
fi
export TRACKER_TOKEN
export GATEWAY_PORT="${GATEWAY_PORT:-8000}" TRACKER_PORT="${TRACKER_PORT:-9104}"
# A local runner listens on loopback only unless you say otherwise (deployments bind all).
export GATEWAY_HOST="${GATEWAY_HOST:-127.0.0.1}" PAGESMITH_OPS_HOST="${PAGESMITH_OPS_HOST:-127.0.0.1}"
export FORGE_HOST="${FORGE_HOST:-127.0.0.1}" LLM_STUB_HOST="${LLM_STUB_HOST:-127.0.0.1}"
export TRACKER_HOST="${TRACKER_HOST:-127.0.0.1}"
tracker_host="$TRACKER_HOST"; case "$tracker_host" in 0.0.0.0|::|"[::]") tracker_host=127.0.0.1;; esac
# The gateway's 200 then says where to follow the task (the CLI uses it too).
export GATEWAY_STATUS_URL="${GATEWAY_STATUS_URL:-http://$tracker_host:$TRACKER_PORT}"
# The generator's own private-fetch switch is for tests; a runner started here never has it.
unset GENERATOR_ALLOW_PRIVATE_FETCH
demo=""
if [ -z "${GITHUB_TOKEN:-}" ]; then
  processes+=(forge)
  export FORGE_PORT="${FORGE_PORT:-8081}" FORGE_DATA_DIR="${FORGE_DATA_DIR:-$PWD/$state/forge}"
  export FORGE_TOKEN="${FORGE_TOKEN:-forge-dev-token}"
  export GITHUB_TOKEN="$FORGE_TOKEN" GITHUB_API_URL="http://127.0.0.1:$FORGE_PORT/api/v3"
  demo="forge"
fi
if [ -z "${OPENAI_API_KEY:-}" ]; then
  processes+=(llm-stub)
  export LLM_STUB_PORT="${LLM_STUB_PORT:-8082}"
  # The scripted answer for the quickstart request printed below; anything else gets the
  # stub's labelled placeholder.
  export LLM_STUB_SCRIPTS="${LLM_STUB_SCRIPTS:-$PWD/dev/llm-stub/scripts/quickstart.json}"
  export OPENAI_API_KEY="llm-stub-key" OPENAI_BASE_URL="http://127.0.0.1:$LLM_STUB_PORT/v1"
  demo="$demo llm-stub"
fi
# make run is a local runner: its callers (the listener below, or yours) live on loopback, so
# callbacks may go there unless you say otherwise. Deployments keep the guard's default (off).
# This opens loopback/private to callbacks only; link-local and metadata stay refused, and the
# generator's fetch tool and self-check reach public addresses only.
export PAGESMITH_ALLOW_PRIVATE_EGRESS="${PAGESMITH_ALLOW_PRIVATE_EGRESS:-1}"
processes+=(listener)

csv=$(printf 'product,region,sales\nWidget,North,120.50\nGadget,South,80.25\nGizmo,West,200.00\n' | base64 -w0)
cat <<MSG

  Pagesmith is starting: ${processes[*]}
  ${demo:+stand-ins in use:$demo (set GITHUB_TOKEN / OPENAI_API_KEY to use the real services)}

  gateway   http://$GATEWAY_HOST:$GATEWAY_PORT/api/tasks   (probes: /healthz /readyz, metrics: /metrics)
  secret    $GATEWAY_SECRET
  tracker   http://$tracker_host:$TRACKER_PORT/   (the live page; its token: $TRACKER_TOKEN)
  callbacks to http://127.0.0.1:8787/evaluate are printed by the listener process
  private egress (loopback callbacks) is ${PAGESMITH_ALLOW_PRIVATE_EGRESS/1/allowed}; the generator reaches public addresses only

  Submit a task and follow it (from another terminal in this directory):

.venv/bin/pagesmith submit examples/hello-pagesmith.json --watch

  or with curl:

curl -s http://$GATEWAY_HOST:$GATEWAY_PORT/api/tasks -H 'Content-Type: application/json' -d '{
  "email": "you@example.com", "secret": "$GATEWAY_SECRET", "task": "hello-pagesmith", "round": 1,
  "nonce": "'\$(python3 -c 'import uuid; print(uuid.uuid4())')'",
  "brief": "Publish a one-page site that reads data.csv and shows the total of its sales column in #total-sales.",
  "checks": [{"js": "!!document.querySelector(\"#total-sales\")"}],
  "evaluation_url": "http://127.0.0.1:8787/evaluate",
  "attachments": [{"name": "data.csv", "url": "data:text/csv;base64,$csv"}]
}'

  Ctrl-C stops everything.

MSG
# Not exec'd: honcho answers a stop with a non-zero status (130 after Ctrl-C), which make
# reports as "*** Error". A stop that was asked for ends with 0; a crash keeps its status.
${UV:-uv} run --no-sync honcho -f Procfile start "${processes[@]}" &
honcho=$!
stopping=""
trap 'stopping=1; kill -TERM "$honcho" 2>/dev/null || true' INT TERM
status=0
while :; do
  wait "$honcho" && status=0 || status=$?
  kill -0 "$honcho" 2>/dev/null || break  # wait was only interrupted by the trap
done
[ -n "$stopping" ] && exit 0
exit "$status"
