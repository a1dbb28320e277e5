"""ConfD's face (Exasol 7.1+): XML-RPC jobs over HTTPS, on its own port, over the one model."""
