-- The task ledger: one row per task, its timeline of events, and a clock that orders commits.

CREATE TABLE tracker.tasks (
    task_id         text PRIMARY KEY,
    email           text,
    task            text,
    round           integer,
    nonce           text,
    state           text NOT NULL,
    rank            smallint NOT NULL,
    stage           text,
    received_at     timestamptz,
    deadline        timestamptz,
    finished_at     timestamptz,
    repo_url        text,
    commit_sha      text,
    pages_url       text,
    outcome         text,
    degraded        boolean NOT NULL DEFAULT false,
    degraded_reason text,
    selfcheck       jsonb,
    failure_stage   text,
    failure_reason  text,
    trace_id        text,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_seq        bigint NOT NULL DEFAULT 0,
    -- Lists sort by when the caller sent the task; a row seen first through an orphan
    -- task.failed (no TaskRef) sorts by when the tracker saw it, until it learns more.
    sort_at         timestamptz GENERATED ALWAYS AS (coalesce(received_at, first_seen_at)) STORED
);

CREATE INDEX tasks_recent ON tracker.tasks (sort_at DESC, task_id DESC);
CREATE INDEX tasks_by_state ON tracker.tasks (state, sort_at DESC);
CREATE INDEX tasks_by_email ON tracker.tasks (email, sort_at DESC);
CREATE INDEX tasks_by_task ON tracker.tasks (task, sort_at DESC);
CREATE INDEX tasks_finished ON tracker.tasks (finished_at);

CREATE TABLE tracker.events (
    -- From tracker.clock: commit order, so a client that saw seq N has seen everything before.
    seq         bigint PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    task_id     text NOT NULL REFERENCES tracker.tasks (task_id) ON DELETE CASCADE,
    type        text NOT NULL,
    source      text NOT NULL,
    stage       text,
    time        timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    trace_id    text,
    detail      jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX events_by_task ON tracker.events (task_id, seq);

-- One row whose update every writing transaction takes last: seq numbers are handed out in
-- commit order, which makes "everything after N" a complete catch-up.
CREATE TABLE tracker.clock (
    id  boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL
);
INSERT INTO tracker.clock (id, seq) VALUES (true, 0);
