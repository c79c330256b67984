"""Facts of Tencent Exmail, 腾讯企业邮箱 (see reconciler.providers.facts).

DNS values: the MX pair and the SPF include that Tencent's set-up guide (管理后台 > 域名管理 >
设置域名解析) and its resellers' copies of it publish: MX mxbiz1.qq.com (priority 5) and
mxbiz2.qq.com (10), TXT "v=spf1 include:spf.mail.qq.com ~all". The DKIM key is per domain and is
shown in the admin console only (no API returns it).
"""

from reconciler.i18n import N_
from reconciler.providers.facts import DnsFacts, IncidentFacts, ProviderFacts

EXMAIL = ProviderFacts(
    kind="exmail",
    # Its API shows no forwarding, 收信规则, delegates or 客户端专用密码: a freeze cannot remove them,
    # and the plan says where to look instead (a high warning).
    incident=IncidentFacts(
        console=("管理后台 > 通讯录 > the member; and in the member's mailbox 设置 > 收信规则 / 自动转发 / "
                 "客户端专用密码"),
        notes=(N_("Exmail's API exposes no forwarding, mail rules (收信规则), delegates or client-specific passwords "
                  "(客户端专用密码): check them in the member's mailbox settings. The freeze disabled the member, "
                  "reset the password and, with the 功能设置 secret, turned IMAP/SMTP and POP/SMTP off and forced "
                  "secure login, so no mail client signs in with an old password."),
               N_("Exmail's login log gives sign-in IP addresses and the kind of client, but no places."))),
    display_name="腾讯企业邮箱 (Tencent Exmail)",
    # Taiwan and Hong Kong write the product's name in Traditional characters.
    names_in={"zh-TW": "騰訊企業郵箱 (Tencent Exmail)", "zh-HK": "騰訊企業郵箱 (Tencent Exmail)"},
    # One address for every page: the web mailbox's inner page addresses are not documented, and
    # the welcome mail says which tab to open after signing in.
    links={
        "sign_in": "https://exmail.qq.com",
        "mail": "https://exmail.qq.com",
        "calendar": "https://exmail.qq.com",
        "contacts": "https://exmail.qq.com",
    },
    # A deleted member cannot be restored through the API; the admin console's recycle bin is
    # not documented as a guarantee, so the plan says a delete is final.
    restore_days=None,
    old_address_on_rename="cannot",  # the API has no way to change a member's address
    dns=DnsFacts(
        mx="mxbiz1.qq.com",
        mx_priority=5,
        # The pre-2015 single host still delivers.
        mx_backups=((10, "mxbiz2.qq.com"),),
        mx_accepted=(r"mxbiz[12]\.qq\.com", r"mx\.exmail\.qq\.com"),
        spf="v=spf1 include:spf.mail.qq.com ~all",
        dkim_hint="v=DKIM1; k=rsa; p=<public key from the Exmail admin console: 设置 > 域名管理 > DKIM>",
    ),
)
