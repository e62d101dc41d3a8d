"""Alerts: the daily digest and notifications (email, webhooks). Not built yet (see docs/architecture.md)."""
