# Test data and integration scenarios (run by scripts/test as root; they start real Postfix/PAM).
EXTRA_DIST += tests/tap.h tests/data tests/integration tests/SMUGGLING.md
