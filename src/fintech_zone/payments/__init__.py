"""Payments context: participants, digital currency, FX, PvP payments, ISO 20022 messages and compliance."""
