-- The event trail in strands. With one chain head, every transaction that
-- recorded an event (every request: reads are recorded too) waited for the
-- one before it to commit: `make bench` measured draft saves at 9-22% of
-- PostgreSQL's own ceiling, pgbench 416/s against 2,813/s without the chain.
--
-- Now the trail is 16 strands, each a hash chain of its own with its own
-- head. A transaction appends to the strand of its database connection
-- (backend pid mod 16), so one transaction's events stay together and in
-- order, and it locks exactly one head row (no deadlock between strands).
-- Each event still holds the hash of the one before it in its strand;
-- `maca events verify` walks every strand and compares it with its head, so
-- an edited, deleted or reordered event is found as before, and moving an
-- event to another strand breaks both strands' links.

ALTER TABLE events ADD COLUMN strand smallint NOT NULL DEFAULT 0;
DROP INDEX events_position;
CREATE UNIQUE INDEX events_strand_position ON events (strand, position);

CREATE TABLE event_strand_heads (
    strand    smallint PRIMARY KEY CHECK (strand BETWEEN 0 AND 15),
    position  bigint NOT NULL,
    hash      bytea NOT NULL
);
-- The existing trail becomes strand 0.
INSERT INTO event_strand_heads (strand, position, hash) SELECT 0, position, hash FROM event_chain_head;
DROP TABLE event_chain_head;
REVOKE ALL ON event_strand_heads FROM maca_app;

CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
DECLARE
    chosen smallint := (pg_backend_pid() % 16)::smallint;
    head_position bigint;
    head_hash bytea;
BEGIN
    SELECT h.position, h.hash INTO head_position, head_hash
      FROM event_strand_heads h WHERE h.strand = chosen FOR UPDATE;
    IF NOT FOUND THEN
        -- A strand's first event, or emptied tables (as in tests): the
        -- head only caches the strand's newest event, so rebuild it.
        INSERT INTO event_strand_heads (strand, position, hash)
        SELECT chosen,
               coalesce(max(e.position), 0),
               coalesce((SELECT l.hash FROM events l WHERE l.strand = chosen ORDER BY l.position DESC LIMIT 1),
                        decode(repeat('00', 32), 'hex'))
          FROM events e WHERE e.strand = chosen
        ON CONFLICT (strand) DO NOTHING;
        SELECT h.position, h.hash INTO head_position, head_hash
          FROM event_strand_heads h WHERE h.strand = chosen FOR UPDATE;
    END IF;
    NEW.strand := chosen;
    NEW.position := head_position + 1;
    NEW.previous_hash := head_hash;
    NEW.hash := sha256(head_hash || convert_to(events_canonical(NEW), 'UTF8'));
    UPDATE event_strand_heads SET position = NEW.position, hash = NEW.hash WHERE strand = chosen;
    RETURN NEW;
END
$$;
