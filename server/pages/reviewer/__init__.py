"""The partnership reviewer's pages: the judgement, moderation and remedial actions."""
