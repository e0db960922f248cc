-- Identity the database can verify, row-level security on every table
-- that holds case data, events written only under a verified identity,
-- and closed audits that stay closed.
--
-- Until now each request's transaction named its organisation, partnership
-- and roles in settings that maca_app itself wrote (migration 0005), so an
-- injected query could name any organisation and read its drafts; and only
-- contributions and their versions had policies at all. Now the server
-- seals who is asking (HMAC-SHA-256 over user, organisation, partnership,
-- roles and the time) with a key kept where maca_app has no privilege, and
-- every policy asks the functions below, which verify the seal as the
-- tables' owner and answer nothing for a missing, forged or stale one.
-- PostgREST, by contrast, verifies its JWT in the server and then trusts
-- the settings it writes; this is pgjwt's idea (verify inside PostgreSQL),
-- built on the core sha256() because pgcrypto is not always installed.
--
-- The recipe a new table follows is in README, "Database roles".

-- 1. The signing key: a schema of the owner's that maca_app has no USAGE
--    on, so it cannot even name the table. `maca migrate` stores the key
--    (server/db/identity.py): MACA_DB_IDENTITY_KEY, or one it generates.
--    The HMAC pads (RFC 2104) are kept beside it, so a verification is two
--    sha256() calls.
CREATE SCHEMA maca_private;
REVOKE ALL ON SCHEMA maca_private FROM PUBLIC;

CREATE TABLE maca_private.signing_key (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key        bytea NOT NULL CHECK (length(key) BETWEEN 32 AND 64),
    inner_pad  bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad  bytea NOT NULL CHECK (length(outer_pad) = 64),
    set_at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION maca_private.set_signing_key(new_key bytea) RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    block bytea := new_key || decode(repeat('00', 64 - length(new_key)), 'hex');
    inner_pad bytea := block;
    outer_pad bytea := block;
BEGIN
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(block, i) # 54);  -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(block, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO maca_private.signing_key (key, inner_pad, outer_pad) VALUES (new_key, inner_pad, outer_pad)
    ON CONFLICT (singleton) DO UPDATE
       SET key = excluded.key, inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad, set_at = now();
END
$$;

-- A sealed value is "<64 hex digits of the HMAC>.<JSON claims>" (server/
-- db/identity.py). The claims say what kind of seal it is ("k"), so one
-- kind is never taken for another, and when it was made ("t", seconds
-- since 1970 by the server's clock): it is good only within 60 seconds of
-- `at` either way, which bounds how long a copied seal is worth anything
-- and tolerates clocks up to a minute apart. About 13 microseconds a call
-- on the development machine (plpgsql keeps its plans; pgjwt-style SQL
-- functions were 90).
-- Only the functions below call it (maca_app may not use maca_private),
-- each with its search path set.
CREATE FUNCTION maca_private.claims(sealed text, kind text, at timestamptz) RETURNS jsonb LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    pads record;
    claims jsonb;
BEGIN
    SELECT k.inner_pad, k.outer_pad INTO pads FROM maca_private.signing_key k;
    IF NOT FOUND OR left(sealed, 65) IS DISTINCT FROM
       encode(sha256(pads.outer_pad || sha256(pads.inner_pad || convert_to(substr(sealed, 66), 'UTF8'))), 'hex') || '.'
    THEN
        RETURN NULL;
    END IF;
    claims := substr(sealed, 66)::jsonb;
    IF claims ->> 'k' IS DISTINCT FROM kind
       OR NOT coalesce(abs(extract(epoch FROM at) - (claims ->> 't')::numeric) <= 60, false) THEN
        RETURN NULL;
    END IF;
    RETURN claims;
END
$$;

-- 2. Who is asking, verified. The server sets `maca.identity` once per
--    transaction (server/platform/transactions.py), as a statement
--    parameter, never in a statement's text (which pg_stat_activity shows
--    every session of the same role). The seal holds the user ("u"),
--    organisation ("o"), partnership ("p") and roles ("r"), and is checked
--    against the transaction's start. Policies call these functions inside
--    a scalar subquery, `(SELECT maca_organisation())`, which PostgreSQL
--    evaluates once per statement rather than once per row.
CREATE FUNCTION maca_identity() RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT maca_private.claims(current_setting('maca.identity', true), 'identity', now())
$$;

CREATE FUNCTION maca_user() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT (public.maca_identity() ->> 'u')::uuid
$$;

CREATE FUNCTION maca_organisation() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT (public.maca_identity() ->> 'o')::uuid
$$;

CREATE FUNCTION maca_partnership() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT (public.maca_identity() ->> 'p')::uuid
$$;

-- The partnership the caller oversees (coordinators and reviewers:
-- `partnership:oversee`), or nothing.
CREATE FUNCTION maca_overseen_partnership() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN i -> 'r' ?| ARRAY['coordinator', 'reviewer'] THEN (i ->> 'p')::uuid END
      FROM public.maca_identity() AS i
$$;

-- Whether the caller holds a role (for tables of one role's, such as an
-- administrator's: `partnership_id = (SELECT maca_partnership()) AND
-- (SELECT maca_holds_role('admin'))`).
CREATE FUNCTION maca_holds_role(role text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(public.maca_identity() -> 'r' ? role, false)
$$;

-- Which organisations take part in an audit now is kept on the audit
-- itself (`audits.taking_part`, section 5a), so that the audits' policy is
-- a test of the row in hand: asking audit_participants instead would make
-- its policy and the participants' ask each other (PostgreSQL refuses such
-- a circle), and a definer function listing the caller's audits cost each
-- statement a pass over all of them (1,066 of the 2,000 benchmark audits
-- for one agency: 2 ms an audit read; 100,000 audits would make it 50).

-- The one audit whose summary the transaction is refreshing: an audit's
-- themes summary is made from every agency's contribution, whoever's change
-- set it off (server/db/themes.py, summarising). The server seals the audit
-- ("a") for the user of the transaction ("u") for the moment it reads, as
-- `maca.summarising`; the seal is checked against the statement's start
-- and must name the verified user. Naming an audit in a setting, as
-- migration 0009 allowed, shows nothing any more.
CREATE FUNCTION maca_summarising() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT (g ->> 'a')::uuid
      FROM maca_private.claims(current_setting('maca.summarising', true), 'summarising', statement_timestamp()) AS g
     WHERE g ->> 'u' = public.maca_identity() ->> 'u'
$$;

-- What a token said about a person being recorded on first sight
-- (server/db/users.py): set as `maca.recording` for that transaction only.
CREATE FUNCTION maca_recording() RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT maca_private.claims(current_setting('maca.recording', true), 'recording', now())
$$;

-- Whether the database accepts a seal the server made just now: each new
-- pooled connection asks (server/db/pool.py), so a server holding another
-- key than the database's, or a clock minutes away, answers 503 instead of
-- serving pages that show nothing.
CREATE FUNCTION maca_accepts(sealed text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT maca_private.claims(sealed, 'probe', statement_timestamp()) IS NOT NULL
$$;

-- 3. Out with the settings maca_app wrote for itself (migrations 0005, 0009).
DROP POLICY contributions_own_or_partnership_staff ON contributions;
DROP POLICY contributions_of_closed_audits_to_participants ON contributions;
DROP POLICY contributions_being_summarised ON contributions;
DROP POLICY contribution_versions_own_or_partnership_staff ON contribution_versions;
DROP FUNCTION maca_partnership_staff(uuid);
DROP FUNCTION maca_setting_uuid(text);

-- 4. What maca_app may do at all, table by table, before the policies say
--    which rows: never delete what a request does not delete, never
--    change a partnership or organisation once recorded, and only read
--    events (they are written by maca_record_event, below).
REVOKE DELETE, TRUNCATE ON partnerships, organisations, users, audits, audit_participants, contributions,
    remedial_actions, moderations, audit_summaries, theme_section_counts, theme_agency_counts, theme_versions,
    idempotency_keys FROM maca_app;
REVOKE UPDATE ON partnerships, organisations FROM maca_app;
REVOKE INSERT ON events FROM maca_app;
REVOKE ALL ON sign_in_requests FROM maca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON sessions FROM maca_app;

-- 5. Row-level security, keyed to the verified identity. The tables' owner
--    (migrations, `maca purge`, `maca demo`, `maca events verify`) is not
--    bound; maca_app always is (it cannot bypass row-level security).

-- Partnerships and organisations: no personal data, read by everyone
-- (a token names its organisation by code before anyone is verified);
-- added only as a token sealed by the server says.
ALTER TABLE partnerships ENABLE ROW LEVEL SECURITY;
CREATE POLICY partnerships_read ON partnerships FOR SELECT USING (true);
CREATE POLICY partnerships_recorded ON partnerships FOR INSERT
    WITH CHECK (code = (SELECT maca_recording() ->> 'partnership'));

ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
CREATE POLICY organisations_read ON organisations FOR SELECT USING (true);
CREATE POLICY organisations_recorded ON organisations FOR INSERT
    WITH CHECK (
        code = (SELECT maca_recording() ->> 'organisation')
        AND name = (SELECT coalesce(maca_recording() ->> 'organisation_name', maca_recording() ->> 'organisation'))
        AND agency_kind = (SELECT maca_recording() ->> 'agency_kind')
        AND partnership_id = (SELECT p.id FROM partnerships p WHERE p.code = (SELECT maca_recording() ->> 'partnership')));

-- People: names and roles. Each person sees themselves and the people of
-- their partnership (a moderation names its reviewer); a person is written
-- only as exactly what their sealed token says, so no one can give
-- themselves, or anyone, another role or organisation (a session's
-- principal is read from here).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_read ON users FOR SELECT
    USING (
        id = (SELECT maca_user())
        OR organisation_id IN (SELECT o.id FROM organisations o WHERE o.partnership_id = (SELECT maca_partnership()))
        OR (issuer = (SELECT maca_recording() ->> 'issuer') AND subject = (SELECT maca_recording() ->> 'subject')));
CREATE POLICY users_recorded ON users FOR INSERT
    WITH CHECK (
        issuer = (SELECT maca_recording() ->> 'issuer')
        AND subject = (SELECT maca_recording() ->> 'subject')
        AND organisation_id = (SELECT o.id FROM organisations o WHERE o.code = (SELECT maca_recording() ->> 'organisation'))
        AND display_name IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'name')
        AND roles = (SELECT array(SELECT jsonb_array_elements_text(maca_recording() -> 'roles'))));
CREATE POLICY users_recorded_again ON users FOR UPDATE
    USING (issuer = (SELECT maca_recording() ->> 'issuer') AND subject = (SELECT maca_recording() ->> 'subject'))
    WITH CHECK (
        issuer = (SELECT maca_recording() ->> 'issuer')
        AND subject = (SELECT maca_recording() ->> 'subject')
        AND organisation_id = (SELECT o.id FROM organisations o WHERE o.code = (SELECT maca_recording() ->> 'organisation'))
        AND display_name IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'name')
        AND roles = (SELECT array(SELECT jsonb_array_elements_text(maca_recording() -> 'roles'))));

-- 5a. Who takes part, on the audit: the organisations taking part now
--     (not removed), kept by triggers on audit_participants after every
--     statement that changes it, as the owner. Only those triggers write
--     it: a request's own INSERT or UPDATE of audits cannot name anyone.
ALTER TABLE audits ADD COLUMN taking_part uuid[] NOT NULL DEFAULT '{}';
UPDATE audits a
   SET taking_part = coalesce((SELECT array_agg(p.organisation_id ORDER BY p.organisation_id)
                                 FROM audit_participants p WHERE p.audit_id = a.id AND p.removed_at IS NULL), '{}');

CREATE FUNCTION maca_private.count_taking_part(changed uuid[]) RETURNS void LANGUAGE sql
    SET search_path = pg_catalog, pg_temp AS $$
    UPDATE public.audits a
       SET taking_part = coalesce((SELECT array_agg(p.organisation_id ORDER BY p.organisation_id)
                                     FROM public.audit_participants p
                                    WHERE p.audit_id = a.id AND p.removed_at IS NULL), '{}')
     WHERE a.id IN (SELECT unnest(changed))
$$;

CREATE FUNCTION maca_private.participants_added() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM maca_private.count_taking_part(ARRAY(SELECT DISTINCT audit_id FROM added));
    RETURN NULL;
END
$$;

CREATE FUNCTION maca_private.participants_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM maca_private.count_taking_part(
        ARRAY(SELECT audit_id FROM before_change UNION SELECT audit_id FROM after_change));
    RETURN NULL;
END
$$;

CREATE FUNCTION maca_private.participants_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM maca_private.count_taking_part(ARRAY(SELECT DISTINCT audit_id FROM gone));
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_participants_added AFTER INSERT ON audit_participants
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION maca_private.participants_added();
CREATE TRIGGER audit_participants_changed AFTER UPDATE ON audit_participants
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION maca_private.participants_changed();
CREATE TRIGGER audit_participants_deleted AFTER DELETE ON audit_participants
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION maca_private.participants_deleted();

-- A statement of a request's own (trigger depth 1) keeps the column as it
-- was; the triggers above write it from inside theirs (depth 2 and more).
CREATE FUNCTION maca_private.keep_taking_part() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pg_trigger_depth() = 1
       AND NOT pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        NEW.taking_part := CASE WHEN TG_OP = 'INSERT' THEN '{}'::uuid[] ELSE OLD.taking_part END;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audits_taking_part BEFORE INSERT OR UPDATE OF taking_part ON audits
    FOR EACH ROW EXECUTE FUNCTION maca_private.keep_taking_part();

-- Audits (case details): the partnership's coordinators and reviewers see
-- and change them; an agency sees those it takes part in once distributed.
ALTER TABLE audits ENABLE ROW LEVEL SECURITY;
CREATE POLICY audits_read ON audits FOR SELECT
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (status <> 'draft' AND (SELECT maca_organisation()) = ANY (taking_part)));
CREATE POLICY audits_created ON audits FOR INSERT WITH CHECK (partnership_id = (SELECT maca_overseen_partnership()));
CREATE POLICY audits_changed ON audits FOR UPDATE
    USING (partnership_id = (SELECT maca_overseen_partnership()))
    WITH CHECK (partnership_id = (SELECT maca_overseen_partnership()));

-- Who takes part: seen with the audit; changed by its overseers.
ALTER TABLE audit_participants ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_participants_read ON audit_participants FOR SELECT
    USING (EXISTS (SELECT 1 FROM audits a WHERE a.id = audit_participants.audit_id));
CREATE POLICY audit_participants_added ON audit_participants FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = audit_participants.audit_id
                           AND a.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY audit_participants_changed ON audit_participants FOR UPDATE
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = audit_participants.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = audit_participants.audit_id
                           AND a.partnership_id = (SELECT maca_overseen_partnership())));

-- Contributions: an agency reads and writes its own organisation's; the
-- partnership's coordinators and reviewers every contribution to its
-- audits; a closed audit's participants may read (never write) all of its
-- contributions, for the partnership's grades; and the summary refresh
-- reads the one audit it was sealed for.
ALTER TABLE contributions ENABLE ROW LEVEL SECURITY;
CREATE POLICY contributions_read ON contributions FOR SELECT
    USING (
        organisation_id = (SELECT maca_organisation())
        OR EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = contributions.audit_id
                      AND (a.partnership_id = (SELECT maca_overseen_partnership()) OR a.status = 'closed'))
        OR audit_id = (SELECT maca_summarising()));
CREATE POLICY contributions_added ON contributions FOR INSERT
    WITH CHECK (
        organisation_id = (SELECT maca_organisation())
        OR EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = contributions.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY contributions_changed ON contributions FOR UPDATE
    USING (
        organisation_id = (SELECT maca_organisation())
        OR EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = contributions.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))
    WITH CHECK (
        organisation_id = (SELECT maca_organisation())
        OR EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = contributions.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));

-- Kept versions: only the agency's own, or the partnership's overseers'.
ALTER TABLE contribution_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY contribution_versions_read ON contribution_versions FOR SELECT
    USING (EXISTS (
        SELECT 1 FROM contributions c
         WHERE c.id = contribution_versions.contribution_id
           AND (c.organisation_id = (SELECT maca_organisation())
                OR EXISTS (SELECT 1 FROM audits a
                            WHERE a.id = c.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))));
CREATE POLICY contribution_versions_kept ON contribution_versions FOR INSERT
    WITH CHECK (EXISTS (
        SELECT 1 FROM contributions c
         WHERE c.id = contribution_versions.contribution_id
           AND (c.organisation_id = (SELECT maca_organisation())
                OR EXISTS (SELECT 1 FROM audits a
                            WHERE a.id = c.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))));

-- Moderations: the overseers' (who write them); a closed audit's
-- participants read them with the partnership's grades; the summary
-- refresh reads its audit's.
ALTER TABLE moderations ENABLE ROW LEVEL SECURITY;
CREATE POLICY moderations_read ON moderations FOR SELECT
    USING (
        EXISTS (SELECT 1 FROM audits a
                 WHERE a.id = moderations.audit_id
                   AND (a.partnership_id = (SELECT maca_overseen_partnership()) OR a.status = 'closed'))
        OR audit_id = (SELECT maca_summarising()));
CREATE POLICY moderations_agreed ON moderations FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = moderations.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY moderations_changed ON moderations FOR UPDATE
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = moderations.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())))
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = moderations.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));

-- Remedial actions: the overseers' (who agree them); an agency's auditors
-- see, and record progress on, those their organisation is responsible for.
ALTER TABLE remedial_actions ENABLE ROW LEVEL SECURITY;
CREATE POLICY remedial_actions_read ON remedial_actions FOR SELECT
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = remedial_actions.audit_id
                      AND (a.partnership_id = (SELECT maca_overseen_partnership())
                           OR remedial_actions.responsible_organisation_id = (SELECT maca_organisation()))));
CREATE POLICY remedial_actions_agreed ON remedial_actions FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = remedial_actions.audit_id
                           AND a.partnership_id = (SELECT maca_overseen_partnership())));
CREATE POLICY remedial_actions_changed ON remedial_actions FOR UPDATE
    USING (EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = remedial_actions.audit_id
                      AND (a.partnership_id = (SELECT maca_overseen_partnership())
                           OR remedial_actions.responsible_organisation_id = (SELECT maca_organisation()))))
    WITH CHECK (EXISTS (SELECT 1 FROM audits a
                         WHERE a.id = remedial_actions.audit_id
                           AND (a.partnership_id = (SELECT maca_overseen_partnership())
                                OR remedial_actions.responsible_organisation_id = (SELECT maca_organisation()))));

-- Events: each person's own, and every event of the audits a person
-- oversees. Written only by maca_record_event.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT
    USING (
        user_id = (SELECT maca_user())
        OR EXISTS (SELECT 1 FROM audits a
                    WHERE a.id = events.audit_id AND a.partnership_id = (SELECT maca_overseen_partnership())));

-- Stored responses to retried POSTs (a whole submitted contribution, case
-- details): only the person who sent the request.
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_own ON idempotency_keys
    USING (user_id = (SELECT maca_user()))
    WITH CHECK (user_id = (SELECT maca_user()));

-- Sessions: a person opens their own; finding one by its cookie, ending it
-- and forgetting expired ones go through the functions below, which need
-- the cookie's key (its hash is all the table holds).
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions
    USING (user_id = (SELECT maca_user()))
    WITH CHECK (user_id = (SELECT maca_user()));

-- Sign-ins under way: only through the functions below.
ALTER TABLE sign_in_requests ENABLE ROW LEVEL SECURITY;

-- The themes (grades and counts, no case details): the partnership's
-- overseers; an agency its own organisation's counted grades; and the
-- refresh sealed for one audit of the caller's partnership writes them.
ALTER TABLE audit_summaries ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_summaries_kept ON audit_summaries
    USING (partnership_id = (SELECT maca_overseen_partnership()) OR audit_id = (SELECT maca_summarising()))
    WITH CHECK (partnership_id = (SELECT maca_overseen_partnership()) OR audit_id = (SELECT maca_summarising()));

ALTER TABLE theme_section_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY theme_section_counts_kept ON theme_section_counts
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_summarising()) IS NOT NULL))
    WITH CHECK (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_summarising()) IS NOT NULL));

ALTER TABLE theme_agency_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY theme_agency_counts_kept ON theme_agency_counts
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_summarising()) IS NOT NULL))
    WITH CHECK (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_summarising()) IS NOT NULL));
CREATE POLICY theme_agency_counts_own ON theme_agency_counts FOR SELECT
    USING (organisation_id = (SELECT maca_organisation()));

-- A partnership's themes version: a number, bumped by any of its people's
-- changes (an agency recording progress on an action included).
ALTER TABLE theme_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY theme_versions_own ON theme_versions
    USING (partnership_id = (SELECT maca_partnership()))
    WITH CHECK (partnership_id = (SELECT maca_partnership()));

-- The strands' heads: maca_app has no privilege on them at all; only the
-- owner's trigger (events_chain) and functions read and move them.
ALTER TABLE event_strand_heads ENABLE ROW LEVEL SECURITY;

-- 6. Events, written only here: the actor is the verified identity, never
--    a value the caller passes, and an audit named must be of the actor's
--    partnership. The hash chain (events_chain, migration 0008) runs as
--    before.
CREATE FUNCTION maca_record_event(event_action text, event_audit_id uuid, event_target_organisation_id uuid,
                                  event_detail jsonb) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    actor jsonb := public.maca_identity();
    recorded bigint;
BEGIN
    IF actor IS NULL THEN
        RAISE EXCEPTION 'an event is recorded only for a verified identity' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF event_audit_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM public.audits a WHERE a.id = event_audit_id AND a.partnership_id = (actor ->> 'p')::uuid
    ) THEN
        RAISE EXCEPTION 'an event may name only an audit of its actor''s partnership'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.events (user_id, organisation_id, action, audit_id, target_organisation_id, detail)
    VALUES ((actor ->> 'u')::uuid, (actor ->> 'o')::uuid, event_action, event_audit_id,
            event_target_organisation_id, coalesce(event_detail, '{}'::jsonb))
    RETURNING id INTO recorded;
    RETURN recorded;
END
$$;

-- The strands' heads as they stand, for the server's signed checkpoints of
-- the trail (server/platform/trail.py): hashes, no content.
CREATE FUNCTION maca_trail_heads() RETURNS TABLE (strand smallint, "position" bigint, hash bytea)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT h.strand, h.position, h.hash FROM public.event_strand_heads h ORDER BY h.strand
$$;

-- 7. Sessions and sign-ins by their key: whoever holds the cookie's key
--    may find or end its session; no one may list them. Expired rows are
--    forgotten by the maintenance timer (server/platform/maintenance.py).
CREATE FUNCTION maca_session(session_key_hash bytea)
    RETURNS TABLE (csrf_token text, expires_at timestamptz, id uuid, issuer text, subject text, display_name text,
                   roles text[], organisation_id uuid, code text, name text, agency_kind text, partnership_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.csrf_token, s.expires_at, u.id, u.issuer, u.subject, u.display_name, u.roles,
           o.id, o.code, o.name, o.agency_kind, o.partnership_id
      FROM public.sessions s
      JOIN public.users u ON u.id = s.user_id
      JOIN public.organisations o ON o.id = u.organisation_id
     WHERE s.key_hash = session_key_hash AND s.expires_at > now()
$$;

CREATE FUNCTION maca_end_session(session_key_hash bytea) RETURNS boolean LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (DELETE FROM public.sessions s WHERE s.key_hash = session_key_hash RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

CREATE FUNCTION maca_forget_expired_sessions() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (DELETE FROM public.sessions s WHERE s.expires_at < now() RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

CREATE FUNCTION maca_start_sign_in(request_key_hash bytea, request_state text, request_code_verifier text,
                                   request_nonce text, request_return_to text, minutes integer)
    RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO public.sign_in_requests (key_hash, state, code_verifier, nonce, return_to, expires_at)
    VALUES (request_key_hash, request_state, request_code_verifier, request_nonce, request_return_to,
            now() + make_interval(mins => least(greatest(minutes, 1), 60)))
$$;

CREATE FUNCTION maca_finish_sign_in(request_key_hash bytea)
    RETURNS TABLE (state text, code_verifier text, nonce text, return_to text, current boolean)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM public.sign_in_requests r WHERE r.key_hash = request_key_hash
    RETURNING r.state, r.code_verifier, r.nonce, r.return_to, r.expires_at > now()
$$;

CREATE FUNCTION maca_forget_abandoned_sign_ins() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (DELETE FROM public.sign_in_requests r WHERE r.expires_at < now() RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

-- Stored responses are kept at least a day (server/db/idempotency.py):
-- asking for less forgets no more.
CREATE FUNCTION maca_forget_idempotency_keys(days integer) RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (DELETE FROM public.idempotency_keys k
                   WHERE k.created_at < now() - make_interval(days => greatest(days, 1)) RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

-- 8. Closed is closed: once an audit is closed its contributions, their
--    versions, who takes part, its moderations and the audit itself stay
--    as they are until it is reopened (its status leaves 'closed'). The
--    routes already answer 409; this holds if one forgets, or for an
--    injected statement. It binds every login but the tables' owner (and
--    superusers), who could switch a trigger off anyway and whose `maca
--    demo` loads closed audits with their history. Remedial actions are
--    not held: the action plan is followed after the audit closes; nor is
--    deleting (`maca purge`, as the owner). The error's SQLSTATE, 55M01 (of
--    class 55, "object not in prerequisite state"), is answered 409 by
--    server/platform/problems.py.
CREATE FUNCTION maca_private.refuse_changes_to_closed_audits() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    audit uuid;
    earlier uuid;
BEGIN
    IF pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'audits' THEN
        IF OLD.status = 'closed' AND NEW.status = 'closed' THEN
            RAISE EXCEPTION 'the audit is closed; reopen it to change it (audits)'
                USING ERRCODE = '55M01';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'contribution_versions' THEN
        SELECT c.audit_id INTO audit FROM public.contributions c WHERE c.id = NEW.contribution_id;
    ELSE
        audit := NEW.audit_id;
        IF TG_OP = 'UPDATE' THEN
            earlier := OLD.audit_id;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM public.audits a WHERE a.id IN (audit, earlier) AND a.status = 'closed') THEN
        RAISE EXCEPTION 'the audit is closed; reopen it to change it (%)', TG_TABLE_NAME
            USING ERRCODE = '55M01';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audits_closed BEFORE UPDATE ON audits
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
CREATE TRIGGER contributions_closed BEFORE INSERT OR UPDATE ON contributions
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
CREATE TRIGGER contribution_versions_closed BEFORE INSERT ON contribution_versions
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
CREATE TRIGGER moderations_closed BEFORE INSERT OR UPDATE ON moderations
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
CREATE TRIGGER audit_participants_closed BEFORE INSERT OR UPDATE ON audit_participants
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
