"""Workflows: access requests, routing, approvals, reviews and lifecycle jobs."""
