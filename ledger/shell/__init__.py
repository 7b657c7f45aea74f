"""The shell around the domain: CLI (and later API) entry points."""
