"""A loopback emulator of the Google Workspace Admin APIs (Directory, Licensing, Data Transfer, Reports).

    from tests.emulators.google import GoogleEmulator

    with GoogleEmulator(quota_per_minute=2400) as emulator:
        service = build("admin", "directory_v1", credentials=AnonymousCredentials(),
                        client_options={"api_endpoint": emulator.url}, static_discovery=True)

Run standalone with ``python -m tests.emulators.google --port 8085``.
"""

from .server import GoogleEmulator

__all__ = ["GoogleEmulator"]
