"""DNS readiness: does every domain publish the MX, SPF, DKIM, DMARC and verification records its provider needs?

    expected.py  what each provider needs (documented values, the provider's own, domains.yaml `records:`)
    query.py     asking nameservers with dnspython; NXDOMAIN, NODATA, SERVFAIL, REFUSED and timeouts told apart
    spf.py       SPF parsing, include/redirect following, the 10-lookup limit, loops, +all
    check.py     judging each record: ok, missing, wrong, risky, failed; the zone-file lines that fix it
    render.py    a Rich table per domain, JSON, markdown
    run.py       the entry points: run_dns_check (`reconciler dns`), dns_warnings (`plan --dns`)

This package file imports nothing: `reconciler.model.files` imports
`reconciler.dns.model`, and loading org/ must pay neither for dnspython nor for
an import cycle. Callers import `reconciler.dns.run` when they need a check.
"""
