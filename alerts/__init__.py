"""Alerts: the outbox (`alerts.outbox`) delivering digests and alerts to e-mail and webhook channels
(`alerts.channels`), at least once. The digest's content is built elsewhere (issue #17)."""
