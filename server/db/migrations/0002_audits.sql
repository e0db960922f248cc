-- Audits of a case, the agencies taking part, their contributions (every
-- submitted and amended version kept), remedial actions, the append-only
-- event log, and stored responses for idempotent retries.
--
-- Typed columns for what is queried (status, organisation, due dates);
-- answers and case details in jsonb.

CREATE TABLE audits (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id             uuid NOT NULL REFERENCES partnerships (id),
    toolkit_id                 text NOT NULL,
    toolkit_version            integer NOT NULL CHECK (toolkit_version >= 1),
    case_details               jsonb NOT NULL DEFAULT '{}',
    period_start               date,
    period_end                 date,
    referring_organisation_id  uuid REFERENCES organisations (id),
    due_date                   date,
    status                     text NOT NULL DEFAULT 'draft'
                               CHECK (status IN ('draft', 'open', 'in-review', 'closed')),
    row_version                integer NOT NULL DEFAULT 1,
    created_by                 uuid REFERENCES users (id),
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_by                 uuid REFERENCES users (id),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start IS NULL OR period_end IS NULL OR period_start <= period_end)
);

-- The coordinator's and reviewer's list: their partnership's audits by
-- status, soonest due first.
CREATE INDEX audits_partnership_status_due ON audits (partnership_id, status, due_date, id);
CREATE INDEX audits_partnership_created ON audits (partnership_id, created_at DESC, id);

CREATE TABLE audit_participants (
    audit_id         uuid NOT NULL REFERENCES audits (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    added_by         uuid REFERENCES users (id),
    added_at         timestamptz NOT NULL DEFAULT now(),
    -- A removed participant's contribution is kept; it just takes no
    -- further part.
    removed_by       uuid REFERENCES users (id),
    removed_at       timestamptz,
    removal_reason   text,
    PRIMARY KEY (audit_id, organisation_id),
    CHECK ((removed_at IS NULL) = (removal_reason IS NULL))
);

-- An auditor's list: the audits their organisation takes part in.
CREATE INDEX audit_participants_organisation ON audit_participants (organisation_id, audit_id)
    WHERE removed_at IS NULL;

CREATE TABLE contributions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    audit_id          uuid NOT NULL REFERENCES audits (id),
    organisation_id   uuid NOT NULL REFERENCES organisations (id),
    status            text NOT NULL DEFAULT 'not-started'
                      CHECK (status IN ('not-started', 'in-progress', 'submitted', 'returned')),
    content           jsonb NOT NULL DEFAULT '{}',
    answered          integer NOT NULL DEFAULT 0 CHECK (answered >= 0),
    applicable        integer NOT NULL DEFAULT 0 CHECK (applicable >= 0),
    row_version       integer NOT NULL DEFAULT 1,
    submitted_at      timestamptz,
    returned_at       timestamptz,
    returned_comment  text,
    updated_by        uuid REFERENCES users (id),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (audit_id, organisation_id)
);

CREATE INDEX contributions_organisation_status ON contributions (organisation_id, status);

-- Every submitted and amended version, never changed afterwards.
CREATE TABLE contribution_versions (
    contribution_id  uuid NOT NULL REFERENCES contributions (id),
    version          integer NOT NULL CHECK (version >= 1),
    kind             text NOT NULL CHECK (kind IN ('submitted', 'amended')),
    reason           text,
    content          jsonb NOT NULL,
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contribution_id, version)
);

-- Who did what, when. Append-only; the detail never holds answer text or
-- case details, only ids, statuses and reasons a coordinator gave.
CREATE TABLE events (
    id                      bigserial PRIMARY KEY,
    at                      timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id                 uuid,
    organisation_id         uuid,
    action                  text NOT NULL,
    audit_id                uuid,
    target_organisation_id  uuid,
    detail                  jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX events_audit ON events (audit_id, id) WHERE audit_id IS NOT NULL;

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

-- The first response to a POST carrying an Idempotency-Key, replayed to a
-- retry with the same key and body.
CREATE TABLE idempotency_keys (
    user_id           uuid NOT NULL,
    key               text NOT NULL,
    method            text NOT NULL,
    path              text NOT NULL,
    request_hash      text NOT NULL,
    response_status   integer,
    response_body     bytea,
    response_headers  jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The seed's remedial action plan: action, who, timescale, date reviewed,
-- completed/comments, initials.
CREATE TABLE remedial_actions (
    id                           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    audit_id                     uuid NOT NULL REFERENCES audits (id),
    action                       text NOT NULL,
    who                          text,
    timescale                    text,
    responsible_organisation_id  uuid REFERENCES organisations (id),
    due_date                     date,
    date_reviewed                date,
    completed                    boolean NOT NULL DEFAULT false,
    comments                     text,
    initials                     text,
    row_version                  integer NOT NULL DEFAULT 1,
    created_by                   uuid REFERENCES users (id),
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_by                   uuid REFERENCES users (id),
    updated_at                   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX remedial_actions_audit ON remedial_actions (audit_id, due_date);
CREATE INDEX remedial_actions_open_due ON remedial_actions (due_date) WHERE NOT completed;

-- Defence in depth (DESIGN, Storage): a request made for one agency sets
-- maca.organisation_id for its transaction, and PostgreSQL itself then
-- hides every other organisation's contribution, so a mistake in a query
-- still cannot read another agency's draft. Requests of coordinators and
-- reviewers, and maintenance, run without the setting. FORCE makes the
-- policy bind the tables' owner too (Maca usually runs as the owner).
ALTER TABLE contributions ENABLE ROW LEVEL SECURITY;
ALTER TABLE contributions FORCE ROW LEVEL SECURITY;
CREATE POLICY contributions_of_one_agency ON contributions
    USING (coalesce(current_setting('maca.organisation_id', true), '') = ''
           OR organisation_id = current_setting('maca.organisation_id', true)::uuid);

ALTER TABLE contribution_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE contribution_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY contribution_versions_of_one_agency ON contribution_versions
    USING (coalesce(current_setting('maca.organisation_id', true), '') = ''
           OR EXISTS (SELECT 1 FROM contributions c WHERE c.id = contribution_id));
