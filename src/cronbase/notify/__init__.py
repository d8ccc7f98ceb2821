"""Notifications: channels, the events that go to them, and their delivery (see model.py)."""
