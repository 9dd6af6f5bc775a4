"""Notifications: the outbox, e-mail and in-app channels (built by the notifications issue)."""
