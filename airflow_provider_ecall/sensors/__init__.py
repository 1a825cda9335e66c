"""Sensors of the eCall provider (delivery tracking, SMS replies)."""
