"""Writes the email fixtures (issue 11) with Python's `email` package, as a citizen's mail client
would: `python3 make_fixtures.py` in this folder. The .eml files are committed; this script says
how each was made."""

from base64 import b64encode
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from pathlib import Path

HERE = Path(__file__).parent


def write(name: str, message) -> None:
    (HERE / name).write_bytes(message.as_bytes(policy=SMTP) if isinstance(message, EmailMessage) else message.as_bytes())


# GB2312 subject (RFC 2047 B-encoding) and a GBK body, as older Chinese clients send.
plain = MIMEText("您好，我家门口的路灯坏了三天，请尽快派人维修。地址：幸福路12号。", "plain", "gbk")
# Written as the encoded words themselves: Python's Header labels gb2312 as "euc_cn"-style codec names.
plain["Subject"] = "=?gb2312?b?" + b64encode("路灯损坏报修".encode("gb2312")).decode() + "?="
plain["From"] = "=?gb2312?b?" + b64encode("王先生".encode("gb2312")).decode() + "?= <wang@example.cn>"
plain["To"] = "service@example.gov.cn"
plain["Message-ID"] = "<gbk-1@example.cn>"
plain["In-Reply-To"] = "<c1a2.m3@example.gov.cn>"
plain["References"] = "<first@example.gov.cn> <c1a2.m3@example.gov.cn>"
write("gbk-plain.eml", plain)

# multipart/mixed: a UTF-8 text, and a PDF whose Chinese filename is RFC 2231-encoded.
mixed = EmailMessage()
mixed["Subject"] = "投诉材料"
mixed["From"] = "李女士 <li@example.cn>"
mixed["To"] = "service@example.gov.cn"
mixed["Message-ID"] = "<mixed-1@example.cn>"
mixed.set_content("附件是相关材料，请查收。")
mixed.add_attachment(b"%PDF-1.4\n% fixture\n", maintype="application", subtype="pdf", filename=("utf-8", "", "材料清单.pdf"))
write("attachment-rfc2231.eml", mixed)

# HTML only.
html = MIMEMultipart("related")
html["Subject"] = "网页邮件"
html["From"] = "zhao@example.cn"
html["Message-ID"] = "<html-1@example.cn>"
html.attach(MIMEText("<p>只有<b>HTML</b>正文</p>", "html", "utf-8"))
write("html-only.eml", html)
