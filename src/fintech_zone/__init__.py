"""fintech-zone: the platform of the China–Singapore FinTech Cooperation Demonstration Zone (Chongqing)."""

__version__ = "0.1.0"
