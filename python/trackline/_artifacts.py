"""``trackline.Artifact`` (W&B's ``wandb.Artifact``) and the run verbs that log and use artifacts.

An artifact is a named, typed, versioned set of files stored once by content (docs/format.md,
"Artifacts"). Building one: ``add_file``, ``add_dir``, ``add_reference``, ``new_file``, ``add``
(media, tables), ``remove``. In offline mode a file added while the store is known (an active
local run, or no run and no ``TRACKLINE_URL``) is snapshotted into the blob store's temp files at
once (W&B's "mutable" copy, made by the kernel) and hashed by the artifact worker
(_artifact_worker.py); otherwise it is hashed at once and stored when logged. Logging
(:func:`log_artifact`) to the local store (_artifact_store.py) hands the commit to the worker and
returns (``wait()`` waits); for an online run it uploads and commits through the daemon
(_artifact_remote.py). Both reuse a version with the same content. Reading (:func:`use_artifact`,
``download``) works offline too.
"""

import contextlib
import datetime
import json
import os
import shutil
import time

from . import _artifact_store as store_mod
from . import _artifact_worker
from ._artifact_store import (
    LATEST, REFERENCE_SCHEMES, Store, check_entry_path, check_name, check_type, hash_file,
    manifest_digest, metric_value, safe_join, split_ref, user_aliases,
)
from ._errors import CommError, UsageError, warn

#: Metadata keys at most (W&B's documented limit).
MAX_METADATA_KEYS = 100
PENDING, COMMITTED, DELETED = "PENDING", "COMMITTED", "DELETED"


class ArtifactManifestEntry:
    """One file of an artifact: ``path`` inside it, ``digest`` (SHA-256 hex, or a reference's
    URI), ``size``, ``ref`` (the URI of a reference) and ``extra``."""

    def __init__(self, path, digest, size=None, ref=None, extra=None, local_path=None,
                 link=False, staged=None, hashed=None):
        self.path = path
        self._digest = digest
        self.size = size
        self.ref = ref
        self.extra = dict(extra or {})
        self.local_path = local_path
        self._link = link
        self._artifact = None
        self._staged = staged  # its snapshot in the blob store until its version is committed
        self._hashed = hashed  # the worker's Future of the snapshot's digest, until read

    @property
    def digest(self):
        """SHA-256 hex of the file (waits for the worker when it is still hashing the file's
        snapshot), or a reference's URI."""
        if self._digest is None and self._hashed is not None:
            self._hashed.result()
            self._digest, self.size = self._staged.digest, self._staged.size
            self._hashed = None
        return self._digest

    @digest.setter
    def digest(self, value):
        self._digest = value
        self._hashed = None

    @property
    def name(self):
        return self.path

    def as_json(self):
        out = {"digest": self.digest}
        if self.size is not None:
            out["size"] = self.size
        if self.ref is not None:
            out["ref"] = self.ref
        if self.extra:
            out["extra"] = self.extra
        return out

    def ref_target(self):
        return self.ref if self.ref is not None else self.local_path

    def download(self, root=None, skip_cache=None):
        """Write this file under ``root`` (default: the artifact's download folder); its path."""
        artifact = self._artifact
        if artifact is None or artifact.version is None:
            raise UsageError("only a file of a logged artifact can be downloaded")
        root = os.path.abspath(os.fspath(root)) if root is not None else artifact._default_root()
        return artifact._download_entry(self, root)

    def __eq__(self, other):
        return isinstance(other, ArtifactManifestEntry) and self.as_json() == other.as_json() \
            and self.path == other.path

    def __repr__(self):
        return "ArtifactManifestEntry(path=%r, digest=%r, size=%r)" % (
            self.path, self.digest, self.size)


class Artifact:
    """A named, typed, versioned set of files: ``Artifact(name, type, description=None,
    metadata=None, incremental=False, use_as=None)``."""

    def __init__(self, name, type, description=None, metadata=None, incremental=False,
                 use_as=None, storage_region=None):
        self._base_name = check_name(name)
        self._type = check_type(type)
        self._description = None if description is None else str(description)
        self._metadata = _check_metadata(metadata)
        self._incremental = bool(incremental)
        self._entries = {}
        self._removed = set()
        self._version = None
        self._project = None
        self._store = None
        self._doc = None
        self._aliases = []
        self._saved_aliases = []
        self._ttl = None
        self._state = PENDING
        self._staging = None
        self._linked_from = None
        self._tags = []
        self._logging = None  # the worker's Future while a local store commits this version

    def _await(self):
        """Wait until the version being logged is committed (raises what the commit raised)."""
        logging = self._logging
        if logging is not None:
            logging.result()
            self._logging = None

    # -- identity ----------------------------------------------------------------------------------
    @property
    def name(self):
        """``name`` before logging, ``name:v<N>`` once logged."""
        self._await()
        if self._version is None:
            return self._base_name
        return "%s:v%d" % (self._base_name, self._version)

    @property
    def source_name(self):
        return self.name

    @property
    def collection_name(self):
        return self._base_name

    @property
    def version(self):
        self._await()
        if self._version is None:
            raise UsageError("artifact %r has no version until it is logged" % self._base_name)
        return "v%d" % self._version

    @property
    def source_version(self):
        return self.version

    @property
    def type(self):
        return self._type

    @property
    def project(self):
        self._await()
        return self._project

    @property
    def source_project(self):
        return self._project

    @property
    def entity(self):
        return "local"

    @property
    def source_entity(self):
        return "local"

    @property
    def qualified_name(self):
        return "local/%s/%s" % (self._project or "", self.name)

    @property
    def source_qualified_name(self):
        return self.qualified_name

    @property
    def id(self):
        """The version's content digest once logged (None before)."""
        self._await()
        return self._doc.get("digest") if self._doc else None

    @property
    def state(self):
        self._await()
        return self._state

    @property
    def description(self):
        return self._description

    @description.setter
    def description(self, value):
        self._description = None if value is None else str(value)

    @property
    def metadata(self):
        return self._metadata

    @metadata.setter
    def metadata(self, value):
        self._metadata = _check_metadata(value)

    @property
    def tags(self):
        return list(self._tags)

    @tags.setter
    def tags(self, value):
        self._tags = [str(t) for t in (value or [])]

    @property
    def aliases(self):
        """The aliases of this version (``latest`` included when it is); settable, applied by
        ``save()``."""
        self._await()
        return list(self._aliases)

    @aliases.setter
    def aliases(self, value):
        value = [value] if isinstance(value, str) else list(value or [])
        user_aliases(value)
        self._aliases = value

    @property
    def ttl(self):
        return None if self._ttl is None else datetime.timedelta(seconds=self._ttl)

    @ttl.setter
    def ttl(self, value):
        if value is None or getattr(value, "name", None) == "INHERIT":
            self._ttl = None
            return
        seconds = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
        if not seconds > 0:
            raise ValueError("Artifact TTL Duration has to be positive.")
        self._ttl = seconds

    @property
    def incremental(self):
        return self._incremental

    @property
    def use_as(self):
        return None

    @property
    def created_at(self):
        self._await()
        return self._doc.get("created_at") if self._doc else None

    @property
    def updated_at(self):
        return self.created_at

    @property
    def run_id(self):
        self._await()
        return self._doc.get("run") if self._doc else None

    @property
    def step(self):
        self._await()
        return self._doc.get("step") if self._doc else None

    @property
    def linked_from(self):
        return self._linked_from

    # -- content ---------------------------------------------------------------------------------
    @property
    def manifest(self):
        """W&B's manifest v1 (``{"version", "storagePolicy", "storagePolicyConfig",
        "contents"}``), digests in SHA-256."""
        return store_mod.empty_manifest(self._contents())

    @property
    def digest(self):
        return manifest_digest(self._contents())

    @property
    def size(self):
        return sum(e.size or 0 for e in self._all_entries().values())

    @property
    def file_count(self):
        return len(self._all_entries())

    def _all_entries(self):
        self._await()
        return dict(sorted(self._entries.items()))

    def _contents(self):
        return {p: e.as_json() for p, e in sorted(self._entries.items())}

    def _check_mutable(self):
        if self._state != PENDING or self._logging is not None:
            raise UsageError("artifact %s is logged and cannot change; make a new Artifact"
                             % self._base_name)

    def add_file(self, local_path, name=None, is_tmp=False, skip_cache=False, policy="mutable",
                 overwrite=False):
        """Add the file at ``local_path`` as ``name`` (default: its base name); returns its
        :class:`ArtifactManifestEntry`. ``policy="immutable"`` promises the file will not change
        (it is hard-linked into the store instead of copied)."""
        self._check_mutable()
        local_path = os.fspath(local_path)
        if not os.path.isfile(local_path):
            raise ValueError("Path is not a file: %r" % (local_path,))
        if policy not in ("mutable", "immutable"):
            raise ValueError("Invalid policy %r: use 'mutable' or 'immutable'" % (policy,))
        path = check_entry_path(_entry_name(name if name is not None
                                            else os.path.basename(local_path)))
        entry = self._ingest(local_path, path, link=policy == "immutable")
        if is_tmp:  # W&B: the name's stem becomes the content's digest, so names never collide
            folder, _, base = path.rpartition("/")
            parts = base.split(".")
            parts[0] = entry.digest[:20]
            entry.path = (folder + "/" if folder else "") + ".".join(parts)
        return self._put(entry, overwrite)

    def add_dir(self, local_path, name=None, skip_cache=False, policy="mutable", merge=False):
        """Add every file under the folder ``local_path``, under ``name/`` when given."""
        self._check_mutable()
        local_path = os.fspath(local_path)
        if not os.path.isdir(local_path):
            raise ValueError("Path is not a directory: %r" % (local_path,))
        if policy not in ("mutable", "immutable"):
            raise ValueError("Invalid policy %r: use 'mutable' or 'immutable'" % (policy,))
        prefix = _entry_name(name).strip("/") if name else ""
        jobs = []
        for folder, dirs, files in os.walk(local_path):
            dirs.sort()
            for file_name in sorted(files):
                full = os.path.join(folder, file_name)
                if not os.path.isfile(full):
                    continue
                rel = os.path.relpath(full, local_path).replace(os.sep, "/")
                jobs.append((full, check_entry_path(prefix + "/" + rel if prefix else rel)))
        link = policy == "immutable"
        store = _add_time_store()
        if store is not None:  # snapshots now, hashed by the worker, stored when logged
            staged = store.stage_files([full for full, _ in jobs], link=link)
            hashed = _hash_later(staged)
            entries = [ArtifactManifestEntry(path, item.digest, item.size,
                                             local_path=os.path.abspath(full), link=link,
                                             staged=item, hashed=hashed)
                       for (full, path), item in zip(jobs, staged)]
        else:  # hashed now, stored when logged
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=2) as pool:
                stored = list(pool.map(lambda job: hash_file(job[0]), jobs))
            entries = [ArtifactManifestEntry(path, digest, size,
                                             local_path=os.path.abspath(full), link=link)
                       for (full, path), (digest, size) in zip(jobs, stored)]
        for entry in entries:
            old = self._entries.get(entry.path)
            if old is not None and old.digest != entry.digest and not merge:
                raise ValueError("file %r is already in the artifact with other content (use "
                                 "merge=True to replace it)" % entry.path)
            self._put(entry, overwrite=True)

    def add_reference(self, uri, name=None, checksum=True, max_objects=None):
        """Add a reference: ``file://`` (SHA-256 of the file when ``checksum``; a folder adds each
        of its files) or ``http(s)://`` (the digest is the URI; never fetched)."""
        self._check_mutable()
        uri = str(getattr(uri, "uri", uri))
        if not uri.startswith(REFERENCE_SCHEMES):
            raise ValueError("add_reference(%r): only file://, http:// and https:// references "
                             "are supported" % (uri,))
        added = []
        if uri.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            local = unquote(urlsplit(uri).path)
            if os.path.isdir(local):
                base = _entry_name(name).strip("/") if name else ""
                for folder, dirs, files in os.walk(local):
                    dirs.sort()
                    for file_name in sorted(files):
                        full = os.path.join(folder, file_name)
                        rel = os.path.relpath(full, local).replace(os.sep, "/")
                        path = check_entry_path(base + "/" + rel if base else rel)
                        added.append(self._reference_file(full, path, checksum))
                        if max_objects is not None and len(added) >= max_objects:
                            break
            elif os.path.isfile(local) or not checksum:
                path = check_entry_path(_entry_name(name or os.path.basename(local) or "file"))
                added.append(self._reference_file(local, path, checksum))
            else:
                raise ValueError("add_reference(%r): no such file or folder" % (uri,))
        else:
            from urllib.parse import unquote, urlsplit

            default = os.path.basename(unquote(urlsplit(uri).path).rstrip("/")) or "index"
            path = check_entry_path(_entry_name(name or default))
            added.append(ArtifactManifestEntry(path, uri, None, ref=uri))
        return [self._put(e, overwrite=True) for e in added]

    def _reference_file(self, local, path, checksum):
        uri = "file://" + os.path.abspath(local)
        if checksum:
            digest, size = hash_file(local)
            return ArtifactManifestEntry(path, digest, size, ref=uri)
        size = os.path.getsize(local) if os.path.isfile(local) else None
        return ArtifactManifestEntry(path, uri, size, ref=uri)

    @contextlib.contextmanager
    def new_file(self, name, mode="x", encoding=None, policy="mutable"):
        """Open a new file ``name`` of the artifact for writing (``mode`` ``"x"``, ``"w"``,
        ``"xb"``, ``"wb"``); it is added when the block ends."""
        self._check_mutable()
        path = check_entry_path(_entry_name(name))
        if "r" in mode or "+" in mode:
            raise ValueError("new_file(mode=%r): use a write mode ('x', 'w', 'xb', 'wb')" % mode)
        overwrite = "x" not in mode  # W&B: "w" and "a" may replace a file added before
        if path in self._entries and not overwrite:
            raise ValueError("File with name %r already exists at %s" % (path, path))
        local = os.path.join(self._staging_dir(), *path.split("/"))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        if os.path.lexists(local):
            # The file may be hard-linked into the blob store: write a new inode, never that one.
            fresh = local + ".tmp-" + os.urandom(4).hex()
            if "a" in mode:
                shutil.copyfile(local, fresh)
                os.replace(fresh, local)
            else:
                os.unlink(local)
        kwargs = {} if "b" in mode else {"encoding": encoding or "utf-8"}
        with open(local, mode, **kwargs) as f:
            yield f
        self._put(self._ingest(local, path, link=True), overwrite=overwrite)

    def add(self, obj, name, overwrite=False):
        """Add a Trackline media value or Table as ``<name>.<type>.json`` (plus its media
        files), as W&B does; returns the entry of the JSON file."""
        self._check_mutable()
        from ._media import MediaWriter

        staging = self._staging_dir()
        folder = os.path.join(staging, "add-" + os.urandom(4).hex())
        writer = MediaWriter(folder)
        kind, body = _serialise(obj, writer, name)
        json_name = check_entry_path(_entry_name("%s.%s.json" % (name, kind)))
        json_path = os.path.join(folder, *json_name.split("/"))
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "wb") as f:
            f.write(body)
        entry = None
        for sub, dirs, files in os.walk(folder):
            for file_name in sorted(files):
                full = os.path.join(sub, file_name)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                added = self._put(self._ingest(full, check_entry_path(rel), link=True),
                                  overwrite=True if rel != json_name else overwrite)
                if rel == json_name:
                    entry = added
        return entry

    def remove(self, item):
        """Remove a file (its path or entry) or every file under a folder path."""
        self._check_mutable()
        path = item.path if isinstance(item, ArtifactManifestEntry) else str(item).strip("/")
        if path in self._entries:
            _drop_snapshot(self._entries.pop(path))
            self._removed.add(path)
            return
        under = [p for p in self._entries if p.startswith(path + "/")]
        if not under:
            raise FileNotFoundError("Cannot remove missing entry: %r" % path)
        for p in under:
            _drop_snapshot(self._entries.pop(p))
            self._removed.add(p)

    def get_entry(self, name):
        self._await()
        entry = self._entries.get(str(name))
        if entry is None:
            raise KeyError("Path not contained in artifact: %s" % name)
        return entry

    def get_path(self, name):
        return self.get_entry(name)

    def get(self, name):
        """The Table (or media value) added with ``add(obj, name)``, read back."""
        for path, entry in self._all_entries().items():
            if path.startswith(name + ".") and path.endswith(".json") \
                    and path[len(name) + 1:-5].count(".") == 0:
                return _deserialise(self, entry, path[len(name) + 1:-5])
        return None

    def files(self, names=None, per_page=50):
        """The entries of the version, in path order (``names`` filters them)."""
        entries = list(self._all_entries().values())
        if names is not None:
            wanted = set(names)
            entries = [e for e in entries if e.path in wanted]
        return entries

    # -- ingesting -------------------------------------------------------------------------------
    def _ingest(self, local_path, path, link):
        """The entry of a file added as ``path``: with a known local store, a snapshot in it
        that the worker hashes (the caller pays about a copy, or a hard link when ``link``);
        else hashed now and stored when logged."""
        store = _add_time_store()
        local_path = os.path.abspath(local_path)
        if store is None:
            digest, size = hash_file(local_path)
            return ArtifactManifestEntry(path, digest, size, local_path=local_path, link=link)
        staged = store.stage_file(local_path, link=link)
        return ArtifactManifestEntry(path, staged.digest, staged.size, local_path=local_path,
                                     link=link, staged=staged, hashed=_hash_later([staged]))

    def _put(self, entry, overwrite):
        old = self._entries.get(entry.path)
        if old is not None and not overwrite and old.digest != entry.digest:
            raise ValueError("File with name %r already exists at %s: use overwrite=True"
                             % (entry.path, old.local_path or old.ref))
        entry._artifact = self
        self._entries[entry.path] = entry
        self._removed.discard(entry.path)
        if old is not None and old is not entry:
            _drop_snapshot(old)
        return entry

    def _staging_dir(self):
        if self._staging is None:
            store = _add_time_store()
            if store is not None:
                top = os.path.join(store.root, ".trackline", "staging")
                os.makedirs(top, exist_ok=True)
                import tempfile

                self._staging = tempfile.mkdtemp(prefix="artifact-", dir=top)
            else:
                import tempfile

                self._staging = tempfile.mkdtemp(prefix="trackline-artifact-")
        return self._staging

    def _drop_staging(self):
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    # -- after logging ---------------------------------------------------------------------------
    def _bind(self, store, project, doc, aliases=None):
        """Become version ``doc`` of ``project`` read from ``store``."""
        self._store = store
        self._project = project
        self._doc = doc
        self._version = doc["version"]
        self._base_name = doc.get("name") or self._base_name
        self._type = doc.get("type") or self._type
        self._description = doc.get("description")
        self._metadata = dict(doc.get("metadata") or {})
        self._ttl = doc.get("ttl_secs")
        self._linked_from = doc.get("linked_from")
        self._state = COMMITTED
        self._entries = {}
        self._removed = set()
        for path, raw in sorted(((doc.get("manifest") or {}).get("contents") or {}).items()):
            entry = ArtifactManifestEntry(path, raw.get("digest"), raw.get("size"),
                                          ref=raw.get("ref"), extra=raw.get("extra"))
            entry._artifact = self
            self._entries[path] = entry
        if aliases is None:
            aliases = store.aliases_of(project, self._base_name, self._version) \
                if hasattr(store, "aliases_of") else _local_aliases_of(store, project,
                                                                      self._base_name,
                                                                      self._version)
        self._aliases = list(aliases)
        self._saved_aliases = list(self._aliases)
        return self

    def _require_logged(self, what):
        self._await()
        if self._version is None:
            raise UsageError("%s() needs a logged artifact: log it with run.log_artifact() "
                             "first" % what)

    def wait(self, timeout=None):
        """Wait until the logged version is committed (its files hashed, durable and named by
        the version); returns the artifact. Raises what the commit raised, or TimeoutError
        after ``timeout`` seconds."""
        logging = self._logging
        if logging is not None:
            from concurrent.futures import TimeoutError as FutureTimeout

            try:
                logging.result(timeout=timeout)
            except FutureTimeout:
                raise TimeoutError("artifact %s is not committed after %s s"
                                   % (self._base_name, timeout)) from None
            self._logging = None
        return self

    def is_draft(self):
        self._await()
        return self._state == PENDING

    def save(self, project=None, settings=None):
        """Log the artifact (with the active run if any), or, once logged, apply changed
        aliases."""
        self._await()
        if self._version is None:
            import trackline

            run = trackline.run
            if run is not None and not getattr(run, "disabled", False) and project is None:
                run.log_artifact(self)
            else:
                log_artifact(None, self, project=project)
            return
        wanted = user_aliases([a for a in self._aliases if a != LATEST])
        had = [a for a in self._saved_aliases if a != LATEST]
        added = [a for a in wanted if a not in had]
        removed = [a for a in had if a not in wanted]
        self._store.set_aliases(self._project, self._base_name, added, self._version)
        self._store.set_aliases(self._project, self._base_name, removed, None)
        self._saved_aliases = list(self._aliases)

    def delete(self, delete_aliases=False):
        """Delete this version (its tombstone keeps its number); refused while user aliases
        point at it unless ``delete_aliases``."""
        self._require_logged("delete")
        mine = [a for a in _store_aliases(self._store, self._project, self._base_name,
                                          self._version) if a not in (LATEST, "best")]
        if mine and not delete_aliases:
            raise CommError("artifact %s has aliases %s: use delete(delete_aliases=True)"
                            % (self.name, ", ".join(mine)))
        self._store.delete_version(self._project, self._base_name, self._version,
                                   force=bool(delete_aliases))
        if mine and not self._store.remote:
            self._store.set_aliases(self._project, self._base_name, mine, None)
        self._state = DELETED

    def link(self, target_path, aliases=None):
        """Link this version into ``target_path`` (``"wandb-registry-model/name"``,
        ``"project/name"`` or ``"name"``); returns the linked version."""
        self._require_logged("link")
        return link_version(self, target_path, aliases)

    def unlink(self):
        if not self._linked_from:
            raise UsageError("artifact %s is not a linked version" % self.name)
        self.delete(delete_aliases=True)

    def used_by(self):
        """The runs that used this version (public-API runs)."""
        self._require_logged("used_by")
        return _api_runs(self._store, self._store.used_by(self._project, self._base_name,
                                                          self._doc))

    def logged_by(self):
        """The run that logged this version, or None."""
        self._require_logged("logged_by")
        found = self._store.logged_by(self._project, self._base_name, self._doc)
        runs = _api_runs(self._store, [found] if found else [])
        return runs[0] if runs else None

    def new_draft(self):
        """A new pending artifact with this version's files, to log as the next version."""
        self._require_logged("new_draft")
        draft = Artifact(self._base_name, self._type, self._description, dict(self._metadata))
        for path, entry in self._entries.items():
            copy = ArtifactManifestEntry(path, entry.digest, entry.size, entry.ref, entry.extra)
            copy._artifact = draft
            draft._entries[path] = copy
        draft._project = self._project
        return draft

    # -- downloading -----------------------------------------------------------------------------
    def _default_root(self):
        from . import _env

        top = _env.artifact_dir()
        top = top or os.path.join(".", "artifacts")
        return os.path.abspath(os.path.join(top, self.name))

    def download(self, root=None, allow_missing_references=False, skip_cache=None,
                 path_prefix=None, multipart=None):
        """Write the version's files under ``root`` (default ``./artifacts/<name>:v<N>``, or
        ``$WANDB_ARTIFACT_DIR``/``$TRACKLINE_ARTIFACT_DIR`` instead of ``./artifacts``);
        returns ``root``."""
        self._require_logged("download")
        root = os.path.abspath(os.fspath(root)) if root is not None else self._default_root()
        os.makedirs(root, exist_ok=True)
        for path, entry in self._all_entries().items():
            if path_prefix and not path.startswith(path_prefix):
                continue
            try:
                self._download_entry(entry, root)
            except (OSError, CommError):
                if entry.ref is not None and allow_missing_references:
                    continue
                raise
        return root

    def _download_entry(self, entry, root):
        dest = safe_join(root, entry.path)
        if entry.ref is not None:
            return _download_reference(entry, dest)
        with self._store.open_blob(self._project, self._base_name, self._version, entry.path,
                                   entry.as_json()) as source:
            store_mod.materialize(source, dest, entry.digest)
        return dest

    def checkout(self, root=None):
        """Make ``root`` hold exactly this version's files (others are removed); returns it."""
        self._require_logged("checkout")
        root = os.path.abspath(os.fspath(root)) if root is not None else self._default_root()
        wanted = set(self._all_entries())
        if os.path.isdir(root):
            for folder, dirs, files in os.walk(root, topdown=False):
                for file_name in files:
                    full = os.path.join(folder, file_name)
                    rel = os.path.relpath(full, root).replace(os.sep, "/")
                    if rel not in wanted:
                        os.unlink(full)
                if folder != root and not os.listdir(folder):
                    os.rmdir(folder)
        return self.download(root)

    def verify(self, root=None):
        """Raise ValueError unless ``root`` holds exactly this version's files, unchanged."""
        self._require_logged("verify")
        root = os.path.abspath(os.fspath(root)) if root is not None else self._default_root()
        entries = self._all_entries()
        seen = set()
        for folder, dirs, files in os.walk(root):
            for file_name in files:
                full = os.path.join(folder, file_name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                seen.add(rel)
                entry = entries.get(rel)
                if entry is None:
                    raise ValueError("Found file %s which is not a member of artifact %s"
                                     % (full, self.name))
                if entry.ref is not None and entry.digest == entry.ref:
                    continue
                if hash_file(full)[0] != entry.digest:
                    raise ValueError("Digest mismatch for file: %s" % full)
        for path, entry in entries.items():
            if path not in seen and entry.ref is None:
                raise ValueError("Missing file %s of artifact %s under %s"
                                 % (path, self.name, root))

    def file(self, root=None):
        """Download a one-file version; returns the file's path."""
        self._require_logged("file")
        entries = self._all_entries()
        if len(entries) != 1:
            raise ValueError("This artifact contains more than one file, call `.download()` "
                             "to get all files or call .get_entry(\"filename\").download()")
        root = os.path.abspath(os.fspath(root)) if root is not None else self._default_root()
        return self._download_entry(next(iter(entries.values())), root)

    def json_encode(self):
        return {"_type": "artifactVersion", "name": self.name, "project": self._project}

    def __repr__(self):
        return "<Artifact %s (%s)>" % (self.name, self._type)


# -- run verbs ----------------------------------------------------------------------------------------
def store_for_run(run):
    """The store a run writes to: the daemon's when it streams to one, else its data root's."""
    uploader = getattr(getattr(run, "_extras", None), "uploader", None) if run else None
    if uploader is not None:
        from ._artifact_remote import RemoteStore

        return RemoteStore(uploader.url, uploader._api_key, local=Store.of(run._data_root))
    if run is not None:
        return Store.of(run._data_root)
    return _default_store()


def _default_store():
    from . import _env
    from ._names import resolve_root

    url = _env.get(_env.URL)
    mode = (_env.mode()[1] or "").strip().lower()
    if url and mode not in ("offline", "dryrun", "disabled"):
        from ._artifact_remote import RemoteStore

        return RemoteStore(url, _env.get(_env.API_KEY), local=Store.of(resolve_root()))
    return Store.of(resolve_root())


def _add_time_store():
    """The local store files go into when added, or None (remote mode: hashed only)."""
    import trackline

    from . import _env

    run = trackline.run
    if run is not None:
        if getattr(run, "disabled", False) or getattr(run, "mode", "offline") == "online":
            return None
        return Store.of(run._data_root)
    if (_env.mode()[1] or "").strip().lower() == "disabled":
        return None
    store = _default_store()
    return None if store.remote else store


def log_artifact(run, artifact_or_path, name=None, type=None, aliases=None, tags=None,
                 project=None, linked_from=None, direction="output"):
    """Log an artifact (or a path: ``run-<runid>-<basename>``, type ``unspecified``) as the
    next version of its name; returns the Artifact, now ``name:v<N>``."""
    if isinstance(artifact_or_path, Artifact):
        artifact = artifact_or_path
        artifact._await()
        if name is not None and name != artifact._base_name:
            artifact._base_name = check_name(name)
        if type is not None and artifact._version is None:
            artifact._type = check_type(type)
    else:
        artifact = artifact_from_path(run, artifact_or_path, name, type)
    given = user_aliases(aliases if aliases is not None else artifact._aliases)
    if tags is not None:
        artifact.tags = tags
    if artifact._version is not None:  # logged before: a new use of the same version
        artifact._store.set_aliases(artifact._project, artifact._base_name, given,
                                    artifact._version)
        _append_lineage(run, artifact, direction)
        return artifact
    if artifact._logging is not None:
        raise UsageError("artifact %s is being logged already" % artifact._base_name)
    store = store_for_run(run)
    project = project or (run.project if run is not None else _default_project())
    step = run._step if run is not None else None
    if store.remote:
        doc = _version_doc(run, artifact, linked_from)
        try:
            saved, reused = _commit(store, project, artifact, doc, given)
        except CommError as exc:
            warn("could not log artifact %s to %s (%s); it is written to the local store %s"
                 % (artifact._base_name, store.url, exc, store.local.root), 3)
            store = store.local
            saved, reused = _commit(store, project, artifact, doc, given)
        _committed(run, store, project, artifact, saved, direction, step)
        return artifact
    # A local store: the worker hashes the snapshots and commits, after the versions logged
    # before; the caller has paid for the snapshots only (W&B logs in the background too).
    doc = _version_doc(run, artifact, linked_from, with_contents=False)
    artifact._logging = _artifact_worker.submit(_commit_later, run, store, project, artifact,
                                                doc, given, direction, step)
    if run is not None:
        jobs = getattr(run, "_artifact_jobs", None)
        if jobs is None:
            jobs = run._artifact_jobs = []
        jobs.append((artifact._base_name, artifact._logging))
    return artifact


def _commit_later(run, store, project, artifact, doc, aliases, direction, step):
    """The worker's half of logging to a local store: the version, then the run's lineage."""
    doc = _with_contents(doc, artifact._contents())
    saved, _ = _commit(store, project, artifact, doc, aliases)
    _committed(run, store, project, artifact, saved, direction, step)


def _committed(run, store, project, artifact, saved, direction, step):
    artifact._drop_staging()
    artifact._bind(store, project, saved)
    _append_lineage(run, artifact, direction, step)


def wait_for_run(run):
    """Wait for every artifact ``run`` logged to be committed (``finish()``); warns of those
    that failed, which ``Artifact.wait()`` raises."""
    jobs = getattr(run, "_artifact_jobs", None)
    if not jobs:
        return
    run._artifact_jobs = []
    for name, job in jobs:
        try:
            job.result()
        except Exception as exc:
            warn("artifact %s was not logged: %s" % (name, exc), 3)


def _commit(store, project, artifact, doc, aliases):
    if store.remote:
        return store.commit_artifact(project, artifact, doc, aliases)
    if artifact._incremental:
        doc = _apply_incremental(store, project, artifact, doc)
    _store_blobs(store, artifact)
    return store.commit(project, artifact._base_name, doc, aliases)


def _hash_later(staged):
    """The worker's Future of hashing the snapshots ``staged`` (None when all are known)."""
    todo = [item for item in staged if item.digest is None]
    if not todo:
        return None
    return _artifact_worker.submit(_hash_all, todo)


def _drop_snapshot(entry):
    """Let go of the snapshot of an entry that left its artifact before it was logged."""
    if entry._staged is None:
        return
    entry.digest  # noqa: B018 (the worker may be hashing it: wait, then drop it)
    staged, entry._staged = entry._staged, None
    if staged.tmp is not None:
        store_mod._unlink_quietly(staged.tmp)
        staged.tmp = None
    if staged.pack is not None:
        staged.pack, pack = None, staged.pack
        pack.release()


def _hash_all(staged):
    for item in staged:
        item.hash()


def _store_blobs(store, artifact):
    """Settle the artifact's snapshots as blobs, then put every other file the store lacks into
    it (from its source file)."""
    entries = list(artifact._entries.values())
    staged = [e._staged for e in entries if e._staged is not None]
    for entry in entries:
        entry.digest  # noqa: B018 (reads a digest the worker may still be making)
    store.settle_staged(staged)
    for entry in entries:
        entry._staged = None
    missing = [e for e in entries if e.ref is None and not store.has_blob(e.digest)]
    for entry in missing:
        if not entry.local_path or not os.path.isfile(entry.local_path):
            raise CommError("the file %s of artifact %s is not stored and its source %r is "
                            "gone" % (entry.path, artifact._base_name, entry.local_path))
    store.put_files([(e.local_path, e._link, e.digest) for e in missing])


def _apply_incremental(store, project, artifact, doc):
    """An incremental artifact starts from the latest version's files."""
    try:
        base = store.resolve(project, artifact._base_name, LATEST)
    except CommError:
        return doc
    contents = dict((base.get("manifest") or {}).get("contents") or {})
    for path in artifact._removed:
        contents.pop(path, None)
    contents.update(artifact._contents())
    return _with_contents(doc, contents)


def _with_contents(doc, contents):
    contents = dict(sorted(contents.items()))
    doc = dict(doc)
    doc["manifest"] = store_mod.empty_manifest(contents)
    doc["digest"] = manifest_digest(contents)
    doc["size"] = sum(e.get("size") or 0 for e in contents.values())
    doc["file_count"] = len(contents)
    return doc


def _version_doc(run, artifact, linked_from, with_contents=True):
    """The version document of ``artifact`` logged by ``run`` now; its files are filled in
    later when not ``with_contents`` (their digests may still be in the making)."""
    step, metrics = (None, []) if run is None else run_goal_metrics(run)
    contents = artifact._contents() if with_contents else {}
    doc = {
        "format": 1, "name": artifact._base_name, "type": artifact._type,
        "description": artifact._description, "metadata": _check_metadata(artifact._metadata),
        "digest": None, "size": 0, "file_count": 0, "created_at": time.time(),
        "run": run.id if run is not None else None, "step": step, "metrics": metrics,
        "ttl_secs": artifact._ttl, "linked_from": linked_from, "manifest": None,
    }
    return _with_contents(doc, contents)


def run_goal_metrics(run):
    """``(step, metrics)`` of a run now: its step and, for each metric it gave a goal with
    ``define_metric``, in definition order, its summary value."""
    metrics = []
    defined = getattr(run, "_metrics", None)
    with run._lock:
        step = run._step
        summary = dict(run.summary._data)
        exact = list(defined._exact.values()) if defined is not None else []
    for metric in exact:
        if metric.goal not in ("minimize", "maximize"):
            continue
        value = summary.get(metric.name)
        if isinstance(value, dict):
            key = "min" if metric.goal == "minimize" else "max"
            value = next((value[k] for k in ("last", "best", key, "mean") if k in value), None)
        metrics.append({"name": metric.name, "value": metric_value(value), "goal": metric.goal})
    return step, metrics


def artifact_from_path(run, path, name=None, type=None):
    path = os.fspath(path)
    if "://" in path:
        artifact = Artifact(name or _path_name(run, path.rstrip("/").rsplit("/", 1)[-1]),
                            type or "unspecified")
        artifact.add_reference(path)
        return artifact
    if not os.path.exists(path):
        raise ValueError("path %r does not exist" % (path,))
    artifact = Artifact(name or _path_name(run, os.path.basename(os.path.abspath(path))),
                        type or "unspecified")
    if os.path.isdir(path):
        artifact.add_dir(path)
    else:
        artifact.add_file(path)
    return artifact


def _path_name(run, base):
    run_id = run.id if run is not None else "local"
    return "run-%s-%s" % (run_id, base)


def _append_lineage(run, artifact, direction, step=None):
    if run is None:
        return
    doc = artifact._doc
    line = {"direction": direction, "project": artifact._project, "name": artifact._base_name,
            "version": artifact._version, "digest": doc.get("digest"), "type": artifact._type,
            "step": run._step if step is None else step, "at": time.time()}
    try:
        store_mod.append_lineage(run.dir, line)
    except OSError as exc:
        warn("cannot write %s of run %s (%s)" % (store_mod.LINEAGE_FILE, run.id, exc), 3)


def use_artifact(run, artifact_or_name, type=None, aliases=None, use_as=None):
    """The version ``"name"``, ``"name:v<N>"``, ``"name:alias"`` or ``"project/name:alias"``
    names (or an Artifact), recorded as an input of the run; works offline."""
    if isinstance(artifact_or_name, Artifact):
        artifact = artifact_or_name
        artifact._await()
        if artifact._version is None:  # a local artifact the run uses: log it without producer
            log_artifact(None, artifact, project=run.project if run is not None else None)
            artifact._await()  # the lineage line below names the committed version
    else:
        default_project = run.project if run is not None else _default_project()
        project, name, ref = split_ref(str(artifact_or_name), default_project)
        store = store_for_run(run)
        artifact = fetch(store, project, name, ref)
    if type is not None and artifact.type != type:
        raise ValueError("Supplied type %s does not match type %s of artifact %s"
                         % (type, artifact.type, artifact.name))
    given = user_aliases(aliases)
    if given:
        artifact._store.set_aliases(artifact._project, artifact._base_name, given,
                                    artifact._version)
        artifact._aliases = _store_aliases(artifact._store, artifact._project,
                                           artifact._base_name, artifact._version)
    _append_lineage(run, artifact, "input")
    return artifact


def fetch(store, project, name, ref):
    """The Artifact of version ``ref`` of ``project/name`` in ``store`` (after the versions this
    process is still committing)."""
    _artifact_worker.drain()
    try:
        doc = store.resolve(project, name, ref)
    except CommError:
        local = getattr(store, "local", None)
        if local is None:
            raise
        doc = local.resolve(project, name, ref)
        store = local
    artifact = Artifact.__new__(Artifact)
    Artifact.__init__(artifact, name, _safe_type(doc.get("type")))
    return artifact._bind(store, project, doc)


def _safe_type(kind):
    try:
        return check_type(kind, user=False)
    except ValueError:
        return "unspecified"


def api_artifact(store, path, type=None, default_project=None):
    """``Api().artifact("project/name:ref")``."""
    project, name, ref = split_ref(str(path), default_project)
    if project is None:
        raise UsageError("Api.artifact(%r): name the project, 'project/name:alias'" % (path,))
    artifact = fetch(store, project, name, ref)
    if type is not None and artifact.type != type:
        raise ValueError("artifact %s has type %s, not %s" % (artifact.name, artifact.type, type))
    return artifact


def api_artifact_versions(store, type_name, path, default_project=None):
    """``Api().artifact_versions(type, "project/name")``: the live versions, newest first."""
    project, name, _ = split_ref(str(path).split(":")[0], default_project)
    if project is None:
        raise UsageError("Api.artifact_versions(%r): name the project, 'project/name'" % (path,))
    out = []
    _artifact_worker.drain()
    for n in sorted(store.version_numbers(project, name), reverse=True):
        artifact = fetch(store, project, name, "v%d" % n)
        if type_name is None or artifact.type == type_name:
            out.append(artifact)
    return out


def log_model(run, path, name=None, aliases=None):
    """Log the file or folder ``path`` as an artifact of type ``model``
    (default name ``run-<runid>-<basename>``)."""
    artifact = artifact_from_path(run, path, name, "model")
    return log_artifact(run, artifact, aliases=aliases)


def use_model(run, name):
    """Use a model version and download it: the file when it holds one, else the folder."""
    artifact = use_artifact(run, name)
    if "model" not in artifact.type.lower():
        raise AssertionError("You can only use this method for 'model' artifacts. For an "
                             "artifact to be a 'model' artifact, its type property must "
                             "contain the substring 'model'.")
    root = artifact.download()
    entries = artifact.files()
    if len(entries) == 1:
        return os.path.join(root, *entries[0].path.split("/"))
    return root


def link_version(artifact, target_path, aliases=None):
    """Write the linked version (``linked_from`` set) in the target project; returns it."""
    artifact._await()
    parts = [p for p in str(target_path).split("/") if p]
    if not parts or len(parts) > 3:
        raise ValueError("link target %r: use 'wandb-registry-<x>/<name>', 'project/name' or "
                         "'name'" % (target_path,))
    target_name = check_name(parts[-1].split(":")[0])
    target_project = parts[-2] if len(parts) >= 2 else artifact._project
    from ._names import check_project

    check_project(target_project)
    linked = Artifact(target_name, artifact._type, artifact._description,
                      dict(artifact._metadata))
    for path, entry in artifact._all_entries().items():
        copy = ArtifactManifestEntry(path, entry.digest, entry.size, entry.ref, entry.extra)
        linked._entries[path] = copy
    linked._ttl = artifact._ttl
    source = {"project": artifact._project, "name": artifact._base_name,
              "version": artifact._version}
    store = artifact._store
    doc = _version_doc(None, linked, source)
    doc["run"], doc["step"], doc["metrics"] = (artifact._doc.get("run"), artifact._doc.get("step"),
                                               artifact._doc.get("metrics") or [])
    given = user_aliases(aliases)
    if store.remote:
        saved, _ = store.commit_artifact(target_project, linked, doc, given)
    else:
        saved, _ = store.commit(target_project, target_name, doc, given)
    return linked._bind(store, target_project, saved)


def link_artifact(run, artifact, target_path, aliases=None):
    artifact._await()
    if artifact._version is None:
        log_artifact(run, artifact)
    return link_version(artifact, target_path, aliases)


def link_model(run, path, registered_model_name, name=None, aliases=None):
    artifact = log_model(run, path, name=name)
    return link_version(artifact, "wandb-registry-model/" + registered_model_name, aliases)


def _default_project():
    from ._names import DEFAULT_PROJECT

    return DEFAULT_PROJECT


# -- helpers ----------------------------------------------------------------------------------------
def _local_aliases_of(store, project, name, version):
    return sorted(a for a, n in store.aliases(project, name).items() if n == version)


def _store_aliases(store, project, name, version):
    if hasattr(store, "aliases_of"):
        return store.aliases_of(project, name, version)
    return _local_aliases_of(store, project, name, version)


def _api_runs(store, found):
    if not found:
        return []
    import trackline  # the public face: _public's Api reads artifacts through this module

    api = trackline.Api(url=store.url) if store.remote else trackline.Api(root=store.root)
    out = []
    for project, run_id in found:
        try:
            out.append(api.run("%s/%s" % (project, run_id)))
        except (CommError, UsageError, OSError):
            continue
    return out


def _entry_name(name):
    text = os.fspath(name)
    if os.sep != "/":
        text = text.replace(os.sep, "/")
    return text


def _check_metadata(metadata):
    """A copy of ``metadata`` as JSON data; ValueError for more than 100 keys, TypeError (as
    W&B) for a value that has no JSON form, named by its key."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError("artifact metadata must be a dict, not %s" % type(metadata).__name__)
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValueError("artifact metadata has %d keys; at most %d are allowed"
                         % (len(metadata), MAX_METADATA_KEYS))
    out = {}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise ValueError("artifact metadata keys must be strings, not %s"
                             % type(key).__name__)
        out[key] = _json_value(value, key)
    return out


def _json_value(value, where):
    if value is None or isinstance(value, (bool, str, int, float)):
        if isinstance(value, (bool, str)) or value is None:
            return value
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError("artifact metadata %r has a key of type %s: keys must be "
                                 "strings" % (where, type(k).__name__))
            out[k] = _json_value(v, "%s.%s" % (where, k))
        return out
    if isinstance(value, (list, tuple)):
        return [_json_value(v, where) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and type(value).__module__.split(".")[0] in ("numpy", "torch"):
        return _json_value(tolist(), where)
    raise TypeError("artifact metadata %r holds a value of type %s, which is not JSON "
                    "serializable" % (where, type(value).__name__))


def _serialise(obj, writer, name):
    """``(type name, JSON bytes)`` of a Table or media value added to an artifact."""
    from ._table import Table

    if isinstance(obj, Table):
        from ._table import _CellWriter

        cells = _CellWriter(writer, name, 0)
        body = {"columns": obj.columns, "data": obj.data, "_type": "table"}
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=cells)
        return "table", data.encode("utf-8")
    if not hasattr(type(obj), "_trackline_ref"):
        raise ValueError("add(obj, name) takes a trackline.Table or media value (Image, Audio, "
                         "...), not %s" % type(obj).__name__)
    ref = writer.reference(name, 0, obj)
    kind = str(ref.get("_type") or "media") if isinstance(ref, dict) else "media"
    return kind, json.dumps(ref, ensure_ascii=False).encode("utf-8")


def _deserialise(artifact, entry, kind):
    artifact._await()
    if artifact._version is None:
        source = entry.local_path
        with open(source, "rb") as f:
            body = json.loads(f.read().decode("utf-8"))
    else:
        with artifact._store.open_blob(artifact._project, artifact._base_name,
                                       artifact._version, entry.path, entry.as_json()) as f:
            body = json.loads(f.read().decode("utf-8"))
    if kind in ("table", "table-file") and isinstance(body, dict):
        from ._table import Table

        rows = body.get("data") or []
        data = [[_table_cell(artifact, cell) for cell in row] if isinstance(row, list) else row
                for row in rows]
        return Table(columns=body.get("columns"), data=data)
    return body


def _table_cell(artifact, cell):
    """A table cell read back: an image stored in the artifact is an Image again (from its
    file, downloaded as W&B's ``Image.from_json`` does), anything else as stored."""
    if not (isinstance(cell, dict) and cell.get("_type") == "image-file"
            and isinstance(cell.get("path"), str)):
        return cell
    entry = artifact._entries.get(cell["path"])
    if entry is None:
        return cell
    local = entry.local_path if artifact._version is None else entry.download()
    if local is None:
        return cell
    from ._media_image import Image

    return Image(local, caption=cell.get("caption"), grouping=cell.get("grouping"))


def _download_reference(entry, dest):
    """A ``file://`` reference is copied (and checked against its checksum); an ``http(s)://``
    one is left out (its bytes were never stored: fetch it from its URI); returns the path or
    None."""
    uri = entry.ref
    if not uri.startswith("file://"):
        return None
    from urllib.parse import unquote, urlsplit

    with open(unquote(urlsplit(uri).path), "rb") as source:
        store_mod.materialize(source, dest, None if entry.digest == uri else entry.digest)
    if entry.digest != uri and hash_file(dest)[0] != entry.digest:
        raise ValueError("referenced file %s changed since it was added" % uri)
    return dest
