"""The cluster model: plain objects and rules. Nothing here knows about XML-RPC or sockets."""
