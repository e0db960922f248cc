-- Who takes part: partnerships, their member organisations, and the people
-- seen through the identity provider. Maca stores no passwords or tokens.

CREATE TABLE partnerships (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organisations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id  uuid NOT NULL REFERENCES partnerships (id),
    -- the value the identity provider puts in the organisation claim
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    agency_kind     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX organisations_partnership ON organisations (partnership_id);

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer           text NOT NULL,
    subject          text NOT NULL,
    organisation_id  uuid REFERENCES organisations (id),
    display_name     text,
    roles            text[] NOT NULL DEFAULT '{}',
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
