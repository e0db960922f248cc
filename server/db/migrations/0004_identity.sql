-- Browser sign-in: sign-ins under way and signed-in sessions.
--
-- Maca keeps no tokens. A cookie carries a random value; the row is keyed
-- by that value's SHA-256, so reading this table lets no one in. A session
-- names the person (users) and when it ends; who they are is read from
-- users and organisations on each request.

CREATE TABLE sign_in_requests (
    key_hash       bytea PRIMARY KEY,
    -- OAuth 2.0 state, PKCE code verifier and OpenID Connect nonce: single
    -- use, minutes long, deleted when the provider sends the person back.
    state          text NOT NULL,
    code_verifier  text NOT NULL,
    nonce          text NOT NULL,
    return_to      text NOT NULL,
    expires_at     timestamptz NOT NULL
);

CREATE INDEX sign_in_requests_expiry ON sign_in_requests (expires_at);

CREATE TABLE sessions (
    key_hash    bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Sent back in every form and checked on every state-changing request
    -- that the session cookie authenticates.
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
