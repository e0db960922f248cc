-- The dashboard's answers kept between changes (issue 8: p95 under 200 ms
-- over 100,000 audits).
--
-- A partnership's themes change only when one of its audits' summaries is
-- refreshed (its counted rows move), a remedial action changes, or audits
-- are purged. Each of those bumps the partnership's version in its own
-- transaction; a process keeps a dashboard it computed under the version it
-- read first, and serves it again while the version (and the day, which
-- decides what is overdue) is the same.
--
-- Versions come from one sequence, so a number is never used twice, even
-- for a partnership whose row was removed and made again.
CREATE SEQUENCE theme_version_numbers;
CREATE TABLE theme_versions (
    partnership_id  uuid PRIMARY KEY REFERENCES partnerships (id),
    version         bigint NOT NULL
);

-- The counted rows are updated in place on every refresh (the counters are
-- not indexed): room left on each page lets PostgreSQL keep the new row
-- version on the same page (a HOT update), so the tables stay compact
-- instead of spreading over thousands of half-dead pages.
ALTER TABLE theme_section_counts SET (fillfactor = 70);
ALTER TABLE theme_agency_counts SET (fillfactor = 70);


-- An audit's summary is made from every agency's contribution, whoever's
-- change set it off: an agency auditor's submission too, whose transaction
-- otherwise sees only its own organisation's contribution. The summary
-- (server/db/themes.py, refresh_audit_summary) names the one audit it is
-- summarising in this setting for the moment it reads; the transaction may
-- then read, never write, that audit's contributions, and only grades and
-- counts are written from them. (Migration 0005 let the refresh "lift" the
-- organisation instead, which left an auditor's transaction seeing no
-- contribution at all: its summaries counted nothing until a coordinator
-- or reviewer next changed the audit.)
CREATE POLICY contributions_being_summarised ON contributions FOR SELECT
    USING (audit_id = maca_setting_uuid('maca.summarising_audit_id'));
