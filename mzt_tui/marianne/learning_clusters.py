"""The learning store's workspace clusters: workspaces grouped for cross-workspace learning.

The conductor's API over `workspace_clusters` (get_workspace_cluster,
assign_workspace_cluster, get_similar_workspaces), with the same rows and values.
"""

from __future__ import annotations

import sqlite3

from mzt_tui.marianne.checkpoint import as_str
from mzt_tui.marianne.learning_access import StoreAccess
from mzt_tui.marianne.learning_executions import local_iso
from mzt_tui.marianne.learning_rows import parse_iso
from mzt_tui.models.outcomes import WorkspaceCluster


class ClustersMixin(StoreAccess):
    """Workspace clusters in `workspace_clusters`; mixed into `LearningStore`."""

    def get_workspace_cluster(self, workspace_hash: str) -> str | None:
        """Return the cluster a workspace is assigned to, or None.

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read(
            "SELECT cluster_id FROM workspace_clusters WHERE workspace_hash = ?",
            (workspace_hash,),
        )
        return as_str(rows[0]["cluster_id"]) if rows else None

    def assign_workspace_cluster(self, workspace_hash: str, cluster_id: str) -> None:
        """Assign a workspace to a cluster, replacing any earlier assignment.

        Raises:
            ValueError: An empty workspace hash or cluster ID.
            NewerSchemaError: The file's schema is newer than this code writes.
            StoreError: The file cannot be written (after retrying while it is locked).
        """
        if not workspace_hash.strip() or not cluster_id.strip():
            raise ValueError("workspace_hash and cluster_id must not be empty")

        def assign(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT OR REPLACE INTO workspace_clusters (workspace_hash, cluster_id,"
                " assigned_at) VALUES (?, ?, ?)",
                (workspace_hash, cluster_id, local_iso(self._now())),
            )

        self._write(assign)

    def get_similar_workspaces(self, cluster_id: str, limit: int = 10) -> list[str]:
        """Return the workspace hashes of a cluster, latest assigned first.

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read(
            "SELECT workspace_hash FROM workspace_clusters WHERE cluster_id = ?"
            " ORDER BY assigned_at DESC, rowid DESC LIMIT ?",
            (cluster_id, max(0, limit)),
        )
        return [value for row in rows if (value := as_str(row["workspace_hash"]))]

    def read_workspace_clusters(self) -> list[WorkspaceCluster]:
        """Return every workspace's cluster, by cluster, latest assigned first within one.

        Raises:
            StoreError: The file is not a readable database.
        """
        rows = self._read(
            "SELECT workspace_hash, cluster_id, assigned_at FROM workspace_clusters"
            " ORDER BY cluster_id, assigned_at DESC, workspace_hash"
        )
        return [
            WorkspaceCluster(
                workspace_hash=as_str(row["workspace_hash"]) or "",
                cluster_id=as_str(row["cluster_id"]),
                assigned_at=parse_iso(row["assigned_at"]),
            )
            for row in rows
        ]
