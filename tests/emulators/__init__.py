"""Loopback HTTP emulators of the provider APIs, driven by the real SDKs in tests.

`tests.emulators.google` emulates the Google Workspace Admin APIs (Directory, Licensing,
Data Transfer, Reports) closely enough for google-api-python-client to talk to it.
"""
