-- Liaison schema, version 6: what a lost connection or a crash must not lose.
--
-- writer_batches: one row per appended batch, written in the same statement (and so the same
-- transaction) as the batch's messages. A writer whose connection broke during COMMIT looks its
-- token up on a fresh connection: a row means the batch committed (and which seqs it got), no
-- row means it did not. Rows are pruned after a day (docs/ARCHITECTURE.md, "Publish path").
CREATE TABLE writer_batches (
    token        bigint PRIMARY KEY,
    seqs         bigint[] NOT NULL,
    duplicates   boolean[] NOT NULL,
    published_at timestamptz NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX writer_batches_committed_at ON writer_batches (committed_at);

-- consumer_pending: messages delivered to an ack=explicit durable consumer and not yet settled,
-- with how often each was delivered, so max_deliver holds across reconnects and restarts. A row
-- leaves when the message is acknowledged or dead-lettered (in the dead letter's transaction).
CREATE TABLE consumer_pending (
    account      text NOT NULL,
    consumer     text NOT NULL,
    seq          bigint NOT NULL,
    deliveries   int NOT NULL CHECK (deliveries > 0),
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, consumer, seq),
    FOREIGN KEY (account, consumer) REFERENCES durable_cursors (account, name) ON DELETE CASCADE
);
