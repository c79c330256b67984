"""reconciler: GitOps for a company's mail and identity directory."""

import os

__version__ = "0.1.0"

# Pydantic runs the plugins any installed package declares on every validation, and finds them by
# reading every installed distribution's entry points when the first model is built (15 ms of each
# run, more in a crowded environment). org/ and the tool's settings are validated by this package's
# own rules only: a plugin installed for some other program would otherwise see every value.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
