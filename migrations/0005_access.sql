-- Liaison schema, version 5: permissions (access rules), clearance, security events.
--
-- Each account has publish and subscribe rules, allow and deny topic patterns (deny wins), and a
-- clearance: the most sensitive message class it may read or publish. The daemon caches them and
-- polls access_version once a second, reloading only when it changed, so `liaisonctl acl` and
-- `account clearance` take effect on live connections without a restart.

ALTER TABLE accounts
    ADD COLUMN clearance text NOT NULL DEFAULT 'internal'
        CHECK (clearance IN ('public', 'internal', 'confidential', 'strictly-confidential'));
UPDATE accounts SET clearance = 'strictly-confidential' WHERE role = 'admin';

CREATE TABLE access_rules (
    account     text NOT NULL REFERENCES accounts (name),
    action      text NOT NULL CHECK (action IN ('pub', 'sub')),
    effect      text NOT NULL CHECK (effect IN ('allow', 'deny')),
    pattern     text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 255),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, action, effect, pattern)
);

-- The defaults of AccessRules.defaults(for:), for the accounts that exist already.
INSERT INTO access_rules (account, action, effect, pattern)
SELECT a.name, r.action, 'allow', r.pattern
FROM accounts a
CROSS JOIN LATERAL (
    SELECT * FROM (VALUES ('pub', '>'), ('sub', '>')) AS v (action, pattern) WHERE a.role = 'admin'
    UNION ALL
    SELECT * FROM (VALUES ('pub', 'hq.' || a.name || '.>'), ('pub', 'net.>'),
                          ('sub', 'hq.>'), ('sub', 'net.>'), ('sub', 'field.>')) AS v (action, pattern)
    WHERE a.role <> 'admin' AND a.kind = 'entity'
    UNION ALL
    SELECT * FROM (VALUES ('pub', 'field.' || a.country || '.>'), ('sub', 'field.' || a.country || '.>'),
                          ('sub', 'hq.>'), ('sub', 'net.>')) AS v (action, pattern)
    WHERE a.role <> 'admin' AND a.kind = 'office' AND a.country IS NOT NULL
    UNION ALL
    SELECT * FROM (VALUES ('sub', 'hq.>'), ('sub', 'net.>')) AS v (action, pattern)
    WHERE a.role <> 'admin' AND a.kind = 'office' AND a.country IS NULL
) AS r
ON CONFLICT DO NOTHING;

-- One row whose counter moves whenever anything that decides access changes.
CREATE TABLE access_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint NOT NULL DEFAULT 1
);
INSERT INTO access_version DEFAULT VALUES;

CREATE FUNCTION liaison_bump_access_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE access_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER access_rules_bump_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON access_rules
    FOR EACH STATEMENT EXECUTE FUNCTION liaison_bump_access_version();

CREATE TRIGGER accounts_bump_version_on_insert
    AFTER INSERT ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION liaison_bump_access_version();

CREATE TRIGGER accounts_bump_version_on_update
    AFTER UPDATE OF clearance, enabled, role ON accounts
    FOR EACH ROW WHEN (OLD.clearance IS DISTINCT FROM NEW.clearance
                       OR OLD.enabled IS DISTINCT FROM NEW.enabled
                       OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION liaison_bump_access_version();

-- Authentication outcomes, refusals and changes to rules and credentials, newest looked up first.
CREATE TABLE security_events (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind     text NOT NULL,
    account  text,
    remote   text,
    reason   text NOT NULL DEFAULT ''
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_account_at ON security_events (account, at);
