"""Transparency log: an RFC 9162 Merkle tree of access events with signed checkpoints."""
