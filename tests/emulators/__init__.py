"""Loopback HTTP emulators of the provider APIs, driven by the real SDKs in tests.

`tests.emulators.google` emulates the Google Workspace Admin APIs (Directory, Licensing,
Data Transfer, Reports) closely enough for google-api-python-client to talk to it;
`tests.emulators.graph` does the same for Microsoft Graph v1.0 and msgraph-sdk.
`tests.emulators.common` is what they share (serving in a thread, statistics, fault
injection, control endpoints, ``python -m`` entry points); a new emulator builds on it.
"""
