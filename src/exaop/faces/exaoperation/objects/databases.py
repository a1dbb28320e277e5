"""The cluster's database methods (/cluster1): addDatabase, removeDatabase.

A database object itself (/cluster1/db_<name>) is faces/exaoperation/objects/database.py; getDatabaseList
and friends are with the cluster's other listings (faces/exaoperation/objects/cluster.py), deleting a
database is the cluster's deleteSubObject('db_<name>').
"""

from __future__ import annotations

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.database import ADD_FIELDS
from exaop.faces.exaoperation.objects.kinds import fields_help
from exaop.model.cluster import Cluster
from exaop.model.software import remove_version

m = CLUSTER.method


@m("addDatabase", "operate", "Define a new database from a dictionary of its fields; returns its object "
   "name, 'db_<database_name>'. Nothing is created on disk until createDatabase on the new object. "
   "Fields:\n" + fields_help(ADD_FIELDS, creating=True))  # fmt: skip
def add_database(ctx: Context, c: Cluster, values: dict) -> str:
    return f"db_{c.add_database(values).name}"


@m("removeDatabase", "operate", "Remove an installed EXASolution version (see getListValues"
   "('EXASolutionVersions')): removeDatabase(version). Refused while a database uses it, and for the "
   "version that came with this EXAoperation.")  # fmt: skip
def remove_database(ctx: Context, c: Cluster, version: str) -> str:
    remove_version(c, version)
    return "OK"
