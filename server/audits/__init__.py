"""The domain: what happens to an audit, whoever asks.

The JSON API (``server.api``) and the web pages (``server.pages``) call the
same steps, so they cannot drift apart. A step takes the transaction's
connection (``unit_of_work``), the principal, the toolkit registry and
typed inputs, and

- checks the permission it needs, the one its routes declare
  (``require(principal, Permission.AUDIT_MOVE)`` from
  :mod:`server.auth.permissions`: 403 saying who may), and never a role by
  name; then which resources the person reaches
  (:mod:`~server.audits.access`: 404 for what is not theirs to see);
- checks everything else it needs — the version the caller saw, whether
  the audit's state allows it, every problem with the input (the pure
  ``…_problems`` functions, which a page also calls to show every problem
  at once; there is no public ``store_…`` that trusts its caller);
- reads or writes through ``server.db`` (SQL only);
- records the event (:mod:`~server.audits.events`, the only recorder), in
  the same transaction, for reads as for writes;
- and, where the partnership's judgement may move, refreshes the audit's
  themes summary (:mod:`~server.audits.summaries`).

A refusal is one of the problems of ``server.platform.problems``: the API
answers it as an RFC 9457 document, the pages as a GOV.UK error message.
HTTP stays at the edges: controllers read ``If-Match`` and pages a hidden
``row_version`` and pass it as ``seen_version``; controllers write ``ETag``
and replay ``Idempotency-Key``.

One module per concept: ``access`` (who may see what), ``audits`` (create,
correct, move on, read, list), ``contributions`` (save, submit, amend,
return, read, versions) with ``contribution_patches`` (saving part of one:
a JSON Merge Patch) and ``fhir_responses`` (one sent as a FHIR
QuestionnaireResponse), ``judgement`` (the partnership's judgement, as
everyone computes it), ``moderation``, ``actions`` (remedial actions),
``summaries`` (the themes dashboard's counted rows), ``themes`` (the
dashboard), ``reports`` (the combined report), ``exports``, ``retention``
(``maca purge``); beside them ``events`` (``EventName`` and the recorder),
``views`` (what the steps give back: the API's documents and the pages'
read models), ``facts`` (an audit as the pure packages read it) and
``checks`` (limits and the wording of refusals).
"""
