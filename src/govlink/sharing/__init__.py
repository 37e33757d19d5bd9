"""Sharing between departments: policy, requests and approvals, grants, masking, pseudonyms, delivery, 核验."""
