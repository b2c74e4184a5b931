"""The audit trail: admins search and export the privileged actions over HTTP."""

from server.features.audit.feature import AuditTrail

__all__ = ["AuditTrail"]
