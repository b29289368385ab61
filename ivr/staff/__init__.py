"""Staff accounts, sign-in and the audit log."""
