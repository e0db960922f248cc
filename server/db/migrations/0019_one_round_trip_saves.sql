-- A contribution saved in one round trip of writing, and read for it in one
-- more with who is asking (issue 24).
--
-- A draft save made six statements in its transaction: the sealed identity,
-- the audit with the caller's participation, the contribution, the update,
-- the event, and the BEGIN/COMMIT around them; pgbench's save of the same
-- row makes four. The seal set per request (migration 0011) made it one
-- more round trip than before. Now:
--
-- 1. maca_open_contribution(seal, audit, organisation) sets the sealed
--    identity for the transaction and reads the audit, whether the
--    organisation takes part (and as what kind), and its contribution, in
--    one call. It is SECURITY INVOKER: row-level security confines its
--    reads exactly as it confines the separate statements it replaces (the
--    seal is verified by the policies, as before; a forged or stale one
--    reads nothing). The seal travels as a parameter, never in the text.
-- 2. The server validates against the toolkit (in Python, as before).
-- 3. maca_save_contribution(...) writes: the update if nobody changed the
--    contribution since the version read AND the audit is still in the
--    status read (a coordinator moving it to review between the read and
--    the write no longer slips a draft in), the kept version when it is an
--    amendment or a submission, and the event (through maca_record_event,
--    which takes the actor from the seal). SECURITY INVOKER too: the
--    contributions' and versions' policies and the closed-audit triggers
--    apply as they did. No row back: someone changed it meanwhile (412).
--
-- Both are plain functions of maca_app's privileges; nothing here grants or
-- bypasses anything. Both are plpgsql, which keeps its statements' plans for
-- the session: a SQL function of more than one statement is planned again
-- at every call (PostgreSQL 16), which cost the save 0.5 ms of PostgreSQL's
-- CPU in the first measurement. The writer is the seal's user
-- (maca_user()), read once.

CREATE FUNCTION maca_open_contribution(sealed text, wanted_audit uuid, wanted_organisation uuid)
    RETURNS TABLE (
        id uuid, partnership_id uuid, toolkit_id text, toolkit_version integer, case_details jsonb,
        period_start date, period_end date, referring_organisation_id uuid, due_date date, status text,
        row_version integer, created_by uuid, created_at timestamptz, updated_by uuid, updated_at timestamptz,
        local_toolkit_version_id uuid, merge_policy text, judgement_rules integer, reference text,
        participates boolean, participant_kind text,
        c_id uuid, c_status text, c_content jsonb, c_answered integer, c_applicable integer,
        c_row_version integer, c_submitted_at timestamptz, c_returned_at timestamptz, c_returned_comment text,
        c_updated_by uuid, c_updated_at timestamptz, c_open_concerns boolean
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
           p.removed_at IS NULL AND p.audit_id IS NOT NULL, p.agency_kind,
           c.id, c.status, c.content, c.answered, c.applicable,
           c.row_version, c.submitted_at, c.returned_at, c.returned_comment,
           c.updated_by, c.updated_at,
           -- Whether this organisation has an immediate concern open on the
           -- audit (issue 20): a save that raises none and finds none open
           -- need not read them again.
           EXISTS (SELECT 1 FROM public.concerns k
                    WHERE k.audit_id = a.id AND k.organisation_id = wanted_organisation AND k.closed_at IS NULL)
      FROM public.audits a
      LEFT JOIN public.audit_participants p ON p.audit_id = a.id AND p.organisation_id = wanted_organisation
      LEFT JOIN public.contributions c ON c.audit_id = a.id AND c.organisation_id = wanted_organisation
     WHERE a.id = wanted_audit;
END
$$;

CREATE FUNCTION maca_save_contribution(
    contribution uuid, seen_version integer, audit_status text,
    new_status text, new_content jsonb, new_answered integer, new_applicable integer,
    kept_kind text, kept_reason text, event_action text, event_detail jsonb)
    RETURNS TABLE (
        id uuid, audit_id uuid, organisation_id uuid, status text, content jsonb, answered integer,
        applicable integer, row_version integer, submitted_at timestamptz, returned_at timestamptz,
        returned_comment text, updated_by uuid, updated_at timestamptz, kept_version integer
    )
    LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    saved public.contributions%ROWTYPE;
    kept integer;
    detail jsonb := coalesce(event_detail, '{}'::jsonb);
    writer uuid := public.maca_user();
BEGIN
    UPDATE public.contributions c
       SET status = new_status, content = new_content, answered = new_answered, applicable = new_applicable,
           updated_by = writer, updated_at = now(),
           submitted_at = CASE WHEN new_status = 'submitted' AND c.status <> 'submitted' THEN now()
                               ELSE c.submitted_at END,
           row_version = c.row_version + 1
     WHERE c.id = contribution AND c.row_version = seen_version
       AND EXISTS (SELECT 1 FROM public.audits a WHERE a.id = c.audit_id AND a.status = audit_status)
    RETURNING c.* INTO saved;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF kept_kind IS NOT NULL THEN
        INSERT INTO public.contribution_versions (contribution_id, version, kind, reason, content, created_by)
        SELECT saved.id, coalesce(max(v.version), 0) + 1, kept_kind, kept_reason, new_content, writer
          FROM public.contribution_versions v WHERE v.contribution_id = saved.id
        RETURNING version INTO kept;
        detail := detail || jsonb_build_object('version', kept);
    END IF;
    PERFORM public.maca_record_event(event_action, saved.audit_id, saved.organisation_id, detail);
    RETURN QUERY SELECT saved.id, saved.audit_id, saved.organisation_id, saved.status, saved.content,
                        saved.answered, saved.applicable, saved.row_version, saved.submitted_at,
                        saved.returned_at, saved.returned_comment, saved.updated_by, saved.updated_at, kept;
END
$$;
