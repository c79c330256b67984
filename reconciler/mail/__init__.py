"""Onboarding mail: a welcome message (and, if org.yaml says so, the initial password in a
second message) to each person whose account an apply created, sent through SMTP.

The `onboarding:` settings are part of the org/ schema (`reconciler.model.onboarding`);
`onboarding` records created accounts in the delivery ledger and sends; `templates`
reads org/templates/; `compose` builds the messages and `smtp` sends them.
"""
