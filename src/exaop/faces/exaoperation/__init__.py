"""The XML-RPC wire: parsing, authentication, routing, faults. No cluster rules here."""
