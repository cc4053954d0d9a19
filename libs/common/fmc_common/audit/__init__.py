"""The audit kit: each service's trail is its own table, built from these columns and written here.

* ``tables``: column mixins (``AuditEntryColumns``; ``ChainedAuditEntryColumns`` and
  ``AuditHeadColumns`` for a hash-chained trail) that a service combines with its own ``Base``;
* ``trail``: ``AuditTrail`` / ``ChainedAuditTrail`` (record in the caller's transaction, page, verify);
* ``schemas``: the responses (``AuditEntryOut``, ``AuditPage``, ``ChainedAuditEntryOut``,
  ``ChainedAuditPage``, ``ChainVerification``);
* ``chain``: the hash chain as pure functions;
* ``reading``: what the audit endpoints answer (a page of a chained trail, an anchor, a verification).
"""
