"""What GitHub accepts, known to the CLI's defaults without loading the renderers."""

GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in an issue or pull-request comment
