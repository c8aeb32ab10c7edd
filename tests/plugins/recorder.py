"""Test-only plugin that records every event delivered through track_event."""

from indieauth import hookimpl

EVENTS = []


@hookimpl
def track_event(app, event):
    EVENTS.append(event)
