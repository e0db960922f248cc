-- Administering a partnership. DESIGN, "The people": the administrator
-- "registers organisations and their contacts, corrects identity bindings,
-- sets the partnership's policies and schedules, uploads local toolkit
-- versions". Until now organisations were learnt from the first token that
-- named them and fixed forever after.
--
-- Row-level security on every new table, in the style of migration 0005:
-- a transaction sees the rows of the partnership it carries
-- (maca.partnership_id), and only one carrying the admin role
-- (maca.roles) changes them. Nothing here holds case details or answers.

-- 1. Organisations: registered by an administrator before anyone from them
--    signs in, or recorded at a first sign-in and flagged until an
--    administrator confirms them; an inactive one's people are refused.
ALTER TABLE organisations
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN needs_confirmation boolean NOT NULL DEFAULT false,
    ADD COLUMN row_version integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_by uuid REFERENCES users (id),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Every organisation recorded so far came from a token: an administrator
-- looks at each once.
UPDATE organisations SET needs_confirmation = true;

CREATE INDEX organisations_to_confirm ON organisations (partnership_id) WHERE needs_confirmation;

-- Who in an organisation is told about audits: its named safeguarding lead
-- ("the manager must be notified" of an immediate concern) and the
-- addresses its audit requests go to.
CREATE TABLE organisation_contacts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    kind             text NOT NULL CHECK (kind IN ('safeguarding-lead', 'audit-contact')),
    name             text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
    email            text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    position         integer NOT NULL DEFAULT 0,
    UNIQUE (organisation_id, kind, email)
);

CREATE UNIQUE INDEX organisation_contacts_one_lead ON organisation_contacts (organisation_id)
    WHERE kind = 'safeguarding-lead';
CREATE INDEX organisation_contacts_organisation ON organisation_contacts (organisation_id, kind, position);

-- 2. An audit keeps what it was created with: each participant's agency
--    kind as it was when the organisation was added (an administrator may
--    correct the organisation's kind later; the questions its auditors
--    were given do not change), the toolkit version (a partnership's own,
--    when it had one active) and the merge policy the partnership chose.
ALTER TABLE audit_participants ADD COLUMN agency_kind text;
UPDATE audit_participants p SET agency_kind = o.agency_kind FROM organisations o WHERE o.id = p.organisation_id;
ALTER TABLE audit_participants ALTER COLUMN agency_kind SET NOT NULL;

CREATE FUNCTION audit_participants_take_agency_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agency_kind IS NULL THEN
        SELECT o.agency_kind INTO NEW.agency_kind FROM organisations o WHERE o.id = NEW.organisation_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_participants_agency_kind BEFORE INSERT ON audit_participants
    FOR EACH ROW EXECUTE FUNCTION audit_participants_take_agency_kind();

-- 3. The partnership's settings: its default due period, the reminder
--    schedule (days before the due date, then every so many days while
--    overdue), and its own retention period (unset: MACA_RETENTION_DAYS).
CREATE TABLE partnership_settings (
    partnership_id          uuid PRIMARY KEY REFERENCES partnerships (id),
    default_due_days        integer CHECK (default_due_days BETWEEN 1 AND 366),
    reminder_days_before    integer[] NOT NULL DEFAULT '{7,1}',
    overdue_reminder_days   integer NOT NULL DEFAULT 7 CHECK (overdue_reminder_days BETWEEN 0 AND 90),
    retention_days          integer CHECK (retention_days BETWEEN 365 AND 36525),
    row_version             integer NOT NULL DEFAULT 1,
    updated_by              uuid REFERENCES users (id),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(reminder_days_before) <= 10)
);

-- 4. A partnership's own toolkit versions (seed 003: the tool "can be
--    customised e.g. to provide a specific focus"), uploaded as YAML and
--    kept as uploaded and as checked. Never changed once stored: an audit
--    created with one keeps it.
CREATE TABLE local_toolkit_versions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    toolkit_id      text NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    title           text NOT NULL,
    file_name       text NOT NULL,
    source          text NOT NULL,
    definition      jsonb NOT NULL,
    uploaded_by     uuid REFERENCES users (id),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, toolkit_id, version),
    -- for the foreign keys below: a partnership's choice, or an audit,
    -- names one of its own partnership's versions of the same toolkit
    UNIQUE (id, partnership_id, toolkit_id),
    UNIQUE (id, partnership_id, toolkit_id, version)
);

-- Per toolkit: whether new audits may use it, the merge policy the
-- partnership chose (unset: the definition's own), and which of its own
-- versions new audits take (unset: the newest shipped version).
CREATE TABLE partnership_toolkits (
    partnership_id    uuid NOT NULL REFERENCES partnerships (id),
    toolkit_id        text NOT NULL,
    offered           boolean NOT NULL DEFAULT true,
    merge_policy      text,
    local_version_id  uuid,
    row_version       integer NOT NULL DEFAULT 1,
    updated_by        uuid REFERENCES users (id),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partnership_id, toolkit_id),
    FOREIGN KEY (local_version_id, partnership_id, toolkit_id)
        REFERENCES local_toolkit_versions (id, partnership_id, toolkit_id)
);

ALTER TABLE audits
    ADD COLUMN local_toolkit_version_id uuid,
    ADD COLUMN merge_policy text,
    ADD FOREIGN KEY (local_toolkit_version_id, partnership_id, toolkit_id, toolkit_version)
        REFERENCES local_toolkit_versions (id, partnership_id, toolkit_id, version);
CREATE INDEX audits_local_toolkit_version ON audits (local_toolkit_version_id)
    WHERE local_toolkit_version_id IS NOT NULL;

-- 5. Agencies' systems (OAuth clients using client credentials), registered
--    to their organisation with the roles Maca gives them when the identity
--    provider names none.
CREATE TABLE machine_clients (
    client_id        text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 200),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    roles            text[] NOT NULL DEFAULT '{}',
    description      text,
    active           boolean NOT NULL DEFAULT true,
    row_version      integer NOT NULL DEFAULT 1,
    updated_by       uuid REFERENCES users (id),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX machine_clients_organisation ON machine_clients (organisation_id);

-- A token is checked before anyone is known, so no transaction carries an
-- identity yet: the client's registration is read through this function,
-- which returns only what deciding who the client is needs.
CREATE FUNCTION maca_machine_client(client text)
    RETURNS TABLE (organisation_id uuid, roles text[], active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT m.organisation_id, m.roles, m.active FROM machine_clients m WHERE m.client_id = client
$$;
REVOKE ALL ON FUNCTION maca_machine_client(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_machine_client(text) TO maca_app;

-- 6. The administration's trail: events with no audit, each naming the
--    partnership(s) it concerns in detail.partnership_ids.
CREATE INDEX events_administration ON events USING gin ((detail -> 'partnership_ids'))
    WHERE detail ? 'partnership_ids';

-- 7. Row-level security, as migration 0005's: the owner (migrations,
--    `maca purge`) is not bound; maca_app is.
CREATE FUNCTION maca_partnership_member(partnership uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(partnership = maca_setting_uuid('maca.partnership_id'), false)
$$;

-- Whether the transaction is an administrator's of this partnership.
CREATE FUNCTION maca_partnership_admin(partnership uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        partnership = maca_setting_uuid('maca.partnership_id')
        AND string_to_array(current_setting('maca.roles', true), ',') && ARRAY['admin'],
        false)
$$;

ALTER TABLE organisation_contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY organisation_contacts_read_in_partnership ON organisation_contacts FOR SELECT
    USING (maca_partnership_member(
        (SELECT o.partnership_id FROM organisations o WHERE o.id = organisation_contacts.organisation_id)));
CREATE POLICY organisation_contacts_kept_by_admins ON organisation_contacts
    USING (maca_partnership_admin(
        (SELECT o.partnership_id FROM organisations o WHERE o.id = organisation_contacts.organisation_id)))
    WITH CHECK (maca_partnership_admin(
        (SELECT o.partnership_id FROM organisations o WHERE o.id = organisation_contacts.organisation_id)));

ALTER TABLE partnership_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY partnership_settings_read_in_partnership ON partnership_settings FOR SELECT
    USING (maca_partnership_member(partnership_id));
CREATE POLICY partnership_settings_kept_by_admins ON partnership_settings
    USING (maca_partnership_admin(partnership_id)) WITH CHECK (maca_partnership_admin(partnership_id));

ALTER TABLE partnership_toolkits ENABLE ROW LEVEL SECURITY;
CREATE POLICY partnership_toolkits_read_in_partnership ON partnership_toolkits FOR SELECT
    USING (maca_partnership_member(partnership_id));
CREATE POLICY partnership_toolkits_kept_by_admins ON partnership_toolkits
    USING (maca_partnership_admin(partnership_id)) WITH CHECK (maca_partnership_admin(partnership_id));

-- Everyone in the partnership reads its toolkit versions (an agency's
-- auditor answers the version its audit was created with); only its
-- administrators add one, and nobody changes or removes one.
ALTER TABLE local_toolkit_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY local_toolkit_versions_read_in_partnership ON local_toolkit_versions FOR SELECT
    USING (maca_partnership_member(partnership_id));
CREATE POLICY local_toolkit_versions_added_by_admins ON local_toolkit_versions FOR INSERT
    WITH CHECK (maca_partnership_admin(partnership_id));
REVOKE UPDATE, DELETE, TRUNCATE ON local_toolkit_versions FROM maca_app;

ALTER TABLE machine_clients ENABLE ROW LEVEL SECURITY;
CREATE POLICY machine_clients_kept_by_admins ON machine_clients
    USING (maca_partnership_admin(
        (SELECT o.partnership_id FROM organisations o WHERE o.id = machine_clients.organisation_id)))
    WITH CHECK (maca_partnership_admin(
        (SELECT o.partnership_id FROM organisations o WHERE o.id = machine_clients.organisation_id)));
