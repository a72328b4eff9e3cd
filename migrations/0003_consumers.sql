-- Liaison schema, version 3: durable consumers with explicit acks, dead letters, priority look-ahead.
--
-- A durable consumer (`SUB … durable=<name>`) is one row of durable_cursors. acked_seq is its ACK
-- FLOOR: every matching seq at or below it is acknowledged or dead-lettered, so a reconnecting
-- consumer resumes at acked_seq + 1. delivered_seq is the highest seq ever delivered to it.

ALTER TABLE durable_cursors
    ADD COLUMN ack_mode          text NOT NULL DEFAULT 'explicit' CHECK (ack_mode IN ('auto', 'explicit')),
    ADD COLUMN ack_wait_ms       bigint NOT NULL DEFAULT 30000 CHECK (ack_wait_ms > 0),
    ADD COLUMN max_deliver       int NOT NULL DEFAULT 5 CHECK (max_deliver > 0),
    ADD COLUMN max_inflight      int NOT NULL DEFAULT 1000 CHECK (max_inflight > 0),
    ADD COLUMN last_ack_at       timestamptz,
    ADD COLUMN last_delivery_at  timestamptz;

-- A message a consumer failed to acknowledge max_deliver times. It stays here (and below the
-- consumer's ack floor) until an admin asks for a replay; the daemon then redelivers it once and
-- stamps replayed_at. Deleting the consumer deletes its dead letters.
CREATE TABLE dead_letters (
    id                   bigserial PRIMARY KEY,
    account              text NOT NULL,
    consumer             text NOT NULL,
    seq                  bigint NOT NULL,
    topic                text NOT NULL,
    deliveries           int NOT NULL,
    reason               text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    replay_requested_at  timestamptz,
    replayed_at          timestamptz,
    UNIQUE (account, consumer, seq),
    FOREIGN KEY (account, consumer) REFERENCES durable_cursors (account, name) ON DELETE CASCADE
);
-- What the daemon polls for: replays requested and not yet done, per consumer.
CREATE INDEX dead_letters_pending_replay ON dead_letters (account, consumer)
    WHERE replay_requested_at IS NOT NULL AND replayed_at IS NULL;

-- Priority look-ahead: the few flash messages past a consumer's position, without scanning the rest.
-- Queries must repeat the predicate literally (headers->>'prio' = 'flash') for the planner to use it.
CREATE INDEX messages_flash_seq ON messages (seq) WHERE headers->>'prio' = 'flash';
