"""The snippets of the seed article (../shared/seeds/000_60a50fe9224dd4a3.txt), verbatim.

Only what the integration test may change is changed when they run: the URL's host,
port and credentials, and an unverified TLS context for the self-signed certificate
(see ``adapt``). Everything else, loops included, is the article's text.
"""

from __future__ import annotations

import re

STARTUP_1 = """
cluster_url = "https://user:password@license-server/cluster1"

while True:
    try:
        cluster = ServerProxy(cluster_url)
        if cluster.getNodeList():
            print("connected\\n")
            break
    except:
        continue
"""

STARTUP_2_POWER = """
for node in cluster.getNodeList():
    cluster.startupNode(node)
"""

STARTUP_2_CHECK = """
for node in cluster.getNodeList():
    if 'dmidecode' in cluster.getHardwareInformation(node):
        print("node {} is online\\n".format(node))
    else:
        print("node {} is offline\\n".format(node))
"""

STARTUP_2_LOG = """
logservice_url = "https://user:password@license-server/cluster1/logservice1"
logservice = ServerProxy(logservice_url)
logservice.logEntries()
"""

STARTUP_3 = """
cluster_url = "https://user:password@license-server/cluster1"
storage_url = "https://user:password@license-server/cluster1/storage"

cluster = ServerProxy(cluster_url)
storage = ServerProxy(storage_url)

# start the Storage service
storage.startEXAStorage()

# check the runtime state of all services
cluster.getServiceState()
"""

STARTUP_4 = """
for db in cluster.getDatabaseList():
    instance_url = "https://user:password@license-server/cluster1/db_{}".format(db)
    instance = ServerProxy(instance_url)
    instance.startDatabase()
    while True:
        if 'Yes' == instance.getDatabaseConnectionState():
            print("database {} is accepting connections at {}\\n".format(
                db, instance.getDatabaseConnectionString()))
            break
"""

STARTUP_5 = """
plugin = 'Administration.vmware-tools'

# Restart the service on the license server
# to bring it into the correct PID namespace
cluster.callPlugin(plugin, 'n0010', 'STOP')
cluster.callPlugin(plugin, 'n0010', 'START')

for node in cluster.getNodeList():
    if 'vmtoolsd is running' not in cluster.callPlugin(plugin, node, 'STATUS')[1]:
        cluster.callPlugin(plugin, node, 'START')
"""

MASTER_42 = """
license_server_id = 10
exaoperation_master = cluster.getCurrentLicenseServer()

if exaoperation_master != license_server_id:
    print("node n00{} is the current EXAoperation master but it should be n00{}\\n".format(
        exaoperation_master, license_server_id))
"""

MASTER_50 = """
license_server_id = "n0010"
exaoperation_master = cluster.getEXAoperationMaster()

if exaoperation_master != license_server_id:
    print("node {} is the current EXAoperation master but it should be {}\\n".format(
        exaoperation_master, license_server_id))
"""

SHUTDOWN_1 = """
for db in cluster.getDatabaseList():
    instance_url = "https://user:password@license-server/cluster1/db_{}".format(db)
    instance = ServerProxy(instance_url)

    state = instance.getDatabaseState()
    if 'running' == state:
        operation = instance.getDatabaseOperation()
        if 'None' == operation:
            instance.stopDatabase()
            while True:
                if 'setup' == instance.getDatabaseState():
                    print("database {} stopped\\n".format(db))
                    break
        else:
            print("Database {} is currently in operation state {}\\n".format(db, operation))
    else:
        print("Database {} is currently in runtime state {}\\n".format(db, state))
"""

SHUTDOWN_2 = """
cluster_url = "https://user:password@license-server/cluster1"
storage_url = "https://user:password@license-server/cluster1/storage"

cluster = ServerProxy(cluster_url)
storage = ServerProxy(storage_url)

storage.stopEXAStorage()
cluster.getServiceState()
"""

SHUTDOWN_3 = """
for node in cluster.getNodeList():
    cluster.shutdownNode(node)

license_servers = ['n0010',]
for ls in license_servers:
    cluster.shutdownNode(ls)
"""


def adapt(snippet: str, base: str) -> str:
    """Point the article's URLs at ``base`` (scheme://user:pass@host:port) and add a TLS context."""
    text = snippet.replace("https://user:password@license-server", base)
    return re.sub(r"ServerProxy\((\w+)\)", r"ServerProxy(\1, context=ctx)", text)
