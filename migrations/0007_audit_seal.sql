-- Liaison schema, version 7: tamper evidence for the message log (docs/AUDIT.md).
--
-- The sealer (a service of liaisond, off the publish path) reads committed messages in seq order,
-- stores each one's leaf hash (SHA-256(0x00 || canonical encoding)) at the next position of an
-- RFC 9162 Merkle tree, and every N messages or S seconds signs a checkpoint of the tree's root
-- with Ed25519. `liaisonctl audit verify` recomputes the leaves from the rows and the roots from
-- the leaves: a row changed, deleted or inserted after sealing is named by its seq.

-- One row per sealed message: its position in the tree (0, 1, 2, … in seq order; seqs may have
-- gaps, positions do not) and its leaf hash.
CREATE TABLE audit_leaves (
    seq         bigint PRIMARY KEY,
    leaf_index  bigint NOT NULL UNIQUE CHECK (leaf_index >= 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32)
);

-- Public halves of the keys that signed checkpoints (the private key never leaves its file).
CREATE TABLE audit_keys (
    key_id      text PRIMARY KEY,
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Signed checkpoints. signed_at_us and root are exactly what was signed (with tree_size and
-- last_seq; the signed text is in docs/AUDIT.md). frontier is the compact range of the tree at
-- this size (32 bytes per set bit of tree_size): a sealer resumes from it, and `audit verify
-- --from` starts at it, after checking that it folds to the signed root.
CREATE TABLE audit_checkpoints (
    tree_size     bigint PRIMARY KEY CHECK (tree_size > 0),
    last_seq      bigint NOT NULL UNIQUE,
    root          bytea NOT NULL CHECK (length(root) = 32),
    signed_at_us  bigint NOT NULL,
    key_id        text NOT NULL REFERENCES audit_keys (key_id),
    signature     bytea NOT NULL CHECK (length(signature) = 64),
    frontier      bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
