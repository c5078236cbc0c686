"""`io.kestra.plugin.aws.s3.Trigger` as the trigger runtime polls it (docs/tasks-s3.md).

Each interval: list the bucket (prefix, regexp, filter, at most maxKeys keys), keep
the objects not fired yet, fetch them into internal storage under the execution's
`trigger/` folder, start ONE execution with `trigger.objects`, and once it is
committed MOVE or DELETE them (`action`), so they are not seen again.

The context's data keeps `seen`: key -> ETag of the objects fired that are still
listed. With MOVE/DELETE it holds the objects whose action did not happen yet (a
crash after the commit): the next evaluation does it then, and never fires them
twice. With NONE the objects stay, and `on` says what fires again: a new key
(CREATE), a changed one (UPDATE, its ETag changed) or both (CREATE_OR_UPDATE,
Kestra's default).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanner.errors import LannerError
from lanner.model.awss3 import Action
from lanner.model.flow import Flow
from lanner.model.polltriggers import S3_TRIGGER, OnEvent
from lanner.model.triggers import S3Trigger
from lanner.runtime.pollbase import Poll, PollingType
from lanner.storage.uris import storage_path, trigger_file_uri
from lanner.store.base import TriggerContext
from lanner.tasks.s3 import client as s3


class S3TriggerType(PollingType):
    type_name = S3_TRIGGER

    def fingerprint(self, trigger: S3Trigger) -> str:
        # A different bucket or selection forgets what was seen; a new interval too.
        parts = (trigger.interval, trigger.bucket, trigger.prefix, trigger.regexp, trigger.on)
        return "|".join(str(p or "") for p in parts)

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: S3Trigger,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        if self.storage is None:
            raise LannerError("the S3 trigger needs the internal storage to keep the objects")
        render = self.renderer(flow, revision, now)
        client = s3.s3_client(trigger, render)
        bucket = str(render(trigger.bucket))
        move = s3.move_target(trigger, render, bucket)
        current = {
            str(o["Key"]): o
            for o in s3.list_objects(client, trigger, render)
            if not str(o["Key"]).endswith("/")
        }
        raw_seen = context.data.get("seen")
        seen = {str(k): str(v) for k, v in raw_seen.items()} if isinstance(raw_seen, dict) else {}
        if trigger.action is not Action.NONE:
            # Fired before, and its action did not happen: do it now, fire nothing.
            leftover = [k for k, tag in seen.items() if k in current and _etag(current[k]) == tag]
            s3.act(client, bucket, leftover, trigger.action, move)
            for key in leftover:
                del current[key]
        on = OnEvent(trigger.on)
        new: list[dict[str, Any]] = []
        for key, item in sorted(current.items()):
            before = seen.get(key)
            if (before is None and on is not OnEvent.UPDATE) or (
                before is not None and before != _etag(item) and on is not OnEvent.CREATE
            ):
                new.append(item)
        most = s3.integer(render, trigger.maxFiles, "maxFiles", 1, 1_000_000)
        warnings = []
        if len(new) > most:
            # The rest are new at the next evaluation (they are not in `seen`).
            warnings.append(
                f"trigger {'.'.join(context.key)}: {len(new)} new objects, the first"
                f" {most} fired (maxFiles)"
            )
            deferred = {str(item["Key"]) for item in new[most:]}
            new = new[:most]
        else:
            deferred = set()
        if trigger.action is Action.NONE:
            # Every listed object as it is now, so that UPDATE sees the next change; but
            # not those left for the next evaluation (they are still new then).
            kept = {k: _etag(item) for k, item in current.items() if k not in deferred}
        else:
            # Only what fired, as it fired: an object in `seen` with that ETag gets its
            # action at the next evaluation (never a version that did not fire).
            kept = {k: seen[k] for k in current if k in seen}
            kept.update({str(item["Key"]): _etag(item) for item in new})
        if not new:
            return Poll(data={"seen": kept}, warnings=warnings)
        fact = "\n".join(f"{item['Key']}\x1f{_etag(item)}" for item in new)
        new_id = execution_id(fact)
        objects = []
        for item in new:
            key = str(item["Key"])
            uri = trigger_file_uri(flow.namespace, flow.id, new_id, trigger.id, key)
            answer = client.get_object(Bucket=bucket, Key=key)
            body = answer["Body"]
            try:
                self.storage.put(storage_path(uri), body)
            finally:
                body.close()
            objects.append(s3.s3_object(item, uri))
        keys = [str(o["key"]) for o in objects]
        action = trigger.action

        def after_commit() -> None:
            s3.act(client, bucket, keys, action, move)

        return Poll(
            variables={"objects": objects},
            data={"seen": kept},
            after_commit=None if action is Action.NONE else after_commit,
            warnings=warnings,
        )


def _etag(item: dict[str, Any]) -> str:
    return str(item.get("ETag") or "")
