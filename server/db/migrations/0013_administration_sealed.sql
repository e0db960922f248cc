-- The administration (migration 0012) under the sealed identity (0011).
--
-- 0012 and 0011 were written side by side: 0012 keyed its tables' policies
-- to the settings maca_app wrote for itself (maca.partnership_id,
-- maca.roles, through maca_setting_uuid, which 0011 dropped), and 0011
-- took from maca_app every change of a partnership or an organisation
-- that an administrator now makes. Here the administration's rows are
-- keyed to the verified identity instead, and an administrator may change
-- their own partnership's record and organisations and nobody else's.
-- (server/db/migrate.py creates 0012's two functions without checking
-- their bodies, since they name maca_setting_uuid; they are replaced
-- here, in the same transaction, before anything calls them.)

-- 1. Who belongs to a partnership, and who administers it: the sealed
--    identity's partnership and roles. Every policy of 0012 calls these,
--    so each now answers as the seal says; settings maca_app writes for
--    itself show nothing.
CREATE OR REPLACE FUNCTION maca_partnership_member(partnership uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(partnership = public.maca_partnership(), false)
$$;

CREATE OR REPLACE FUNCTION maca_partnership_admin(partnership uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(partnership = public.maca_partnership() AND public.maca_holds_role('admin'), false)
$$;

-- 2. What maca_app may do to the administration's tables at all: nothing
--    a request does not do. Contacts are replaced as a list (deleted and
--    inserted again); settings, toolkit choices and machine clients are
--    changed, never deleted; toolkit versions were already kept (0012).
REVOKE DELETE, TRUNCATE ON partnership_settings, partnership_toolkits, machine_clients FROM maca_app;
REVOKE TRUNCATE ON organisation_contacts FROM maca_app;

-- 3. Partnerships and organisations: an administrator renames their own
--    partnership, registers organisations in it and corrects them (name,
--    kind, active, confirmed). An organisation moves between partnerships
--    only unconfirmed: an administrator may hand one of theirs to another
--    partnership flagged for its administrator to confirm, and may claim
--    one recorded elsewhere at a sign-in that nobody there confirmed
--    (server/audits/administration/organisations.py: correct, claim). A
--    confirmed organisation of another partnership is out of reach.
--    Recording at a first sign-in stays as 0011 made it (the server's seal
--    of the token).
GRANT UPDATE ON partnerships, organisations TO maca_app;

CREATE POLICY partnerships_kept_by_admins ON partnerships FOR UPDATE
    USING (maca_partnership_admin(id)) WITH CHECK (maca_partnership_admin(id));

CREATE POLICY organisations_registered_by_admins ON organisations FOR INSERT
    WITH CHECK (maca_partnership_admin(partnership_id));
CREATE POLICY organisations_kept_by_admins ON organisations FOR UPDATE
    USING (maca_partnership_admin(partnership_id) OR (needs_confirmation AND maca_holds_role('admin')))
    WITH CHECK (maca_partnership_admin(partnership_id) OR (needs_confirmation AND maca_holds_role('admin')));

-- 4. The administration's trail (events with no audit, naming the
--    partnerships they concern in detail.partnership_ids): read by the
--    partnership's administrators, whoever did them. Events are still
--    written only by maca_record_event, as the sealed person.
CREATE POLICY events_administration_read ON events FOR SELECT
    USING (
        audit_id IS NULL
        AND (SELECT maca_holds_role('admin'))
        AND detail -> 'partnership_ids' ? (SELECT maca_partnership())::text);

-- 5. A session is found by its key as before, now with its partnership's
--    code and name (the principal carries them), and none for a person
--    whose organisation an administrator made inactive.
DROP FUNCTION maca_session(bytea);
CREATE FUNCTION maca_session(session_key_hash bytea)
    RETURNS TABLE (csrf_token text, expires_at timestamptz, id uuid, issuer text, subject text, display_name text,
                   roles text[], organisation_id uuid, code text, name text, agency_kind text, partnership_id uuid,
                   partnership_code text, partnership_name text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.csrf_token, s.expires_at, u.id, u.issuer, u.subject, u.display_name, u.roles,
           o.id, o.code, o.name, o.agency_kind, o.partnership_id, p.code, p.name
      FROM public.sessions s
      JOIN public.users u ON u.id = s.user_id
      JOIN public.organisations o ON o.id = u.organisation_id
      JOIN public.partnerships p ON p.id = o.partnership_id
     WHERE s.key_hash = session_key_hash AND s.expires_at > now() AND o.active
$$;
