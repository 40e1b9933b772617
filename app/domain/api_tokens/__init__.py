"""Credentials of the JSON API (/api/v1): personal access tokens, signed access tokens and
rotating refresh tokens, and the bearer check that accepts either."""
