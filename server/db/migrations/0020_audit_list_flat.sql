-- The audit list at a cost that does not grow with the partnership's
-- audits (issue 24, "How cost grows": 30 req/s at 10,000 audits of one
-- partnership, 3 at 100,000).
--
-- The list (server/db/audits.py, list_audits) chose its page by sorting
-- every match and counted every match beside it (count(*) OVER ()). Now:
--
-- 1. An index in the list's own order, so that a page is cut by walking the
--    index with LIMIT instead of sorting every match: the partnership's
--    audits soonest due first (ASC puts the undated last, as the list's
--    NULLS LAST does), then created, then id. Its status filter gets the
--    same order after the status; that index replaces
--    audits_partnership_status_due, whose prefix it keeps for the
--    dashboard's counts by status. The audits' read policy (migration 0011:
--    the overseen partnership, or a distributed audit the caller's
--    organisation takes part in) is a filter on the rows the index hands
--    out, tested once per row on values in hand: it does not stop the walk
--    at the page's end (EXPLAIN as maca_app under a sealed identity).
-- 1a. An organisation's own list (and the coordinator's list of one
--    agency's audits) asks whether the organisation takes part now, which
--    audits.taking_part says (kept by 0011's triggers): asked of an
--    inverted index of it, the list finds the organisation's audits without
--    visiting the partnership's others, nor audit_participants, whose own
--    read policy looked every audit of the partnership up again. It still
--    counts its matches: its cost grows with the organisation's
--    participations, not with the partnership's audits.
-- 2. The partnership's audits counted per status, kept by triggers on
--    audits as its owner (maca_private, as 0011's participants' triggers
--    and 0015's queue trigger are), so that a list with no filter but its
--    status reads its total from at most four rows. Every change is an
--    additive update of the counts (count = count + delta, under the row's
--    lock, which ON CONFLICT DO UPDATE takes), never a read then a write,
--    so two transactions creating audits at once both count; the rows are
--    changed in (partnership, status) order, so two status changes the
--    other way round wait for each other instead of deadlocking. A filtered
--    list still counts its matches.
--    No CHECK (audits >= 0): an upsert's proposed row (a decrement's -1) is
--    checked before its conflict is found. tests/server/test_audit_counts.py
--    compares the counts with count(*) after every kind of change instead.
-- 3. Row-level security on the counts: read by the partnership's overseers
--    (coordinators and reviewers, who see every audit of it: the counts
--    count drafts, which an agency does not see), written by no request:
--    only the triggers write them.

-- Writes to audits wait for the whole migration (the counts must start
-- from every audit); reads only for the old index's removal, last.
LOCK TABLE audits IN SHARE ROW EXCLUSIVE MODE;

CREATE INDEX audits_partnership_list ON audits (partnership_id, due_date, created_at, id);
CREATE INDEX audits_partnership_status_list ON audits (partnership_id, status, due_date, created_at, id);
CREATE INDEX audits_taking_part ON audits USING gin (taking_part);

CREATE TABLE audit_counts (
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    status          text NOT NULL,
    audits          bigint NOT NULL,
    PRIMARY KEY (partnership_id, status)
);

INSERT INTO audit_counts (partnership_id, status, audits)
SELECT partnership_id, status, count(*) FROM audits GROUP BY partnership_id, status;

-- Statement-level for inserts and deletions (a bulk load or a purge moves
-- each count once, not once a row); row-level for a change of status, and
-- only then (WHEN), so the many updates that keep the status cost nothing.
CREATE FUNCTION maca_private.audits_counted_in() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.audit_counts AS k (partnership_id, status, audits)
    SELECT partnership_id, status, count(*) FROM added GROUP BY partnership_id, status ORDER BY partnership_id, status
    ON CONFLICT (partnership_id, status) DO UPDATE SET audits = k.audits + excluded.audits;
    RETURN NULL;
END
$$;

CREATE FUNCTION maca_private.audits_counted_out() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.audit_counts AS k (partnership_id, status, audits)
    SELECT partnership_id, status, -count(*) FROM gone GROUP BY partnership_id, status ORDER BY partnership_id, status
    ON CONFLICT (partnership_id, status) DO UPDATE SET audits = k.audits + excluded.audits;
    RETURN NULL;
END
$$;

CREATE FUNCTION maca_private.audit_recounted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.audit_counts AS k (partnership_id, status, audits)
    SELECT c.partnership_id, c.status, c.delta
      FROM (VALUES (OLD.partnership_id, OLD.status, -1::bigint), (NEW.partnership_id, NEW.status, 1::bigint))
           AS c (partnership_id, status, delta)
     ORDER BY c.partnership_id, c.status
    ON CONFLICT (partnership_id, status) DO UPDATE SET audits = k.audits + excluded.audits;
    RETURN NULL;
END
$$;

CREATE TRIGGER audits_counted_in AFTER INSERT ON audits
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION maca_private.audits_counted_in();
CREATE TRIGGER audits_counted_out AFTER DELETE ON audits
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION maca_private.audits_counted_out();
CREATE TRIGGER audits_recounted AFTER UPDATE OF status, partnership_id ON audits
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.partnership_id IS DISTINCT FROM NEW.partnership_id)
    EXECUTE FUNCTION maca_private.audit_recounted();

ALTER TABLE audit_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_counts_read ON audit_counts FOR SELECT
    USING (partnership_id = (SELECT maca_overseen_partnership()));
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_counts FROM maca_app;

ANALYZE audits, audit_counts;

DROP INDEX audits_partnership_status_due;
