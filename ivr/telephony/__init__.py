"""Twilio beyond webhooks: its REST API, reached through the official client."""
