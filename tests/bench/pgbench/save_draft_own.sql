-- What a draft save sends to PostgreSQL, statement for statement, as Maca
-- sends it: as maca_app (row-level security on), the identity sealed with
-- the server's key riding with the first statement, then the save's one
-- call, in one transaction (server/platform/transactions.unit_of_work,
-- server/db/contributions.open_own and save_recorded, migration 0019).
-- The toolkit's validation, which Python does between the two calls, is
-- the only part of a save not here. Each client owns one contribution (the
-- audit it reads from bench_owned), as each wrk connection does. Run with
-- -M prepared; :seal, :organisation and :content come from -D.
BEGIN;
SELECT c_id AS contribution, c_row_version AS seen, status AS audit_status
  FROM maca_open_contribution(:seal, (SELECT audit_id FROM bench_owned WHERE client = :client_id), :organisation::uuid)
\gset
SELECT row_version FROM maca_save_contribution(:contribution::uuid, :seen::integer, :audit_status::text,
    'in-progress', :content::jsonb, 49, 49, NULL, NULL, 'contribution.saved',
    '{"status": "in-progress", "answered": 49}'::jsonb);
END;
