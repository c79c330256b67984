"""Onboarding mail: a welcome message (and, if org.yaml says so, the initial password in a
second message) to each person whose account an apply created, sent through SMTP.

`settings` holds the `onboarding:` section of org.yaml; `onboarding` records created
accounts in the delivery ledger and sends; `templates` reads org/templates/. This
`__init__` imports only the settings, because `model/files.py` imports them: the
rest is imported from its module (`from reconciler.mail.onboarding import Onboarding`).
"""

from reconciler.mail.settings import Links, MailSettings, SmtpSettings

__all__ = ["Links", "MailSettings", "SmtpSettings"]
