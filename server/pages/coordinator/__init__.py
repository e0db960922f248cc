"""The coordinator's pages: the partnership's audits, creating one, and moving an audit on."""
