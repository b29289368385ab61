"""Twilio Voice: the webhooks, their signatures, and a simulated Twilio that places calls."""
