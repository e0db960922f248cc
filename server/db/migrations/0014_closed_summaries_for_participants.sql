-- An agency taking part in a closed audit reads that audit's summary.
--
-- Once an audit is closed its participants see the partnership's grades
-- (GET …/judgement, the report, and the grades export's computed and agreed
-- columns, which read audit_summaries.sections). 0011 confined summaries to
-- the partnership's overseers and the sealed refresh, so an auditor's export
-- lost the partnership's grades after closing. Reading only, only closed
-- audits, only those the organisation takes part in (the audits policy's own
-- rule: the audit row must be visible to the sealed organisation).
CREATE POLICY audit_summaries_closed_for_participants ON audit_summaries FOR SELECT
    USING (EXISTS (
        SELECT 1 FROM audits a
         WHERE a.id = audit_summaries.audit_id
           AND a.status = 'closed'
           AND (SELECT maca_organisation()) = ANY (a.taking_part)));
