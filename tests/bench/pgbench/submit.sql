-- What one submit (POST .../contributions/{organisation}/submit) does in SQL,
-- as the database's own ceiling for it: every statement the server sends in
-- the submit's transaction, in its order, as logged with log_statement=all
-- on a bench database (three agencies taking part, the health auditor
-- submitting a complete ~9 KB contribution): maca_open_contribution's read,
-- maca_save_contribution's update, kept version and event (migration 0019,
-- inlined: their plpgsql is the server's, not PostgreSQL's, cost), then the
-- audit's summary and the themes dashboard's counted rows
-- (server/db/themes.py: :section_rows rows of theme_section_counts and
-- :agency_rows of theme_agency_counts, as many as the log showed), the
-- dashboard's version, and whether every agency has now submitted.
--
-- Reads are of the plan's real audit (:audit; reads do not conflict), each
-- pgbench client writes rows of its own as each wrk connection submits its
-- own contributions: bench_contributions and bench_contribution_versions
-- (copies without row-level security, which pgbench's superuser would skip
-- anyway), bench_audit_summaries; the counted rows and the dashboard's
-- version are shared by every client, as every submit of one partnership
-- and quarter updates the same rows. {events} is Maca's own events table
-- (with its chain trigger) or bench_events, a plain one.
-- Run with -M prepared; the variables come from -D (tests/bench/load.py).
BEGIN;
SELECT set_config('maca.identity', :seal, true);
SELECT a.id, a.partnership_id, a.toolkit_id, a.toolkit_version, a.case_details,
       a.period_start, a.period_end, a.referring_organisation_id, a.due_date, a.status,
       a.row_version, a.created_by, a.created_at, a.updated_by, a.updated_at,
       a.local_toolkit_version_id, a.merge_policy, a.judgement_rules, a.reference,
       p.removed_at IS NULL AND p.audit_id IS NOT NULL, p.agency_kind,
       c.id, c.status, c.content, c.answered, c.applicable, c.row_version, c.submitted_at, c.returned_at,
       c.returned_comment, c.updated_by, c.updated_at,
       EXISTS (SELECT 1 FROM concerns k
                WHERE k.audit_id = a.id AND k.organisation_id = :organisation::uuid AND k.closed_at IS NULL)
  FROM audits a
  LEFT JOIN audit_participants p ON p.audit_id = a.id AND p.organisation_id = :organisation::uuid
  LEFT JOIN contributions c ON c.audit_id = a.id AND c.organisation_id = :organisation::uuid
 WHERE a.id = :audit::uuid;
UPDATE bench_contributions c
   SET status = 'submitted', content = :content::jsonb, answered = 49, applicable = 49,
       updated_by = :person::uuid, updated_at = now(),
       submitted_at = CASE WHEN c.status <> 'submitted' THEN now() ELSE c.submitted_at END,
       row_version = c.row_version + 1
 WHERE c.id = md5('contribution' || :client_id::text)::uuid
   AND EXISTS (SELECT 1 FROM audits a WHERE a.id = :audit::uuid AND a.status = 'open')
RETURNING c.*;
INSERT INTO bench_contribution_versions (contribution_id, version, kind, reason, content, created_by)
SELECT md5('contribution' || :client_id::text)::uuid, coalesce(max(v.version), 0) + 1, 'submitted', NULL,
       :content::jsonb, :person::uuid
  FROM bench_contribution_versions v WHERE v.contribution_id = md5('contribution' || :client_id::text)::uuid
RETURNING version;
SELECT 1 FROM audits a WHERE a.id = :audit::uuid AND a.partnership_id = :partnership::uuid;
INSERT INTO {events} (user_id, organisation_id, action, audit_id, target_organisation_id, detail)
VALUES (:person::uuid, :organisation::uuid, 'contribution.submitted', md5('audit' || :client_id::text)::uuid,
        :organisation::uuid, '{"answered": 49, "applicable": 49, "version": 1}');
SELECT pg_advisory_xact_lock(hashtextextended('themes:' || md5('audit' || :client_id::text), 0));
SELECT set_config('maca.summarising', :seal, true);
SELECT id, partnership_id, toolkit_id, toolkit_version, case_details, period_start, period_end,
       referring_organisation_id, due_date, status, row_version, created_by, created_at, updated_by, updated_at,
       local_toolkit_version_id, merge_policy, judgement_rules, reference
  FROM audits WHERE id = :audit::uuid;
SELECT o.id AS organisation_id, o.name AS organisation_name, p.agency_kind,
       coalesce(c.status, 'not-started') AS status, coalesce(c.content, '{}'::jsonb) AS content,
       coalesce(c.row_version, 0) AS row_version
  FROM audit_participants p
  JOIN organisations o ON o.id = p.organisation_id
  LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
 WHERE p.audit_id = :audit::uuid AND p.removed_at IS NULL
 ORDER BY o.id;
SELECT m.target, m.grade, m.reason, m.moderated_by, u.display_name AS moderated_by_name, m.moderated_at, m.row_version
  FROM moderations m LEFT JOIN users u ON u.id = m.moderated_by
 WHERE m.audit_id = :audit::uuid
 ORDER BY m.target;
SELECT DISTINCT p.agency_kind FROM audit_participants p WHERE p.audit_id = :audit::uuid AND p.removed_at IS NULL;
SELECT sections::text AS summary_sections, agency_grades::text AS summary_grades
  FROM audit_summaries WHERE audit_id = :audit::uuid \gset
INSERT INTO bench_theme_section_counts (partnership_id, participating_kind, quarter, toolkit_id, status, section_id,
                                        grade, audits, disagreed, moderated, provisional, concerns)
SELECT :partnership::uuid, (ARRAY['*', 'health', 'police', 'education'])[1 + n % 4], :quarter::date,
       'multi-agency-cp', 'open', 'section-' || (n / 8)::text, ((n / 4) % 2 * 2)::smallint,
       (n / 4) % 2 * 2 - 1, 0, 0, (n / 4) % 2 * 2 - 1, 0
  FROM generate_series(0, :section_rows - 1) n
ON CONFLICT (partnership_id, participating_kind, quarter, toolkit_id, status, section_id, grade) DO UPDATE
   SET audits = bench_theme_section_counts.audits + excluded.audits,
       disagreed = bench_theme_section_counts.disagreed + excluded.disagreed,
       moderated = bench_theme_section_counts.moderated + excluded.moderated,
       provisional = bench_theme_section_counts.provisional + excluded.provisional,
       concerns = bench_theme_section_counts.concerns + excluded.concerns;
INSERT INTO bench_theme_agency_counts (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind,
                                       section_id, grade, grades)
SELECT :partnership::uuid, :quarter::date, 'multi-agency-cp', 'open', :organisation::uuid, 'health',
       'section-' || (n / 2)::text, (1 + n % 2)::smallint, 1
  FROM generate_series(0, :agency_rows - 1) n
ON CONFLICT (partnership_id, quarter, toolkit_id, status, organisation_id, agency_kind, section_id, grade)
DO UPDATE SET grades = bench_theme_agency_counts.grades + excluded.grades;
INSERT INTO bench_audit_summaries (audit_id, partnership_id, toolkit_id, status, quarter, provisional,
                                   overall_grade, immediate_concerns, sections, agency_grades, participating_kinds)
VALUES (md5('audit' || :client_id::text)::uuid, :partnership::uuid, 'multi-agency-cp', 'open', :quarter::date, true,
        2, 0, :summary_sections::text::jsonb, :summary_grades::text::jsonb, ARRAY['education', 'health', 'police'])
ON CONFLICT (audit_id) DO UPDATE
   SET status = excluded.status, toolkit_id = excluded.toolkit_id, quarter = excluded.quarter,
       provisional = excluded.provisional, overall_grade = excluded.overall_grade,
       immediate_concerns = excluded.immediate_concerns, sections = excluded.sections,
       agency_grades = excluded.agency_grades, participating_kinds = excluded.participating_kinds,
       refreshed_at = now();
INSERT INTO bench_theme_versions (partnership_id, version) VALUES (:partnership::uuid, nextval('theme_version_numbers'))
ON CONFLICT (partnership_id) DO UPDATE SET version = excluded.version;
SELECT set_config('maca.summarising', '', true);
SELECT maca_all_submitted(:audit::uuid);
END;
