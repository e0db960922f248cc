-- Every audit has a reference its coordinator gives it (issue 23).
--
-- Lists and headings named an audit by the case identifier its toolkit
-- collects; two toolkits (early intervention, practice criteria) collect
-- none, so their audits were "Audit 40a6458b". The coordinator's reference
-- is set when the audit is created (the case identifier by default, when
-- the toolkit has one) and corrected by a coordinator. NULL for audits made
-- before this migration: they are still named by their case identifier, or
-- by when they were created, until a coordinator gives them one.
--
-- A nullable column without a default: a catalogue change, no row is read
-- or written (ACCESS EXCLUSIVE on audits for milliseconds, at any size).
-- Its length (100 characters at most) is checked by the step that writes it,
-- so no CHECK scans the table.
ALTER TABLE audits ADD COLUMN reference text;

-- An audit's history for the agencies taking part (issue 23). Until now an
-- auditor read only the events they made themselves (0011's events_read);
-- the history page shows an agency what it is entitled to know of an audit
-- it takes part in (once distributed): what its own organisation did, what
-- was done to its contribution (returned, with the comment), and the
-- audit's moves (to review, closed, reopened, with their reasons, which the
-- coordinator's form says the agencies see). Not other agencies' work, not
-- who takes part, not the panel's moderation, not reads. Another policy on
-- events: a catalogue change, no row read (as 0013's, milliseconds).
CREATE POLICY events_for_those_taking_part ON events FOR SELECT
    USING (
        audit_id IS NOT NULL
        AND action IN ('audit.status-changed', 'contribution.submitted',
                       'contribution.amended', 'contribution.returned', 'action.changed')
        AND (action = 'audit.status-changed'
             OR organisation_id = (SELECT maca_organisation())
             OR target_organisation_id = (SELECT maca_organisation()))
        AND EXISTS (SELECT 1 FROM audits a
                     WHERE a.id = events.audit_id
                       AND a.status <> 'draft'
                       AND (SELECT maca_organisation()) = ANY (a.taking_part)));
