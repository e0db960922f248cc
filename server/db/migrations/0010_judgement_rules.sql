-- The edition of the judgement rules an audit is judged by.
--
-- Merge policies can change: the 75% / 25% rule's section grade took the
-- weakest agency's grade, and now applies the 75% / 25% thresholds to the
-- involved agencies' grades (merging/policies.py, RULES_EDITION 2). An
-- audit keeps its toolkit version, and likewise the rules it was created
-- under, so the judgement of an audit created before a change never
-- changes: every audit that exists now is of the first edition; a new one
-- is created under the current edition (server/audits/audits.py names it;
-- the default is only for rows written by hand).
ALTER TABLE audits ADD COLUMN judgement_rules integer NOT NULL DEFAULT 1 CHECK (judgement_rules >= 1);
ALTER TABLE audits ALTER COLUMN judgement_rules SET DEFAULT 2;
