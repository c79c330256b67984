"""reconciler: GitOps for a company's mail and identity directory."""

__version__ = "0.1.0"
