"""The agency auditor's pages: their audits, the task list, a page per section, check and submit."""
