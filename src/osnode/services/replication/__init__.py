"""Replication: mirroring the files of records harvested from a peer, by a policy chosen per peer.

Harvesting brings a peer's metadata; a peer whose policy is ``open`` (every open file) or ``sets``
(the open files of records in chosen OAI-PMH sets) also has its files mirrored here. For each
harvested record the origin's JSON API (``/api/records/{id}``, which an osnode peer answers) names
the files with their SHA-256; only blobs this node does not hold are fetched, with ``fetch_blob``
(resumes with Range, verifies every byte before the blob becomes visible). Then one transaction
points the local harvested version at them, makes them downloadable and notes who holds a copy.

A record is all or nothing: if one of its blobs cannot be fetched whole, none of its files is
registered and a re-run picks up from the bytes already fetched. ``replication_state`` remembers
which origin datestamp is in place, so a re-run goes to the network only for records that changed
or whose blobs went missing here (and then moves only those blobs).
"""

from .holders import Holder, blob_holders, holders
from .policies import POLICIES, Policy, get_policy, list_policies, replicating_peers, set_policy
from .runs import Report, replicate, replicate_all

__all__ = [
    "POLICIES",
    "Holder",
    "Policy",
    "Report",
    "blob_holders",
    "get_policy",
    "holders",
    "list_policies",
    "replicate",
    "replicate_all",
    "replicating_peers",
    "set_policy",
]
