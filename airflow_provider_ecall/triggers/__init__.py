"""Triggers of the eCall provider (delivery tracking, inbound SMS)."""
