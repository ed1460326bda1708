# tests/hardening.mk: unit tests for the hardening modules.
