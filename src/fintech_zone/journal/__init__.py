"""The journal: a tamper-evident, co-signed Merkle log (RFC 9162) of what the rails and regulators commit."""
