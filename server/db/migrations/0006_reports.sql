-- The partnership's themes across audits (issue 8).
--
-- Merging an audit's contributions on every dashboard read would cost a
-- merge per audit; instead each audit's partnership judgement is summarised
-- when it can change (a contribution submitted, amended or returned, a
-- moderation, a change of status), in the same transaction, and counted
-- into two small tables the dashboard adds up. Nothing here holds answer
-- text or case details: only ids, grades and counts.

-- What one audit currently contributes to the counts, so that a refresh can
-- take its old contribution away before adding the new one.
CREATE TABLE audit_summaries (
    audit_id            uuid PRIMARY KEY REFERENCES audits (id),
    partnership_id      uuid NOT NULL REFERENCES partnerships (id),
    toolkit_id          text NOT NULL,
    status              text NOT NULL,
    quarter             date NOT NULL,  -- first day of the quarter the audit was created in
    provisional         boolean NOT NULL,
    overall_grade       smallint,
    immediate_concerns  integer NOT NULL DEFAULT 0,
    -- [{section_id, grade, computed_grade, disagreement, moderated, provisional, concerns}]
    sections            jsonb NOT NULL DEFAULT '[]',
    -- [{organisation_id, agency_kind, section_id, grade}]: submitted grades only
    agency_grades       jsonb NOT NULL DEFAULT '[]',
    participating_kinds text[] NOT NULL DEFAULT '{}',
    refreshed_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_summaries_partnership ON audit_summaries (partnership_id, quarter);

-- The partnership's grade of each section (and 'overall') counted per
-- audit. ``participating_kind`` is '*' for every audit, or an agency kind
-- for the audits that kind took part in (the agency kind filter); grade 0
-- is "not graded yet".
CREATE TABLE theme_section_counts (
    partnership_id      uuid NOT NULL,
    toolkit_id          text NOT NULL,
    status              text NOT NULL,
    quarter             date NOT NULL,
    participating_kind  text NOT NULL,
    section_id          text NOT NULL,
    grade               smallint NOT NULL CHECK (grade BETWEEN 0 AND 4),
    audits              integer NOT NULL DEFAULT 0,
    disagreed           integer NOT NULL DEFAULT 0,
    moderated           integer NOT NULL DEFAULT 0,
    provisional         integer NOT NULL DEFAULT 0,
    concerns            integer NOT NULL DEFAULT 0,
    PRIMARY KEY (partnership_id, participating_kind, quarter, toolkit_id, status, section_id, grade)
);

-- Each organisation's own submitted grade of each section, counted.
CREATE TABLE theme_agency_counts (
    partnership_id   uuid NOT NULL,
    toolkit_id       text NOT NULL,
    status           text NOT NULL,
    quarter          date NOT NULL,
    organisation_id  uuid NOT NULL,
    agency_kind      text NOT NULL,
    section_id       text NOT NULL,
    grade            smallint NOT NULL CHECK (grade BETWEEN 1 AND 4),
    grades           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind, section_id, grade)
);

-- The overdue remedial actions of a partnership's audits, by organisation.
CREATE INDEX remedial_actions_open_responsible ON remedial_actions (responsible_organisation_id, due_date)
    WHERE NOT completed;
