-- Telling the people who must act (issue 20): immediate concerns as objects
-- with an owner, an outbox of notifications written in the same transaction
-- as the change that causes them, and the job queue that delivers them.
--
-- Row-level security on every new table of the public schema, keyed to the
-- sealed identity of migration 0011, as README "Database roles" says:
-- maca_app reads a partnership's concerns only as one of its coordinators
-- or reviewers, or as the raising organisation; reads who was told what
-- only as a coordinator, reviewer or administrator of the partnership;
-- writes a notification only for its own partnership, as its own
-- organisation, and never changes or removes one. The delivering worker
-- runs as the tables' owner (as `maca purge` does), the only role that
-- reaches the queue's schema.

-- 1. Who a person is to write to: the `email` claim of their last sign-in,
--    and whether they want the mail that can wait (never an immediate
--    concern, which always goes).
ALTER TABLE users
    ADD COLUMN email text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    ADD COLUMN non_urgent_mail boolean NOT NULL DEFAULT true;

-- 2. The partnership's escalation rule: an immediate concern nobody has
--    acknowledged after so many working minutes goes to its reviewers, and
--    again every so many working minutes until someone does.
ALTER TABLE partnership_settings
    ADD COLUMN concern_escalation_minutes integer NOT NULL DEFAULT 240
        CHECK (concern_escalation_minutes BETWEEN 1 AND 10080),
    ADD COLUMN concern_reescalation_minutes integer NOT NULL DEFAULT 240
        CHECK (concern_reescalation_minutes BETWEEN 1 AND 10080);

-- 3. Immediate concerns (seed 002: "If there are immediate concerns the
--    manager must be notified"): raised from any contribution, a draft
--    included; acknowledged by someone; closed with what was done and the
--    outcome, or with the reason the answer that raised it was withdrawn.
--    No answer, comment or case detail is kept here: the question's id
--    says which question, the contribution holds the answer.
CREATE TABLE concerns (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id       uuid NOT NULL REFERENCES partnerships (id),
    audit_id             uuid NOT NULL REFERENCES audits (id),
    organisation_id      uuid NOT NULL REFERENCES organisations (id),
    kind                 text NOT NULL CHECK (kind IN ('child-not-safe', 'significant-failure', 'escalation')),
    section_id           text NOT NULL,
    -- NULL: a significant failure recorded against the whole section
    -- (issue 17), which no question raised.
    question_id          text,
    raised_by            uuid REFERENCES users (id),
    raised_at            timestamptz NOT NULL DEFAULT now(),
    acknowledged_by      uuid REFERENCES users (id),
    acknowledged_at      timestamptz,
    escalations          integer NOT NULL DEFAULT 0,
    last_escalated_at    timestamptz,
    closed_by            uuid REFERENCES users (id),
    closed_at            timestamptz,
    closed_because       text CHECK (closed_because IN ('resolved', 'answer-withdrawn')),
    action_taken         text CHECK (action_taken IS NULL OR length(action_taken) BETWEEN 1 AND 2000),
    outcome              text CHECK (outcome IS NULL OR length(outcome) BETWEEN 1 AND 2000),
    row_version          integer NOT NULL DEFAULT 1,
    CHECK ((closed_at IS NULL) = (closed_because IS NULL)),
    CHECK (closed_because IS DISTINCT FROM 'resolved' OR (action_taken IS NOT NULL AND outcome IS NOT NULL))
);

-- One open concern per answer that raised it (one per section for a
-- section's significant failure: its missing question is not distinct).
CREATE UNIQUE INDEX concerns_one_open ON concerns (audit_id, organisation_id, kind, section_id, question_id)
    NULLS NOT DISTINCT WHERE closed_at IS NULL;
CREATE INDEX concerns_open_in_partnership ON concerns (partnership_id, raised_at) WHERE closed_at IS NULL;
CREATE INDEX concerns_audit ON concerns (audit_id, raised_at);
CREATE INDEX concerns_to_escalate ON concerns (raised_at)
    WHERE acknowledged_at IS NULL AND closed_at IS NULL;

-- 4. The outbox: every message Maca sends, written in the transaction of
--    the change that causes it, then delivered by the worker (a job per
--    row, put on the queue by the trigger below in the same transaction).
--    `key` is the notification's own: the same change never writes it
--    twice, and a provider that takes one (GOV.UK Notify's reference,
--    SMTP's Message-ID) sees the same key on a retry. A message carries an
--    audit's reference number and a link, never a child's details.
CREATE TABLE notifications (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key                text NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 300),
    partnership_id     uuid NOT NULL REFERENCES partnerships (id),
    audit_id           uuid REFERENCES audits (id),
    concern_id         uuid REFERENCES concerns (id),
    message            text NOT NULL,
    urgent             boolean NOT NULL DEFAULT false,
    recipient          text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    recipient_user_id  uuid REFERENCES users (id),
    recipient_role     text NOT NULL,
    subject            text NOT NULL,
    body               text NOT NULL,
    link               text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    status             text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts           integer NOT NULL DEFAULT 0,
    last_error         text,
    last_attempt_at    timestamptz,
    sent_at            timestamptz,
    channel            text,
    -- The organisation whose sealed transaction wrote it (none: the
    -- worker's, as the owner); the policy below holds a request to it.
    written_by_organisation uuid DEFAULT maca_organisation()
);

CREATE INDEX notifications_audit ON notifications (audit_id, created_at) WHERE audit_id IS NOT NULL;
CREATE INDEX notifications_partnership ON notifications (partnership_id, created_at);
CREATE INDEX notifications_failed ON notifications (partnership_id, created_at) WHERE status = 'failed';
CREATE INDEX notifications_concern ON notifications (concern_id) WHERE concern_id IS NOT NULL;

-- 5. Row-level security, keyed to the sealed identity (migration 0011):
--    every policy asks maca_user(), maca_organisation(), maca_partnership(),
--    maca_overseen_partnership() or maca_holds_role(), each in a scalar
--    subquery, so a transaction that sets no seal, or a forged one, sees
--    and writes nothing. The owner (the worker) is not bound.

-- Whether the transaction is the tables' owner's (the worker, `maca purge`),
-- as 0011's closed-audit trigger asks: a definer function answering for
-- the whole partnership answers so only to the owner, never to a login
-- merely other than maca_app.
CREATE FUNCTION maca_private.owner_asking() RETURNS boolean LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = 'public.users'::regclass), 'USAGE')
$$;

-- People's addresses: written at a sign-in only as the server sealed the
-- token (the `email` claim is sealed with the rest, server/db/users.py),
-- so a statement of a recording transaction cannot send anyone's mail
-- elsewhere; the same checks as 0011's, and that one.
DROP POLICY users_recorded ON users;
DROP POLICY users_recorded_again ON users;
CREATE POLICY users_recorded ON users FOR INSERT
    WITH CHECK (
        issuer = (SELECT maca_recording() ->> 'issuer')
        AND subject = (SELECT maca_recording() ->> 'subject')
        AND organisation_id = (SELECT o.id FROM organisations o WHERE o.code = (SELECT maca_recording() ->> 'organisation'))
        AND display_name IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'name')
        AND roles = (SELECT array(SELECT jsonb_array_elements_text(maca_recording() -> 'roles')))
        AND email IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'email')
        AND non_urgent_mail);
CREATE POLICY users_recorded_again ON users FOR UPDATE
    USING (issuer = (SELECT maca_recording() ->> 'issuer') AND subject = (SELECT maca_recording() ->> 'subject'))
    WITH CHECK (
        issuer = (SELECT maca_recording() ->> 'issuer')
        AND subject = (SELECT maca_recording() ->> 'subject')
        AND organisation_id = (SELECT o.id FROM organisations o WHERE o.code = (SELECT maca_recording() ->> 'organisation'))
        AND display_name IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'name')
        AND roles = (SELECT array(SELECT jsonb_array_elements_text(maca_recording() -> 'roles')))
        AND email IS NOT DISTINCT FROM (SELECT maca_recording() ->> 'email'));

-- Whether a person wants the mail that can wait: only their own choice,
-- through this function (an UPDATE policy on users for oneself would let
-- a statement change one's own roles too).
CREATE FUNCTION maca_set_mail_preference(wanted boolean) RETURNS boolean LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    WITH changed AS (
        UPDATE public.users u SET non_urgent_mail = wanted WHERE u.id = public.maca_user() RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM changed)
$$;
REVOKE ALL ON FUNCTION maca_set_mail_preference(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_set_mail_preference(boolean) TO maca_app;

-- Concerns: the partnership's coordinators and reviewers see and handle
-- every one; the raising organisation sees its own, raises them from its
-- answers and closes one whose answer its draft withdrew. A concern names
-- an audit of its own partnership that the writer may see.
ALTER TABLE concerns ENABLE ROW LEVEL SECURITY;
CREATE POLICY concerns_read ON concerns FOR SELECT
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND organisation_id = (SELECT maca_organisation())));
CREATE POLICY concerns_raised ON concerns FOR INSERT
    WITH CHECK (
        (partnership_id = (SELECT maca_overseen_partnership())
         OR (partnership_id = (SELECT maca_partnership()) AND organisation_id = (SELECT maca_organisation())))
        AND EXISTS (SELECT 1 FROM audits a WHERE a.id = concerns.audit_id AND a.partnership_id = concerns.partnership_id));
CREATE POLICY concerns_handled ON concerns FOR UPDATE
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND organisation_id = (SELECT maca_organisation())))
    WITH CHECK (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND organisation_id = (SELECT maca_organisation())));
REVOKE DELETE, TRUNCATE ON concerns FROM maca_app;

-- The outbox: anyone of the partnership may cause a notification (an
-- auditor's save tells the coordinator), written as their own
-- organisation; its coordinators, reviewers and administrators read who
-- was told what; the organisation that wrote a message may see that one
-- (INSERT … ON CONFLICT DO NOTHING checks the new row against a SELECT
-- policy); only the worker (the owner) changes one.
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY notifications_written ON notifications FOR INSERT
    WITH CHECK (
        partnership_id = (SELECT maca_partnership())
        AND written_by_organisation = (SELECT maca_organisation()));
CREATE POLICY notifications_read ON notifications FOR SELECT
    USING (
        partnership_id = (SELECT maca_overseen_partnership())
        OR (partnership_id = (SELECT maca_partnership()) AND (SELECT maca_holds_role('admin'))));
CREATE POLICY notifications_read_own ON notifications FOR SELECT
    USING (partnership_id = (SELECT maca_partnership()) AND written_by_organisation = (SELECT maca_organisation()));
REVOKE UPDATE, DELETE, TRUNCATE ON notifications FROM maca_app;

-- Whom to tell among the people who have signed in: those of the
-- partnership (of one organisation, when named) holding any of the roles,
-- with the address their last sign-in gave. A request's transaction reads
-- only its own sealed partnership's, and only this much of them; the
-- worker (the owner, acting for no one) reads any partnership's.
CREATE FUNCTION maca_people_to_tell(partnership uuid, organisation uuid, wanted text[])
    RETURNS TABLE (user_id uuid, email text, non_urgent_mail boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.id, u.email, u.non_urgent_mail
      FROM public.users u JOIN public.organisations o ON o.id = u.organisation_id
     WHERE o.partnership_id = partnership
       AND (partnership = public.maca_partnership() OR maca_private.owner_asking())
       AND (organisation IS NULL OR u.organisation_id = organisation)
       AND u.email IS NOT NULL
       AND (wanted IS NULL OR u.roles && wanted)
     ORDER BY u.email
$$;
REVOKE ALL ON FUNCTION maca_people_to_tell(uuid, uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_people_to_tell(uuid, uuid, text[]) TO maca_app;

-- Whether every organisation taking part in an audit has submitted: an
-- agency's submission tells the partnership when it was the last, though
-- its transaction sees only its own contribution. Only a yes or no leaves,
-- and only for an audit of the sealed partnership (or to the owner).
CREATE FUNCTION maca_all_submitted(audit uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) > 0 AND bool_and(c.status IS NOT DISTINCT FROM 'submitted')
      FROM public.audit_participants p
      JOIN public.audits a ON a.id = p.audit_id
      LEFT JOIN public.contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
     WHERE p.audit_id = audit AND p.removed_at IS NULL
       AND (a.partnership_id = public.maca_partnership() OR maca_private.owner_asking())
$$;
REVOKE ALL ON FUNCTION maca_all_submitted(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_all_submitted(uuid) TO maca_app;

-- 6. The job queue: PgQueuer's own schema (pgqueuer 1.6.0, as `Queries.install`
--    renders it for the schema maca_queue and the channel maca_queue), kept
--    apart from the application's tables: maca_app has no right on it.
CREATE SCHEMA IF NOT EXISTS maca_queue;

CREATE TYPE maca_queue.pgqueuer_status AS ENUM ('queued', 'picked', 'successful', 'exception', 'canceled', 'deleted', 'failed');

CREATE TABLE maca_queue.pgqueuer (
    id bigserial NOT NULL PRIMARY KEY,
    priority integer NOT NULL,
    queue_manager_id uuid,
    created timestamp with time zone NOT NULL DEFAULT now(),
    updated timestamp with time zone NOT NULL DEFAULT now(),
    heartbeat timestamp with time zone NOT NULL DEFAULT now(),
    execute_after timestamp with time zone NOT NULL DEFAULT now(),
    status maca_queue.pgqueuer_status NOT NULL,
    entrypoint text NOT NULL,
    dedupe_key text,
    payload bytea,
    headers jsonb,
    attempts integer NOT NULL DEFAULT 0,
    slot bigint
);

CREATE TABLE maca_queue.pgqueuer_log (
    id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY,
    created timestamp with time zone NOT NULL DEFAULT now(),
    job_id bigint NOT NULL,
    status maca_queue.pgqueuer_status NOT NULL,
    priority integer NOT NULL,
    entrypoint text NOT NULL,
    traceback jsonb,
    aggregated boolean DEFAULT false
);

CREATE TABLE maca_queue.pgqueuer_schedules (
    id bigserial NOT NULL PRIMARY KEY,
    expression text NOT NULL,
    entrypoint text NOT NULL,
    heartbeat timestamp with time zone NOT NULL DEFAULT now(),
    created timestamp with time zone NOT NULL DEFAULT now(),
    updated timestamp with time zone NOT NULL DEFAULT now(),
    next_run timestamp with time zone NOT NULL DEFAULT now(),
    last_run timestamp with time zone,
    status maca_queue.pgqueuer_status DEFAULT 'queued'::maca_queue.pgqueuer_status,
    UNIQUE (expression, entrypoint)
);

CREATE TABLE maca_queue.pgqueuer_statistics (
    id bigserial NOT NULL PRIMARY KEY,
    created timestamp with time zone NOT NULL DEFAULT date_trunc('sec'::text, now()),
    count bigint NOT NULL,
    priority integer NOT NULL,
    status maca_queue.pgqueuer_status NOT NULL,
    entrypoint text NOT NULL
);

CREATE INDEX pgqueuer_ep_ea_idx ON maca_queue.pgqueuer USING btree (entrypoint, execute_after) WHERE (status = 'queued'::maca_queue.pgqueuer_status);

CREATE INDEX pgqueuer_ep_prio_id_idx ON maca_queue.pgqueuer USING btree (entrypoint, priority DESC, id) WHERE (status = 'queued'::maca_queue.pgqueuer_status);

CREATE INDEX pgqueuer_log_created ON maca_queue.pgqueuer_log USING btree (created);

CREATE INDEX pgqueuer_log_job_id_status ON maca_queue.pgqueuer_log USING btree (job_id, created DESC);

CREATE INDEX pgqueuer_log_not_aggregated ON maca_queue.pgqueuer_log USING btree ((1)) WHERE (NOT aggregated);

CREATE INDEX pgqueuer_log_status ON maca_queue.pgqueuer_log USING btree (status);

CREATE INDEX pgqueuer_picked_heartbeat_idx ON maca_queue.pgqueuer USING btree (heartbeat) WHERE (status = 'picked'::maca_queue.pgqueuer_status);

CREATE UNIQUE INDEX pgqueuer_picked_slot_idx ON maca_queue.pgqueuer USING btree (entrypoint, slot) WHERE ((status = 'picked'::maca_queue.pgqueuer_status) AND (slot IS NOT NULL));

CREATE INDEX pgqueuer_priority_id_id1_idx ON maca_queue.pgqueuer USING btree (priority, id DESC) INCLUDE (id) WHERE (status = 'queued'::maca_queue.pgqueuer_status);

CREATE INDEX pgqueuer_queue_manager_id_idx ON maca_queue.pgqueuer USING btree (queue_manager_id) WHERE (queue_manager_id IS NOT NULL);

CREATE UNIQUE INDEX pgqueuer_statistics_unique_count ON maca_queue.pgqueuer_statistics USING btree (priority, date_trunc('sec'::text, timezone('UTC'::text, created)), status, entrypoint);

CREATE UNIQUE INDEX pgqueuer_unique_dedupe_key ON maca_queue.pgqueuer USING btree (dedupe_key) WHERE ((status = ANY (ARRAY['queued'::maca_queue.pgqueuer_status, 'picked'::maca_queue.pgqueuer_status])) AND (dedupe_key IS NOT NULL));

CREATE INDEX pgqueuer_updated_id_id1_idx ON maca_queue.pgqueuer USING btree (updated, id DESC) INCLUDE (id) WHERE (status = 'picked'::maca_queue.pgqueuer_status);

CREATE FUNCTION maca_queue.fn_pgqueuer_changed() RETURNS TRIGGER AS $$
DECLARE
    to_emit BOOLEAN := false;  -- Flag to decide whether to emit a notification
BEGIN
    -- Check operation type and set the emit flag accordingly
    IF TG_OP = 'UPDATE' AND OLD IS DISTINCT FROM NEW THEN
        to_emit := true;
    ELSIF TG_OP = 'DELETE' THEN
        to_emit := true;
    ELSIF TG_OP = 'INSERT' THEN
        to_emit := true;
    ELSIF TG_OP = 'TRUNCATE' THEN
        to_emit := true;
    END IF;

    -- Perform notification if the emit flag is set
    IF to_emit THEN
        PERFORM pg_notify(
            'maca_queue',
            json_build_object(
                'channel', 'maca_queue',
                'operation', lower(TG_OP),
                'sent_at', NOW(),
                'table', TG_TABLE_NAME,
                'type', 'table_changed_event'
            )::text
        );
    END IF;

    -- Return appropriate value based on the operation
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        RETURN OLD;
    ELSE
        RETURN NULL; -- For TRUNCATE and other non-row-specific contexts
    END IF;

END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tg_pgqueuer_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON maca_queue.pgqueuer
EXECUTE FUNCTION maca_queue.fn_pgqueuer_changed();

REVOKE ALL ON SCHEMA maca_queue FROM PUBLIC;

-- 7. A notification written is a job queued, in the same transaction: the
--    trigger (run as the owner, from the owner's private schema, so
--    maca_app needs no right on the queue and cannot call it) puts one
--    `deliver` job per row, its dedupe key the notification's id.
CREATE FUNCTION maca_private.enqueue_delivery() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO maca_queue.pgqueuer (priority, entrypoint, payload, dedupe_key, status, execute_after)
    VALUES (CASE WHEN NEW.urgent THEN 10 ELSE 0 END, 'deliver', convert_to(NEW.id::text, 'UTF8'),
            'deliver:' || NEW.id::text, 'queued', now());
    RETURN NULL;
END
$$;

CREATE TRIGGER notifications_enqueue AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION maca_private.enqueue_delivery();

-- 8. What the operator's metrics read at each scrape (server/platform/
--    metrics_server.py), as maca_app with no one's identity: counts and
--    ages only, never an id, an address or a partnership, through
--    functions of the owner's since neither the queue nor the concerns are
--    maca_app's to read.
CREATE FUNCTION maca_queue_depth() RETURNS TABLE (entrypoint text, queued bigint, oldest_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT j.entrypoint, count(*), extract(epoch FROM now() - min(j.execute_after))::double precision
      FROM maca_queue.pgqueuer j
     WHERE j.status = 'queued'
     GROUP BY j.entrypoint
$$;
REVOKE ALL ON FUNCTION maca_queue_depth() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_queue_depth() TO maca_app;

CREATE FUNCTION maca_open_concern_ages() RETURNS TABLE (age_seconds double precision, acknowledged boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT extract(epoch FROM now() - c.raised_at)::double precision, c.acknowledged_at IS NOT NULL
      FROM public.concerns c
     WHERE c.closed_at IS NULL
$$;
REVOKE ALL ON FUNCTION maca_open_concern_ages() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_open_concern_ages() TO maca_app;

-- Audits not closed whose judgement, as last summarised, lists an immediate
-- concern (issue 25's first concerns gauge). The scrape connects as maca_app
-- with no one's identity, so reading audit_summaries itself would see no row
-- under 0011's policies and always say 0: a count only, as the owner's.
CREATE FUNCTION maca_open_audits_with_immediate_concerns() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM public.audit_summaries s WHERE s.status <> 'closed' AND s.immediate_concerns > 0
$$;
REVOKE ALL ON FUNCTION maca_open_audits_with_immediate_concerns() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_open_audits_with_immediate_concerns() TO maca_app;

-- Messages not delivered: given up (failed) or being retried.
CREATE FUNCTION maca_undelivered_notifications() RETURNS TABLE (state text, count bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.state, count(n.id)
      FROM (VALUES ('failed'), ('retrying')) AS s (state)
      LEFT JOIN public.notifications n
        ON (s.state = 'failed' AND n.status = 'failed')
        OR (s.state = 'retrying' AND n.status = 'queued' AND n.last_error IS NOT NULL)
     GROUP BY s.state
$$;
REVOKE ALL ON FUNCTION maca_undelivered_notifications() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maca_undelivered_notifications() TO maca_app;
