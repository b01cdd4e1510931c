"""Request and response bodies of the operator API (camelCase on the wire), one module per
resource over the shared base (envelopes, timestamps, the model configurations).

Responses are built from the domain records by the ``from_domain`` constructors; timestamps leave
as ``format_timestamp`` renders them (UTC, milliseconds, ``Z``). Request bodies reject unknown
fields, so a misspelt field is a 422 instead of a silent no-op.
"""
