"""Placeholder until the oidc_fixtures fixtures land."""
