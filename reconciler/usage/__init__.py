"""`reconciler usage`: storage and mail per person and per department, and what stands out.

Figures come from the provider's `usage` hook (storage, mail sent and received over the last
7/30/90 days, a daily history where the service keeps one) and its `activity` hook (last
sign-in), each read in bulk. The accounts are matched to org/ as the audit matches them
(reconciler/audit/accounts.py), so each person's department is the one org/ gives.

| code           | severity | when                                                                        |
|----------------|----------|-----------------------------------------------------------------------------|
| heavy-sender   | high     | an account sent at least audit.heavy_sender_limit mails in the last 7 days  |
|                | medium   | it sent more than audit.heavy_sender_factor x the median of the accounts    |
|                |          | that sent anything, and at least audit.heavy_sender_min                     |
| near-quota     | medium   | a mailbox at or over its storage quota (the audit's check)                  |
|                | low      | a mailbox using at least audit.quota_percent of its quota                   |
| fast-growing   | low      | storage grew by at least audit.growth_percent of the quota in 30 days        |
| unused-license | low      | an account holds a licence and neither signed in nor sent mail for          |
|                |          | audit.unused_licence_days (each signal the provider gives must agree)       |

A figure the provider cannot give (UsageReport.unavailable) skips the checks that need it, and
the report says which and why. Healthy accounts give no findings.
"""

from reconciler.usage.model import UsageSummary
from reconciler.usage.run import summarize_usage, usage_of_provider

__all__ = ["UsageSummary", "summarize_usage", "usage_of_provider"]
