"""The domain: what happens to an audit, whoever asks. Read steps and write
steps shared by the JSON API (``server.api``) and the web pages
(``server.pages``); each checks who may do it and whether the audit's state
allows it, writes through ``server.db``, and records the event."""
