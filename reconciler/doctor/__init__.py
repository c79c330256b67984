"""`reconciler doctor ADDRESS`: why can't this person (or group) send or receive, in one screen.

Every problem is a `Diagnostic` with a stable code, most likely cause first (model.CAUSES),
each with what to do: the org/ edit, the console page or the command. A healthy address gives
no findings (exit 0); any finding of low severity or more exits 1. What the provider cannot
read is listed as not available, with why; it is never a finding.

| code                     | severity | when                                                                  |
|--------------------------|----------|-----------------------------------------------------------------------|
| unknown-address          | high     | no person, alias or group has the address (did-you-mean over them)    |
| deleted-restorable       | high     | the account was deleted and can still be restored (until when)        |
| not-created              | high     | org/ describes it but the provider does not hold it yet               |
| offboarded / frozen      | high     | org/ says so (the account is suspended by design)                     |
| suspended                | high     | the account is suspended (org/ says so, or someone did in the console)|
| sign-in-blocked          | high     | sign-in blocked while the account is not suspended                    |
| no-mail-service          | high     | no licence or service plan that carries mail                          |
| mailbox-not-ready        | high     | the mailbox was not provisioned                                       |
| mailbox-full             | high     | storage used at or over the quota                                     |
| group-without-members    | high     | a group that reaches nobody                                           |
| dns-*                    | high/low | the address's domain fails a `reconciler dns` check (error/warning)   |
| external-forwarding      | high     | mail forwarded outside the company's domains (auto-forward or rule)   |
| deleting-rule            | high     | a filter or inbox rule deletes incoming mail                          |
| forwarding               | medium   | a rule sends mail on without keeping it here                          |
| delegates                | medium   | others may read and send as this mailbox                              |
| new-sign-in-place        | medium   | a sign-in from a place not seen before, in the last 14 days           |
| password-change-required | medium   | a new password must be chosen (mail apps fail until then)             |
| mailbox-near-full        | medium   | storage at or over audit.quota_percent of the quota                   |
| group-external-members   | medium   | a group's outside members that org/ does not list                     |
"""

from reconciler.doctor.model import DoctorReport
from reconciler.doctor.run import check_address, diagnose

__all__ = ["DoctorReport", "check_address", "diagnose"]
