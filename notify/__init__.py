"""Telling askers and departments: the notifier sends what moderation/outbox.py stored (e-mail, SMS)."""
