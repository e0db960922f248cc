-- Security in depth (issue 9): the application's own role, row-level
-- security that holds without the code's help, a hash-chained event trail,
-- and the date an audit was closed (for the retention period).
--
-- Migrations run as the tables' owner. The application connects as
-- maca_app, a login role that owns nothing, is no superuser and cannot
-- bypass row-level security (server/db/pool.py). A session-level SET ROLE
-- would be undone by one injected RESET ROLE; a separate login cannot be.

-- 1. The application's role. Its password is set by `maca migrate`
--    (server/db/migrate.py): none under the embedded PostgreSQL's trust
--    authentication.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'maca_app') THEN
        CREATE ROLE maca_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO maca_app', current_database());
END
$$;

-- No one but the owner creates objects (PUBLIC could, before PostgreSQL 15).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO maca_app;

-- 2. The date an audit was closed, kept by the database whatever code
--    closes or reopens it; `maca purge` counts the retention period from it.
ALTER TABLE audits ADD COLUMN closed_at timestamptz;
UPDATE audits SET closed_at = updated_at WHERE status = 'closed';
CREATE INDEX audits_closed ON audits (closed_at) WHERE status = 'closed';

CREATE FUNCTION audits_keep_closed_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'closed' THEN
        NEW.closed_at := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        NEW.closed_at := coalesce(NEW.closed_at, now());
    ELSIF OLD.status <> 'closed' THEN
        NEW.closed_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audits_closed_at BEFORE INSERT OR UPDATE OF status ON audits
    FOR EACH ROW EXECUTE FUNCTION audits_keep_closed_at();

-- 3. The hash chain. Each event holds the hash of the one before it
--    (previous_hash) and its own: sha256(previous_hash || canonical text),
--    the canonical text being events_canonical(event). `position` is the
--    order of the chain, assigned under the chain head's row lock, so two
--    transactions appending at once cannot fork it. `maca events verify`
--    (server/db/verify.py) walks it.
ALTER TABLE events
    ADD COLUMN position bigint,
    ADD COLUMN previous_hash bytea,
    ADD COLUMN hash bytea;

-- Everything an event says, as one text PostgreSQL produces the same way
-- every time: jsonb's output is normalised, the time is spelled in UTC
-- whatever the session's time zone. The position is left out: the links
-- between hashes already fix the order, so moving an event shows as
-- "out of order" rather than "edited".
CREATE FUNCTION events_canonical(e events) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(
        e.id,
        to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        e.user_id,
        e.organisation_id,
        e.action,
        e.audit_id,
        e.target_organisation_id,
        e.detail
    )::text
$$;

-- The newest event's position and hash: one row, locked by each appending
-- transaction from its first event until it commits.
CREATE TABLE event_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position   bigint NOT NULL,
    hash       bytea NOT NULL
);

-- Chain the events recorded before this migration, oldest first.
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
    e events;
    previous bytea := decode(repeat('00', 32), 'hex');
    n bigint := 0;
BEGIN
    FOR e IN SELECT * FROM events ORDER BY id LOOP
        n := n + 1;
        UPDATE events
           SET position = n,
               previous_hash = previous,
               hash = sha256(previous || convert_to(events_canonical(e), 'UTF8'))
         WHERE id = e.id
        RETURNING hash INTO previous;
    END LOOP;
    INSERT INTO event_chain_head (position, hash) VALUES (n, previous);
END
$$;
ALTER TABLE events ENABLE TRIGGER events_append_only;

ALTER TABLE events
    ALTER COLUMN position SET NOT NULL,
    ALTER COLUMN previous_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX events_position ON events (position);

-- Runs as the owner (SECURITY DEFINER) so that maca_app needs no right on
-- the chain head; it only ever appends.
CREATE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
DECLARE
    head_position bigint;
    head_hash bytea;
BEGIN
    SELECT h.position, h.hash INTO head_position, head_hash FROM event_chain_head h WHERE h.singleton FOR UPDATE;
    IF NOT FOUND THEN
        -- The head only caches the newest event (emptied tables, as in
        -- tests): rebuild it from that event, or start a new chain.
        INSERT INTO event_chain_head (position, hash)
        SELECT coalesce(max(e.position), 0),
               coalesce((SELECT l.hash FROM events l ORDER BY l.position DESC LIMIT 1), decode(repeat('00', 32), 'hex'))
          FROM events e
        ON CONFLICT (singleton) DO NOTHING;
        SELECT h.position, h.hash INTO head_position, head_hash FROM event_chain_head h WHERE h.singleton FOR UPDATE;
    END IF;
    NEW.position := head_position + 1;
    NEW.previous_hash := head_hash;
    NEW.hash := sha256(head_hash || convert_to(events_canonical(NEW), 'UTF8'));
    UPDATE event_chain_head SET position = NEW.position, hash = NEW.hash WHERE singleton;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_chain();

-- 4. Row-level security as a real wall. Every transaction of a request sets
--    maca.organisation_id, maca.partnership_id and maca.roles (SET LOCAL,
--    server/concurrency.py); a transaction that sets nothing sees no
--    contribution at all. The owner (migrations, `maca purge`, `maca demo`)
--    is not bound: FORCE is dropped, since the application no longer runs
--    as the owner.
DROP POLICY contributions_of_one_agency ON contributions;
DROP POLICY contribution_versions_of_one_agency ON contribution_versions;
ALTER TABLE contributions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE contribution_versions NO FORCE ROW LEVEL SECURITY;

CREATE FUNCTION maca_setting_uuid(setting text) RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting(setting, true), '')::uuid
$$;

-- Whether the transaction is a coordinator's or reviewer's of this partnership.
CREATE FUNCTION maca_partnership_staff(partnership uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        partnership = maca_setting_uuid('maca.partnership_id')
        AND string_to_array(current_setting('maca.roles', true), ',') && ARRAY['coordinator', 'reviewer'],
        false)
$$;

-- An agency reads and writes its own organisation's contributions; the
-- partnership's coordinators and reviewers every contribution to its audits.
CREATE POLICY contributions_own_or_partnership_staff ON contributions
    USING (organisation_id = maca_setting_uuid('maca.organisation_id')
           OR maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = contributions.audit_id)));

-- Once an audit is closed its participants are shown the partnership's
-- grades, computed from every contribution (server/judgement_api.py): they
-- may read, never write, the contributions of a closed audit they took
-- part in. Only the grades leave the server.
CREATE POLICY contributions_of_closed_audits_to_participants ON contributions FOR SELECT
    USING (EXISTS (
        SELECT 1 FROM audits a JOIN audit_participants p ON p.audit_id = a.id
         WHERE a.id = contributions.audit_id AND a.status = 'closed' AND p.removed_at IS NULL
           AND p.organisation_id = maca_setting_uuid('maca.organisation_id')));

-- Versions: only an agency's own, or the partnership staff's.
CREATE POLICY contribution_versions_own_or_partnership_staff ON contribution_versions
    USING (EXISTS (
        SELECT 1 FROM contributions c JOIN audits a ON a.id = c.audit_id
         WHERE c.id = contribution_versions.contribution_id
           AND (c.organisation_id = maca_setting_uuid('maca.organisation_id')
                OR maca_partnership_staff(a.partnership_id))));

-- 5. What maca_app may do: read and write the tables it works with, and
--    tables added by later migrations (default privileges); only insert
--    and read events; never change a kept contribution version; nothing
--    on the chain head or the migration record but reading the latter.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO maca_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO maca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO maca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO maca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM maca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON contribution_versions FROM maca_app;
REVOKE ALL ON event_chain_head FROM maca_app;
REVOKE ALL ON schema_migrations FROM maca_app;
GRANT SELECT ON schema_migrations TO maca_app;
