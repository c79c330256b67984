"""Tencent Exmail (腾讯企业邮箱): see provider.py."""

from reconciler.providers.exmail.provider import ExmailProvider

__all__ = ["ExmailProvider"]
