"""exaop: operate Exasol-style clusters safely through the EXAoperation XML-RPC interface."""

__version__ = "0.1.0"
