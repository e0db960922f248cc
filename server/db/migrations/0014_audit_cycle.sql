-- The partnership's audit cycle past one audit's grades (DESIGN, "The
-- audit cycle"): the action plan followed to completion, audit programmes,
-- the multi-agency panel's record, and learning tagged with the
-- partnership's themes.
--
-- Row-level security on every new table, as README "Database roles" says:
-- a transaction reads only its own partnership's rows; what an agency's
-- auditor may add is narrowed to its own organisation. Nothing here is
-- changed by maca_app once kept where the history matters (progress
-- updates).

-- 1. The action plan. Actions the tools' own action tables hold (002
--    `remedial-actions`, 004 `remedial-actions-required`) become tracked
--    actions when a contribution is submitted: the row they came from is
--    kept, so that an amendment updates its own action rather than adding
--    a second. Progress is a status and the evidence of completion, and
--    every update is kept (the seed's "Date reviewed, Completed/Comments,
--    Initials" columns held one, overwritten by the next).
ALTER TABLE remedial_actions
    ADD COLUMN status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'in-progress', 'completed', 'not-taken-forward')),
    ADD COLUMN evidence text,
    ADD COLUMN source_contribution_id uuid REFERENCES contributions (id),
    ADD COLUMN source_question_id text,
    ADD COLUMN source_row integer CHECK (source_row >= 0),
    ADD CONSTRAINT remedial_actions_one_per_source_row UNIQUE (source_contribution_id, source_question_id, source_row),
    ADD CONSTRAINT remedial_actions_source_whole CHECK (
        (source_contribution_id IS NULL) = (source_question_id IS NULL)
        AND (source_contribution_id IS NULL) = (source_row IS NULL));

UPDATE remedial_actions SET status = 'completed' WHERE completed;

CREATE INDEX remedial_actions_responsible_status ON remedial_actions (responsible_organisation_id, status, due_date);

CREATE TABLE remedial_action_updates (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    action_id                 uuid NOT NULL REFERENCES remedial_actions (id),
    status                    text NOT NULL
                              CHECK (status IN ('open', 'in-progress', 'completed', 'not-taken-forward')),
    date_reviewed             date NOT NULL,
    comments                  text NOT NULL CHECK (length(comments) BETWEEN 1 AND 4000),
    evidence                  text CHECK (evidence IS NULL OR length(evidence) BETWEEN 1 AND 4000),
    recorded_by               uuid NOT NULL REFERENCES users (id),
    recorded_by_organisation  uuid REFERENCES organisations (id),
    recorded_at               timestamptz NOT NULL DEFAULT now(),
    -- a review is recorded on or after the day it happened, never before
    CHECK (date_reviewed <= (recorded_at AT TIME ZONE 'UTC')::date + 1)
);

CREATE INDEX remedial_action_updates_action ON remedial_action_updates (action_id, recorded_at);

-- Whether the transaction may see the action: its partnership's
-- coordinators and reviewers, or the organisation responsible for it.
CREATE FUNCTION maca_action_visible(action_id uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT r.responsible_organisation_id = maca_setting_uuid('maca.organisation_id')
               OR maca_partnership_staff(a.partnership_id)
          FROM remedial_actions r JOIN audits a ON a.id = r.audit_id
         WHERE r.id = maca_action_visible.action_id), false)
$$;

-- The history is a history: maca_app adds to it and reads it, never
-- changes or removes a kept update (`maca purge` runs as the owner).
ALTER TABLE remedial_action_updates ENABLE ROW LEVEL SECURITY;
CREATE POLICY remedial_action_updates_read ON remedial_action_updates FOR SELECT
    USING (maca_action_visible(action_id));
CREATE POLICY remedial_action_updates_added ON remedial_action_updates FOR INSERT
    WITH CHECK (maca_action_visible(action_id));
REVOKE UPDATE, DELETE, TRUNCATE ON remedial_action_updates FROM maca_app;

-- 2. Audit programmes: a named round ("neglect, Q1") with a focus, a
--    period, the toolkit, the criteria cases were selected by and the
--    agencies expected to take part (seed 003: "can be customised e.g. to
--    provide a specific focus"). An audit belongs to at most one.
CREATE TABLE programmes (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id      uuid NOT NULL REFERENCES partnerships (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    focus               text CHECK (focus IS NULL OR length(focus) <= 4000),
    period_start        date,
    period_end          date,
    toolkit_id          text NOT NULL,
    selection_criteria  text CHECK (selection_criteria IS NULL OR length(selection_criteria) <= 4000),
    row_version         integer NOT NULL DEFAULT 1,
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          uuid REFERENCES users (id),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, name),
    CHECK (period_start IS NULL OR period_end IS NULL OR period_start <= period_end)
);

CREATE TABLE programme_agencies (
    programme_id     uuid NOT NULL REFERENCES programmes (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (programme_id, organisation_id)
);

ALTER TABLE audits ADD COLUMN programme_id uuid REFERENCES programmes (id);
CREATE INDEX audits_programme ON audits (programme_id, status) WHERE programme_id IS NOT NULL;

ALTER TABLE programmes ENABLE ROW LEVEL SECURITY;
CREATE POLICY programmes_read_in_partnership ON programmes FOR SELECT
    USING (maca_partnership_member(partnership_id));
CREATE POLICY programmes_kept_by_staff ON programmes
    USING (maca_partnership_staff(partnership_id) OR maca_partnership_admin(partnership_id))
    WITH CHECK (maca_partnership_staff(partnership_id) OR maca_partnership_admin(partnership_id));

ALTER TABLE programme_agencies ENABLE ROW LEVEL SECURITY;
CREATE POLICY programme_agencies_read_in_partnership ON programme_agencies FOR SELECT
    USING (maca_partnership_member((SELECT p.partnership_id FROM programmes p WHERE p.id = programme_id)));
CREATE POLICY programme_agencies_kept_by_staff ON programme_agencies
    USING (maca_partnership_staff((SELECT p.partnership_id FROM programmes p WHERE p.id = programme_id))
           OR maca_partnership_admin((SELECT p.partnership_id FROM programmes p WHERE p.id = programme_id)))
    WITH CHECK (maca_partnership_staff((SELECT p.partnership_id FROM programmes p WHERE p.id = programme_id))
                OR maca_partnership_admin((SELECT p.partnership_id FROM programmes p WHERE p.id = programme_id)));

-- 3. The multi-agency panel: between "in review" and "closed" the agencies
--    meet and agree (seed 003: "where consensus amongst agencies… has not
--    been reached"). One record per audit: when, who attended for which
--    organisation, the agreed narrative per section and overall, and the
--    decisions with who made them. Editable until the audit is closed.
CREATE TABLE panel_records (
    audit_id            uuid PRIMARY KEY REFERENCES audits (id),
    held_on             date,
    attendees           jsonb NOT NULL DEFAULT '[]',  -- [{organisation_id, role}]
    section_narratives  jsonb NOT NULL DEFAULT '{}',  -- {section id: agreed narrative}
    overall_narrative   text,
    decisions           jsonb NOT NULL DEFAULT '[]',  -- [{decision, made_by}]
    row_version         integer NOT NULL DEFAULT 1,
    updated_by          uuid REFERENCES users (id),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE panel_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY panel_records_kept_by_staff ON panel_records
    USING (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id)))
    WITH CHECK (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id)));

-- 4. Learning: the partnership's themes (a list its administrator keeps),
--    and reviewers' tags on passages of learning. A passage is an answer
--    of a contribution (its organisation and question) or of the panel
--    record (organisation NULL, the section or "overall").
CREATE TABLE learning_themes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description     text CHECK (description IS NULL OR length(description) <= 1000),
    active          boolean NOT NULL DEFAULT true,
    row_version     integer NOT NULL DEFAULT 1,
    updated_by      uuid REFERENCES users (id),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partnership_id, name)
);

CREATE TABLE learning_tags (
    audit_id         uuid NOT NULL REFERENCES audits (id),
    organisation_id  uuid REFERENCES organisations (id),
    question_id      text NOT NULL,
    theme_id         uuid NOT NULL REFERENCES learning_themes (id),
    tagged_by        uuid REFERENCES users (id),
    tagged_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX learning_tags_once ON learning_tags
    (audit_id, coalesce(organisation_id, '00000000-0000-0000-0000-000000000000'::uuid), question_id, theme_id);
CREATE INDEX learning_tags_theme ON learning_tags (theme_id, audit_id);

ALTER TABLE learning_themes ENABLE ROW LEVEL SECURITY;
CREATE POLICY learning_themes_read_in_partnership ON learning_themes FOR SELECT
    USING (maca_partnership_member(partnership_id));
CREATE POLICY learning_themes_kept_by_admins ON learning_themes
    USING (maca_partnership_admin(partnership_id)) WITH CHECK (maca_partnership_admin(partnership_id));

-- The partnership reads the tags (the dashboard counts them; the passages
-- behind them stay with the contributions' own rules); its coordinators
-- and reviewers write them. A tag's partnership is its theme's: reading
-- tests the theme against the partnership's themes, found once per query
-- (an uncorrelated subquery), not an audit looked up per row — over
-- 100,000 audits' tags the per-row lookup made the dashboard's count 0.8 s.
ALTER TABLE learning_tags ENABLE ROW LEVEL SECURITY;
CREATE POLICY learning_tags_read_in_partnership ON learning_tags FOR SELECT
    USING (theme_id IN (SELECT t.id FROM learning_themes t
                         WHERE t.partnership_id = maca_setting_uuid('maca.partnership_id')));
CREATE POLICY learning_tags_added_by_staff ON learning_tags FOR INSERT
    WITH CHECK (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id))
                AND theme_id IN (SELECT t.id FROM learning_themes t
                                  WHERE t.partnership_id = maca_setting_uuid('maca.partnership_id')));
CREATE POLICY learning_tags_changed_by_staff ON learning_tags FOR UPDATE
    USING (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id)))
    WITH CHECK (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id)));
CREATE POLICY learning_tags_removed_by_staff ON learning_tags FOR DELETE
    USING (maca_partnership_staff((SELECT a.partnership_id FROM audits a WHERE a.id = audit_id)));
