-- Liaison schema, version 12: the node registry (docs/OPERATIONS.md, "Metrics").
--
-- Every running liaisond keeps one row here fresh (a heartbeat every few seconds), so that
-- `liaisonctl status` can find every daemon on a database and scrape its metrics endpoint. A row
-- is keyed by the node name of the greeting (`node=`), the host and the listen address, so a
-- restarted daemon replaces its own row and two daemons that share a node name still show
-- apart. A daemon that stops gracefully deletes its row; one that crashed leaves a row whose
-- heartbeat goes stale (status shows it as such), pruned by the others after a day.

CREATE TABLE liaison_nodes (
    node            text NOT NULL CHECK (length(node) BETWEEN 1 AND 255),
    host            text NOT NULL,
    listen_address  text NOT NULL,
    metrics_address text,
    pid             integer NOT NULL,
    version         text NOT NULL,
    started_at      timestamptz NOT NULL,
    heartbeat_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (node, host, listen_address)
);
