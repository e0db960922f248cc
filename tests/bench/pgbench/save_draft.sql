-- What one draft save does in SQL, as the database's own ceiling: upsert
-- the contribution's ~9 KB jsonb row and append one event, in one
-- transaction. Each pgbench client owns one row, as each wrk connection
-- owns one contribution. Run with -M prepared, so :content travels as a
-- parameter; :organisation and :person come from -D. {events} is Maca's
-- own events table (with whatever its triggers do, as a save meets them),
-- or bench_events, a plain table of the same columns, to show their cost.
BEGIN;
INSERT INTO bench_contributions (audit_id, organisation_id, status, content, answered, applicable, updated_by)
VALUES (md5('audit' || :client_id::text)::uuid, :organisation::uuid, 'in-progress', :content::jsonb, 49, 49, :person::uuid)
ON CONFLICT (audit_id, organisation_id) DO UPDATE
SET status = EXCLUDED.status, content = EXCLUDED.content, answered = EXCLUDED.answered,
    applicable = EXCLUDED.applicable, updated_by = EXCLUDED.updated_by, updated_at = now(),
    row_version = bench_contributions.row_version + 1
RETURNING row_version;
INSERT INTO {events} (user_id, organisation_id, action, audit_id, target_organisation_id, detail)
VALUES (:person::uuid, :organisation::uuid, 'contribution.saved', md5('audit' || :client_id::text)::uuid, :organisation::uuid,
        '{"status": "in-progress", "answered": 49}');
END;
