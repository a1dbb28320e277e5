"""The faces of the one cluster model: the wire protocols clients speak.

``exaoperation`` is EXAoperation's XML-RPC interface (Exasol up to 7.0); ``auth`` is
shared by every face: the same users, roles and login guard whichever way a client comes.
"""
