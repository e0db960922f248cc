"""Administering a partnership: what its administrator does (DESIGN, "The
people": "registers organisations and their contacts, corrects identity
bindings, sets the partnership's policies and schedules, uploads local
toolkit versions").

One module per concept, each step as every step of ``server.audits`` is
written (the permission its routes declare, then which records the person
reaches — their own partnership's, 404 for anyone else's — then every
problem with the input, then the write and its event in one transaction):

- ``organisations``: the register (code, name, agency kind, contacts,
  active or not), confirming those first recorded at a sign-in, and
  correcting an organisation's agency kind or partnership with a reason;
- ``clients``: agencies' systems (OAuth clients) registered to their
  organisation, with the roles Maca gives them;
- ``partnership``: its name and code, default due period, reminder
  schedule and retention period, and the administration trail;
- ``toolkits``: which toolkits are offered and with which merge policy,
  and the partnership's own toolkit versions (uploaded, previewed as each
  agency would see them, activated);
- ``directory``: the reads other parts of Maca make of what the
  administrator recorded (whom to tell about an audit, the reminder
  schedule), with no person asking.

Every change is an event naming the partnership(s) it concerns
(``detail["partnership_ids"]``), so the partnership's administration trail
is one read; a correction carries the reason given. No e-mail address or
name of a contact goes into an event: the trail says that contacts
changed, not to whom.
"""
