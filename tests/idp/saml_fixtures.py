"""Placeholder until the saml_fixtures fixtures land."""
