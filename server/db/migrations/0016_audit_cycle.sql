-- The partnership's audit cycle past one audit's grades (DESIGN, "The
-- audit cycle"): the action plan followed to completion, audit programmes,
-- the multi-agency panel's record, and learning tagged with the
-- partnership's themes.
--
-- Row-level security on every new table, keyed to the sealed identity of
-- migration 0011 as README "Database roles" says (maca_organisation(),
-- maca_partnership(), maca_overseen_partnership(), in scalar subqueries so
-- the seal is verified once per statement): a transaction reads only its
-- own partnership's rows; what an agency's auditor may add is narrowed to
-- its own organisation. Nothing here is changed by maca_app once kept
-- where the history matters (progress updates).

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

-- An agency's submission tracks the rows of its own action table: 0011
-- lets only the partnership's coordinators and reviewers agree an action,
-- so an auditor may add one only from its own organisation's contribution
-- to the audit, responsible for it itself. (Bringing a tracked action up to
-- date on an amendment is 0011's remedial_actions_changed: the responsible
-- organisation's.)
CREATE POLICY remedial_actions_from_own_table ON remedial_actions FOR INSERT
    WITH CHECK (
        responsible_organisation_id = (SELECT maca_organisation())
        AND EXISTS (SELECT 1 FROM contributions c
                     WHERE c.id = remedial_actions.source_contribution_id
                       AND c.audit_id = remedial_actions.audit_id
                       AND c.organisation_id = (SELECT maca_organisation())));

-- The history is seen with its action (0011's remedial_actions policies
-- apply inside: the partnership's coordinators and reviewers, or the
-- organisation responsible); an update is added by those who may change
-- the action, as the sealed person and organisation themselves, never in
-- someone else's name. maca_app adds to it and reads it, never changes or
-- removes a kept update (`maca purge` runs as the owner).
ALTER TABLE remedial_action_updates ENABLE ROW LEVEL SECURITY;
CREATE POLICY remedial_action_updates_read ON remedial_action_updates FOR SELECT
    USING (EXISTS (SELECT 1 FROM remedial_actions r WHERE r.id = remedial_action_updates.action_id));
CREATE POLICY remedial_action_updates_added ON remedial_action_updates FOR INSERT
    WITH CHECK (
        recorded_by = (SELECT maca_user())
        AND recorded_by_organisation IS NOT DISTINCT FROM (SELECT maca_organisation())
        AND EXISTS (SELECT 1 FROM remedial_actions r JOIN audits a ON a.id = r.audit_id
                     WHERE r.id = remedial_action_updates.action_id
                       AND (a.partnership_id = (SELECT maca_overseen_partnership())
                            OR r.responsible_organisation_id = (SELECT maca_organisation()))));
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

-- Programmes are read in their partnership (an agency sees the round it
-- is asked to take part in) and kept by its coordinators and reviewers
-- and its administrators; never deleted.
ALTER TABLE programmes ENABLE ROW LEVEL SECURITY;
CREATE POLICY programmes_read_in_partnership ON programmes FOR SELECT
    USING (partnership_id = (SELECT maca_partnership()));
CREATE POLICY programmes_added ON programmes FOR INSERT
    WITH CHECK (partnership_id = (SELECT maca_overseen_partnership())
                OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin'))));
CREATE POLICY programmes_changed ON programmes FOR UPDATE
    USING (partnership_id = (SELECT maca_overseen_partnership())
           OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin'))))
    WITH CHECK (partnership_id = (SELECT maca_overseen_partnership())
                OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin'))));
REVOKE DELETE, TRUNCATE ON programmes FROM maca_app;

-- Its agencies go with it (replaced as a list when it is changed).
ALTER TABLE programme_agencies ENABLE ROW LEVEL SECURITY;
CREATE POLICY programme_agencies_read ON programme_agencies FOR SELECT
    USING (EXISTS (SELECT 1 FROM programmes p WHERE p.id = programme_agencies.programme_id));
CREATE POLICY programme_agencies_kept ON programme_agencies
    USING (EXISTS (SELECT 1 FROM programmes p
                    WHERE p.id = programme_agencies.programme_id
                      AND (p.partnership_id = (SELECT maca_overseen_partnership())
                           OR (SELECT maca_holds_role('admin')))))
    WITH CHECK (EXISTS (SELECT 1 FROM programmes p
                         WHERE p.id = programme_agencies.programme_id
                           AND (p.partnership_id = (SELECT maca_overseen_partnership())
                                OR (SELECT maca_holds_role('admin')))));
REVOKE TRUNCATE ON programme_agencies FROM maca_app;

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

-- The partnership's coordinators and reviewers read and write it; and, as
-- the audit's own record, it is held with the audit once closed (0011's
-- trigger: 409 until it is reopened).
ALTER TABLE panel_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY panel_records_kept_by_overseers ON panel_records
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = panel_records.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = panel_records.audit_id
                           AND a.partnership_id = (SELECT maca_overseen_partnership())));
REVOKE DELETE, TRUNCATE ON panel_records FROM maca_app;
CREATE TRIGGER panel_records_closed BEFORE INSERT OR UPDATE ON panel_records
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();

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
    USING (partnership_id = (SELECT maca_partnership()));
CREATE POLICY learning_themes_kept_by_admins ON learning_themes
    USING (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin')))
    WITH CHECK (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin')));
REVOKE DELETE, TRUNCATE ON learning_themes FROM maca_app;

-- The partnership reads the tags (the dashboard counts them; the passages
-- behind them stay with the contributions' own rules); its coordinators
-- and reviewers write them, with its own themes only. A tag's partnership
-- is its theme's: reading tests the theme against the partnership's
-- themes, found once per query (an uncorrelated subquery), not an audit
-- looked up per row — over 100,000 audits' tags the per-row lookup made
-- the dashboard's count 0.8 s.
ALTER TABLE learning_tags ENABLE ROW LEVEL SECURITY;
CREATE POLICY learning_tags_read_in_partnership ON learning_tags FOR SELECT
    USING (theme_id IN (SELECT t.id FROM learning_themes t WHERE t.partnership_id = (SELECT maca_partnership())));
CREATE POLICY learning_tags_added_by_overseers ON learning_tags FOR INSERT
    WITH CHECK (
        EXISTS (SELECT 1 FROM audits a
                 WHERE a.id = learning_tags.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership()))
        AND theme_id IN (SELECT t.id FROM learning_themes t
                          WHERE t.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY learning_tags_changed_by_overseers ON learning_tags FOR UPDATE
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = learning_tags.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))
    WITH CHECK (
        EXISTS (SELECT 1 FROM audits a
                 WHERE a.id = learning_tags.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership()))
        AND theme_id IN (SELECT t.id FROM learning_themes t
                          WHERE t.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY learning_tags_removed_by_overseers ON learning_tags FOR DELETE
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = learning_tags.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));
REVOKE TRUNCATE ON learning_tags FROM maca_app;
