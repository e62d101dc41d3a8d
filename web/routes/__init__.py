"""One router per resource: sign-in, the daily list, cases, captures, users."""
