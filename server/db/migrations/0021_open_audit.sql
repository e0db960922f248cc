-- An audit read, with who is asking, in one round trip (issue 24).
--
-- A read of an audit (the API's audit and its judgement) made its own
-- round trip to set the sealed identity (migration 0011) before it read
-- the audit with the caller's participation; a contribution's save and the
-- agency's pages already set it with their first read
-- (maca_open_contribution, migration 0019). maca_open_audit does the same
-- for a read of the audit alone: it sets the seal for the transaction, if
-- one is given, then reads the audit and whether the organisation takes
-- part (and as what kind), as server/db/audits.get does.
--
-- SECURITY INVOKER, as 0019's functions: row-level security confines the
-- read exactly as it confines the statement it replaces, the seal is
-- verified by the policies, and a forged or stale one reads nothing. The
-- seal travels as a parameter, never in a statement's text. plpgsql, whose
-- statements' plans are kept for the session.
CREATE FUNCTION maca_open_audit(sealed text, wanted_audit uuid, wanted_organisation uuid)
    RETURNS TABLE (
        id uuid, partnership_id uuid, toolkit_id text, toolkit_version integer, case_details jsonb,
        period_start date, period_end date, referring_organisation_id uuid, due_date date, status text,
        row_version integer, created_by uuid, created_at timestamptz, updated_by uuid, updated_at timestamptz,
        local_toolkit_version_id uuid, merge_policy text, judgement_rules integer, reference text,
        participates boolean, participant_kind text
    )
    LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
    -- NULL: the transaction's identity is set already, and stays.
    IF sealed IS NOT NULL THEN
        PERFORM set_config('maca.identity', sealed, true);
    END IF;
    -- A statement of its own, after the seal is set: the policies read it.
    RETURN QUERY
    SELECT a.id, a.partnership_id, a.toolkit_id, a.toolkit_version, a.case_details,
           a.period_start, a.period_end, a.referring_organisation_id, a.due_date, a.status,
           a.row_version, a.created_by, a.created_at, a.updated_by, a.updated_at,
           a.local_toolkit_version_id, a.merge_policy, a.judgement_rules, a.reference,
           p.removed_at IS NULL AND p.audit_id IS NOT NULL, p.agency_kind
      FROM public.audits a
      LEFT JOIN public.audit_participants p ON p.audit_id = a.id AND p.organisation_id = wanted_organisation
     WHERE a.id = wanted_audit;
END
$$;
