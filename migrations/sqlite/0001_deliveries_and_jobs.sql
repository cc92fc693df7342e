-- Webhook deliveries and the jobs they trigger. Times are unix milliseconds (the store's clock).

CREATE TABLE deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,   -- X-GitHub-Delivery; a redelivery keeps it
    event           TEXT    NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    repository      TEXT,                           -- owner/name
    payload         TEXT    NOT NULL,               -- the signed body, verbatim
    received_at     INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'ignored'))
);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: ids order jobs by age
    kind             TEXT    NOT NULL CHECK (kind IN ('onboard', 'refresh', 'command')),
    repository       TEXT    NOT NULL,
    installation_id  INTEGER NOT NULL,
    delivery_id      TEXT    REFERENCES deliveries (id),
    args             TEXT    NOT NULL,                   -- JSON object
    status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Jobs for one repository never run at the same time: the database enforces it.
CREATE UNIQUE INDEX jobs_one_running_per_repository ON jobs (repository) WHERE status = 'running';
CREATE INDEX jobs_queued ON jobs (id, run_after) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_delivery ON jobs (delivery_id);
