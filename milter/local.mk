# milter: filled in by its issue.
