"""build-status: report CI job outcomes to Bitbucket Server / Data Center (and close Coveralls builds)."""

__version__ = "0.1.0"
