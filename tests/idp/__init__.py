"""Real identity providers for the federation tests, started on 127.0.0.1 by the tests."""
