"""`reconciler audit`: a review of the tenant an admin can hand to security.

Every finding names one account (or group), says what is wrong and what to do,
and carries a stable code and a severity. A tenant that matches org/ and whose
accounts are used, enrolled and within quota gives no findings; each problem
gives exactly one.

| code               | severity | when                                                                        |
|--------------------|----------|-----------------------------------------------------------------------------|
| admin-without-2sv  | high     | an active account holding any admin role is not enrolled in 2-step          |
|                    |          | verification (always, whatever security.require_2sv says)                   |
| inactive           | high     | an active admin account unused for more than audit.inactive_days            |
|                    | medium   | any other active account: last sign-in older than audit.inactive_days, or   |
|                    |          | never signed in and created more than audit.inactive_days ago               |
|                    | low      | an active account that never signed in and whose creation date the provider |
|                    |          | does not give: it may be new, but an unused account is worth a look         |
| user-without-2sv   | medium   | an active account without 2-step verification, when security.require_2sv    |
|                    |          | and it is older than security.enroll_within_days (default 14)               |
| unmanaged          | medium   | an active account without an id that no file in org/users describes         |
|                    | low      | the same, suspended                                                         |
| external-members   | medium   | a group with external members org/ does not list in its external_members    |
|                    | info     | a group whose external members are all listed in org/ (reviewed in a pull   |
|                    |          | request; listed so security sees everything shared outside the company)     |
| near-quota         | medium   | a mailbox at or over its storage quota                                      |
|                    | low      | a mailbox using at least audit.quota_percent of its quota                   |
| suspended-too-long | low      | an account org/ offboarded whose waiting period (lifecycle.                 |
|                    |          | offboard_after_days) has ended, still there (its delete pending or held);   |
|                    |          | or a suspended account with no file whose last sign-in (creation, if never  |
|                    |          | used) is older than that window (see usage.suspended_too_long)              |
| license-mismatch   | low      | an account org/ describes whose licences (among those profiles give) differ |
|                    |          | from what its profile gives                                                 |

Suspended accounts cannot sign in: they are not judged for inactivity or 2-step
verification. A figure the provider cannot give (ActivityReport.unavailable)
skips the checks that need it, and the report says which and why; it never
fails the audit. A value missing for one account (None) leaves that account
unjudged by that check.
"""

from reconciler.audit.model import AuditFinding, AuditReport, exit_code
from reconciler.audit.run import audit_provider, run_audit

__all__ = ["AuditFinding", "AuditReport", "audit_provider", "exit_code", "run_audit"]
