-- Practitioner and family voice: per agency, whether the audit's findings
-- were discussed with the practitioner and their manager and what they
-- said (seed 001: "the manager and practitioner engage in a discussion on
-- the findings and agree on the required actions"), and whether the
-- family's views were sought and what they were (seed 002: "Parents /
-- carers views: … if this case is selected for obtaining parents / carers
-- views"). Optional: never asked for before a contribution is submitted.
--
-- Kept, never overwritten: every save is a new version, and the voice as it
-- stands is the newest one. A save names the version it read (the ETag), so
-- two saves from the same version cannot both be kept (the primary key):
-- the loser is told to read again (412), never silently overwritten.
CREATE TABLE contribution_voices (
    audit_id             uuid NOT NULL,
    organisation_id      uuid NOT NULL,
    version              integer NOT NULL CHECK (version >= 1),
    findings_discussed   text CHECK (findings_discussed IN ('yes', 'no')),
    practitioner_views   text CHECK (length(practitioner_views) <= 5000),
    manager_views        text CHECK (length(manager_views) <= 5000),
    family_views_sought  text CHECK (family_views_sought IN ('given', 'declined', 'not-sought')),
    family_views         text CHECK (length(family_views) <= 5000),
    created_by           uuid NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (audit_id, organisation_id, version),
    FOREIGN KEY (audit_id, organisation_id) REFERENCES contributions (audit_id, organisation_id)
);

-- Added only: a request never changes or removes a kept version (`maca
-- purge` removes a closed audit's, as the owner).
REVOKE UPDATE, DELETE, TRUNCATE ON contribution_voices FROM maca_app;

-- Who sees a voice: the agency's own people, always; the partnership's
-- coordinators and reviewers once the agency's contribution is submitted
-- (a draft voice, like a draft contribution, is the agency's alone).
-- Never another agency, even of a closed audit: what a practitioner or a
-- family said is not a partnership grade (contributions_read lets a closed
-- audit's participants read every contribution, for the grades; not this).
ALTER TABLE contribution_voices ENABLE ROW LEVEL SECURITY;
CREATE POLICY contribution_voices_read ON contribution_voices FOR SELECT
    USING (
        organisation_id = (SELECT maca_organisation())
        OR EXISTS (SELECT 1 FROM contributions c JOIN audits a ON a.id = c.audit_id
                    WHERE c.audit_id = contribution_voices.audit_id
                      AND c.organisation_id = contribution_voices.organisation_id
                      AND c.status = 'submitted'
                      AND a.partnership_id = (SELECT maca_overseen_partnership())));
-- Written only by the agency's own people, as themselves.
CREATE POLICY contribution_voices_kept ON contribution_voices FOR INSERT
    WITH CHECK (organisation_id = (SELECT maca_organisation()) AND created_by = (SELECT maca_user()));

-- Closed is closed (migration 0011, section 8): a closed audit's voices
-- stay as they are until it is reopened.
CREATE TRIGGER contribution_voices_closed BEFORE INSERT ON contribution_voices
    FOR EACH ROW EXECUTE FUNCTION maca_private.refuse_changes_to_closed_audits();
