"""HTTP and database plumbing every part shares: problem documents, one
transaction per unit of work, versions (ETag, If-Match, Idempotency-Key),
security headers, the log filter and the maintenance timer."""
