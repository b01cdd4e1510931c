"""Pure domain: records, rules and errors. No I/O, no OCPP library, no web framework."""
