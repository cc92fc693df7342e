-- Webhook deliveries and the jobs they trigger. Times are unix milliseconds (the store's clock).

CREATE TABLE deliveries (
    id              TEXT   NOT NULL PRIMARY KEY,   -- X-GitHub-Delivery; a redelivery keeps it
    event           TEXT   NOT NULL,
    action          TEXT,
    installation_id BIGINT,
    repository      TEXT,                          -- owner/name
    payload         TEXT   NOT NULL,               -- the signed body, verbatim (jsonb would reorder it)
    received_at     BIGINT NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('queued', 'ignored'))
);

CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT   NOT NULL CHECK (kind IN ('onboard', 'refresh', 'command')),
    repository       TEXT   NOT NULL,
    installation_id  BIGINT NOT NULL,
    delivery_id      TEXT   REFERENCES deliveries (id),
    args             TEXT   NOT NULL,                    -- JSON object
    status           TEXT   NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    run_after        BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- Jobs for one repository never run at the same time: the database enforces it, across processes.
CREATE UNIQUE INDEX jobs_one_running_per_repository ON jobs (repository) WHERE status = 'running';
CREATE INDEX jobs_queued ON jobs (id, run_after) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_delivery ON jobs (delivery_id);
