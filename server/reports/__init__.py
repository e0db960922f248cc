"""The partnership's review across audits, as documents: themes, the
combined audit report, exports for analysts, FHIR responses and charts.
Built from what the steps in ``server.audits`` read; served by ``server.api``
and ``server.pages``."""
