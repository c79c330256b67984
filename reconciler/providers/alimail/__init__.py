"""Alibaba Mail (阿里邮箱): accounts, aliases and departments through the open platform."""

from reconciler.providers.alimail.provider import AlimailProvider

__all__ = ["AlimailProvider"]
