"""DNS readiness: does every domain publish the MX, SPF, DKIM, DMARC and verification records its provider needs?

    expected.py  what each provider needs (its facts, the provider's own answer, domains.yaml `records:`)
    query.py     asking nameservers with dnspython; NXDOMAIN, NODATA, SERVFAIL, REFUSED and timeouts told apart
    spf.py       SPF parsing, include/redirect following, the 10-lookup limit, loops, +all
    check.py     judging each record: ok, missing, wrong, risky, failed; the zone-file lines that fix it
    run.py       the entry points: check_org (`reconciler dns`), dns_warnings (`plan --dns`)

The records a domain declares itself (`records:` in domains.yaml) are part of the
org/ schema: `reconciler.model.records`. Views of a report are in `reconciler.render.dns`.
"""
