-- Moderation: the grade a partnership's reviewers agreed for a section (or
-- the overall judgement) of an audit, with their reason. The computed grade
-- is never stored: it is recomputed from the contributions on every read,
-- and shown beside the agreed one.

CREATE TABLE moderations (
    audit_id      uuid NOT NULL REFERENCES audits (id),
    target        text NOT NULL,  -- a section id, or 'overall'
    grade         integer NOT NULL CHECK (grade BETWEEN 1 AND 4),
    reason        text NOT NULL CHECK (length(btrim(reason)) > 0),
    moderated_by  uuid REFERENCES users (id),
    moderated_at  timestamptz NOT NULL DEFAULT now(),
    row_version   integer NOT NULL DEFAULT 1,
    PRIMARY KEY (audit_id, target)
);
