"""Facts of Alibaba Mail, 阿里邮箱 (see reconciler.providers.facts).

DNS values from Alibaba's help centre: "Alibaba Mail MX records" (help.aliyun.com/document_detail/
36710) publishes MX mx1/mx2/mx3.qiye.aliyun.com at priorities 5, 10 and 15, or the older pair
mxn.mxhichina.com (5) and mxw.mxhichina.com (10), which still deliver; the SPF page
(help.aliyun.com/document_detail/36771) gives "v=spf1 include:spf.qiye.aliyun.com -all". The
DKIM key is per domain and shown in the admin console only (no API returns it).
"""

from reconciler.i18n import N_
from reconciler.providers.facts import DnsFacts, IncidentFacts, ProviderFacts

ALIMAIL = ProviderFacts(
    # Its open platform shows no forwarding, mail rules, delegates or app passwords: a freeze cannot
    # remove them, and the plan says where to look instead (a high warning).
    incident=IncidentFacts(
        console=("管理后台 > 组织与用户 > the account; and in the account's webmail 设置 > 自动转发 / 来信分类 / "
                 "三方客户端安全密码"),
        notes=(N_("Alibaba Mail's open platform exposes no forwarding, mail rules (来信分类), delegates or third-party "
                  "client passwords: check them in the account's webmail settings; the freeze set the account to "
                  "FREEZE, and its password is reset in the admin console (no confirmed API call does it)."),
               N_("Alibaba Mail gives only the last sign-in and its IP address, no log and no places."))),
    kind="alimail",
    old_address_on_rename="cannot",  # no documented way to change an account's address
    resets_passwords=False,  # resetPassword's method is not confirmed by Alibaba's pages (README)
    display_name="阿里邮箱 (Alibaba Mail)",
    names_in={"zh-TW": "阿里郵箱 (Alibaba Mail)", "zh-HK": "阿里郵箱 (Alibaba Mail)"},
    links={
        # The web sign-in page (mail.<domain> is a CNAME to it); mail, calendar and contacts are
        # tabs of the one web app, whose deep links Alibaba does not document.
        "sign_in": "https://qiye.aliyun.com",
        "mail": "https://qiye.aliyun.com",
        "calendar": "https://qiye.aliyun.com",
        "contacts": "https://qiye.aliyun.com",
    },
    # The open platform documents no restore of a deleted account: the plan says a delete is final.
    restore_days=None,
    dns=DnsFacts(
        mx="mx1.qiye.aliyun.com",
        mx_priority=5,
        mx_backups=((10, "mx2.qiye.aliyun.com"), (15, "mx3.qiye.aliyun.com")),
        mx_accepted=(r"mx[123]\.qiye\.aliyun\.com", r"mx[nw]\.mxhichina\.com"),
        spf="v=spf1 include:spf.qiye.aliyun.com -all",
        dkim_hint="v=DKIM1; k=rsa; p=<public key from the Alibaba Mail admin console: 域名管理 > DKIM>",
    ),
)
