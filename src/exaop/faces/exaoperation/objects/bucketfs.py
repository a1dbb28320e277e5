"""BucketFS services (/cluster1/bfsdefault, BucketFS) and their buckets (/cluster1/bfsdefault/default,
BucketFSBucket); addBucketFS and saveBucketFSChanges on the cluster."""

from __future__ import annotations

from exaop.faces.exaoperation.dispatch import Context
from exaop.faces.exaoperation.objects.cluster import CLUSTER
from exaop.faces.exaoperation.objects.kinds import add_method, configurable_type, delete_sub_object
from exaop.model.bucketfs import Bucket, BucketFS, save_changes
from exaop.model.cluster import Cluster

BUCKETFS_TYPE = configurable_type(BucketFS, "BucketFS", "editBucketFS")
BUCKET_TYPE = configurable_type(Bucket, "BucketFSBucket", "editBucketFSBucket")

add_method(CLUSTER, "addBucketFS", BucketFS, intro="Add a BucketFS service (HTTP and/or HTTPS ports unique in the "
           "cluster). Its settings take effect with saveBucketFSChanges. Returns its object name (bfsdefault "
           "when there is none, else bucketfs1 ...).")  # fmt: skip
add_method(BUCKETFS_TYPE, "addBucket", Bucket, parent=lambda fs: fs.name, intro="Add a bucket to this BucketFS; "
           "its object name is its bucket_name. Takes effect with saveBucketFSChanges.")  # fmt: skip
delete_sub_object(BUCKETFS_TYPE, parent=lambda fs: fs.name, what="a bucket")


@BUCKETFS_TYPE.method("getSize", "read", "Bytes the service's buckets hold (the sum of getSize of its buckets).",
                      returns="int")  # fmt: skip
def get_bucketfs_size(ctx: Context, fs: BucketFS) -> int:
    return fs.size()


@BUCKET_TYPE.method("getSize", "read", "Bytes the bucket holds. Files come from the model, not from uploads: "
                    "bfsdefault/default holds the JDBC drivers' JAR files.", returns="int")  # fmt: skip
def get_bucket_size(ctx: Context, b: Bucket) -> int:
    return b.size()


@CLUSTER.method("saveBucketFSChanges", "operate", "Write the changed settings of BucketFS services and buckets to "
                "their configuration: they take effect now. Returns the paths of what was saved ([] when nothing "
                "had changed).", returns="array")  # fmt: skip
def save_bucketfs_changes(ctx: Context, c: Cluster) -> list[str]:
    return save_changes(c)
