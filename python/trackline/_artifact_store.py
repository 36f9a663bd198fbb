"""The local artifact store of a data root (docs/format.md, "Artifacts"): blobs, versions, aliases.

- Blobs: ``<root>/.trackline/blobs/<2>/<62>`` by SHA-256. :meth:`Store.stage_files` snapshots
  files into hidden temp files (reflink, kernel copy, one :class:`Pack` for small files, or a
  hard link for bytes that never change: a file the client wrote itself, ``policy="immutable"``)
  and :meth:`Store.settle_staged` later hashes them (4 MiB buffers, never a whole file in memory),
  makes them durable and renames them to their hashes; :meth:`Store.put_file` does both at once,
  hashing a copy as it goes. A blob that exists is never written again.
- Versions: ``<root>/<project>/.artifacts/<name>/v<N>.json``, created by hard-linking a fsynced
  temp file, which fails when the number is taken (then ``N+1``): numbers never collide and a
  version is whole or absent. Content equal to a live version's (same manifest digest) reuses it.
- Aliases: ``aliases.jsonl``, one ``write`` per line; ``latest`` and the automatic ``best`` are
  derived, never written.
- Lineage: a line of the run's ``artifacts.jsonl`` per version it logged or used.

Names, types, aliases and paths are checked here with the rules of ``shared/src/artifacts.rs``.
"""

import hashlib
import json
import math
import os
import re
import threading
import time

from ._errors import CommError

_O_BINARY = getattr(os, "O_BINARY", 0)

#: Bytes read per call when hashing or copying.
BUFFER = 4 << 20
DIGEST_HEADER = "trackline-artifact-manifest-v1\n"
STORAGE_POLICY = "trackline-cas-v1"
ARTIFACTS_DIR = ".artifacts"
ALIASES_FILE = "aliases.jsonl"
LINEAGE_FILE = "artifacts.jsonl"
LATEST = "latest"
BEST = "best"
MAX_NAME_LEN = 128
MAX_TYPE_LEN = 64
MAX_ALIAS_LEN = 128
MAX_PATH_LEN = 1024
RESERVED_TYPES = ("job",)
REFERENCE_SCHEMES = ("file://", "http://", "https://")

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_VERSION_REF = re.compile(r"^v([0-9]+)$")
_VERSION_FILE = re.compile(r"^v([0-9]+)(\.deleted)?\.json$")
_FICLONE = 0x40049409  # Linux ioctl: make the destination share the source's extents


# -- names ----------------------------------------------------------------------------------------
def check_name(name):
    """An artifact name: W&B's ``^[A-Za-z0-9_.-]+$``, at most 128 characters, not ``.``/``..``."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise ValueError(
            "Artifact name may only contain alphanumeric characters, dashes, underscores, and "
            "dots, and be 1 to %d characters (not '.' or '..'). Invalid name: %r"
            % (MAX_NAME_LEN, _clip(name)))
    return name


def check_type(kind, user=True):
    """An artifact type: 1 to 64 characters without ``/`` or ``:``; ``job`` and ``wandb-*`` are
    W&B's own (refused when ``user``)."""
    text = kind if isinstance(kind, str) else ""
    if (not text or len(text) > MAX_TYPE_LEN or "/" in text or ":" in text
            or any(ord(c) < 32 or ord(c) == 127 for c in text)):
        raise ValueError("artifact type %r must be 1 to %d characters without '/' or ':'"
                         % (_clip(kind), MAX_TYPE_LEN))
    if user and (text in RESERVED_TYPES or text.startswith("wandb-")):
        raise ValueError("artifact type %r is reserved for internal use; use another type" % text)
    return text


def check_alias(alias):
    """An alias a user may set: 1 to 128 characters without ``/``, ``:`` or whitespace, not
    ``latest`` nor ``v<digits>``."""
    text = alias if isinstance(alias, str) else ""
    if (not text or len(text) > MAX_ALIAS_LEN
            or any(c in "/:" or c.isspace() or ord(c) < 32 for c in text)):
        raise ValueError("alias %r must be 1 to %d characters without '/', ':' or spaces"
                         % (_clip(alias), MAX_ALIAS_LEN))
    if text == LATEST or _VERSION_REF.match(text):
        raise ValueError("alias %r is reserved: 'latest' and 'v<N>' are given automatically"
                         % text)
    return text


def user_aliases(aliases):
    """The aliases of a log call that are written: ``latest`` (always automatic) dropped, each
    one checked, duplicates removed in order."""
    if aliases is None:
        return []
    if isinstance(aliases, str):
        aliases = [aliases]
    out = []
    for alias in aliases:
        if alias == LATEST:
            continue
        check_alias(alias)
        if alias not in out:
            out.append(alias)
    return out


def check_entry_path(path):
    """A path inside an artifact: relative, ``/``-separated, at most 1024 bytes, without empty,
    ``.`` or ``..`` parts, ``\\`` or NUL."""
    ok = (isinstance(path, str) and path and len(path.encode("utf-8", "surrogatepass"))
          <= MAX_PATH_LEN and "\\" not in path and "\0" not in path
          and all(part not in ("", ".", "..") for part in path.split("/")))
    if not ok:
        raise ValueError("artifact path %r must be relative, '/'-separated, without empty, '.' "
                         "or '..' parts" % (_clip(path),))
    return path


def split_ref(text, default_project=None):
    """``"[entity/][project/]name[:ref]"`` -> ``(project, name, ref)``; ``ref`` defaults to
    ``latest``."""
    if not isinstance(text, str) or not text:
        raise ValueError("an artifact is named 'name', 'name:alias', 'name:v<N>' or "
                         "'project/name:alias', not %r" % (text,))
    path, sep, ref = text.rpartition(":") if ":" in text else (text, "", "")
    if not sep:
        path, ref = text, LATEST
    parts = path.split("/")
    if len(parts) > 3 or any(not p for p in parts):
        raise ValueError("cannot read artifact name %r: use 'name:alias' or 'project/name:alias'"
                         % (text,))
    name = check_name(parts[-1])
    project = parts[-2] if len(parts) >= 2 else default_project
    if not ref:
        raise ValueError("artifact %r names no version after ':'" % (text,))
    return project, name, ref


def version_number(ref):
    match = _VERSION_REF.match(ref or "")
    return int(match.group(1)) if match else None


def _clip(value):
    text = value if isinstance(value, str) else "%s" % (type(value).__name__,)
    return text[:140]


# -- digests ----------------------------------------------------------------------------------------
def manifest_digest(contents):
    """SHA-256 hex of the header and ``<path>:<digest>\\n`` per entry in byte order of paths."""
    sha = hashlib.sha256(DIGEST_HEADER.encode("utf-8"))
    for path in sorted(contents, key=lambda p: p.encode("utf-8", "surrogatepass")):
        sha.update(("%s:%s\n" % (path, contents[path]["digest"])).encode("utf-8",
                                                                         "surrogatepass"))
    return sha.hexdigest()


def hash_file(path):
    """``(sha256 hex, size)`` of a file, read in BUFFER blocks."""
    sha = hashlib.sha256()
    size = 0
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            sha.update(view[:n])
            size += n
    return sha.hexdigest(), size


def empty_manifest(contents=None):
    return {"version": 1, "storagePolicy": STORAGE_POLICY,
            "storagePolicyConfig": {"digestAlgo": "sha256"}, "contents": contents or {}}


class Staged:
    """A snapshot of a file in the blob store's temp files, hashed later: its own temp file
    ``tmp``, or ``size`` bytes at ``offset`` of a :class:`Pack` of small files (both None once
    settled, or when nothing needed copying); its SHA-256 ``digest`` once hashed. ``key`` (the
    source's stat before and after the copy, None if it changed or was too new) lets the digest
    be remembered."""

    __slots__ = ("tmp", "pack", "offset", "size", "digest", "key")

    def __init__(self, tmp, size, digest=None, pack=None, offset=0, key=None):
        self.tmp = tmp
        self.pack = pack
        self.offset = offset
        self.size = size
        self.digest = digest
        self.key = key

    def bytes(self):
        """The snapshot's bytes (small files, in a pack)."""
        return self.pack.read(self.offset, self.size)

    def hash(self):
        """Hash the snapshot (once); its digest."""
        if self.digest is None:
            if self.pack is not None:
                self.digest = hashlib.sha256(self.bytes()).hexdigest()
            else:
                self.digest, self.size = hash_file(self.tmp)
        return self.digest


class Pack:
    """Snapshots of small files appended to one temp file of the blob store: one file created
    for a folder of thousands, instead of one each. Removed when its last snapshot is settled
    (or by ``trackline gc`` when a process dies first)."""

    def __init__(self, folder):
        self.path = os.path.join(folder, ".tmp-pack-" + os.urandom(8).hex())
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
        self.size = 0
        self.users = 0
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def append(self, data):
        """Add ``data``; its offset."""
        offset = self.size
        self._buffer += data
        self.size += len(data)
        self.users += 1
        if len(self._buffer) >= BUFFER:
            self.flush()
        return offset

    def flush(self):
        _write_all(self.fd, self._buffer)
        self._buffer = bytearray()

    def read(self, offset, size):
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise OSError("the snapshot pack %s is short" % self.path)
        return data

    def release(self):
        """One snapshot less; the pack goes with the last."""
        with self._lock:
            self.users -= 1
            if self.users or self.fd is None:
                return
            fd, self.fd = self.fd, None
        os.close(fd)
        _unlink_quietly(self.path)


def metric_value(value):
    """A finite float, else None (NaN, infinities, strings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# -- the store --------------------------------------------------------------------------------------
class Store:
    """The artifact store of the data root ``root``."""

    remote = False
    _open = {}  # root -> Store: versions read once per process stay known

    @classmethod
    def of(cls, root):
        """The store of ``root``, shared by the calls of this process."""
        root = os.path.abspath(os.fspath(root))
        store = cls._open.get(root)
        if store is None:
            store = cls._open[root] = cls(root)
        return store

    def __init__(self, root):
        self.root = os.path.abspath(os.fspath(root))
        self.blobs = os.path.join(self.root, ".trackline", "blobs")
        self._seen = {}  # (project, name) -> {N: version document} of live versions read

    # -- blobs --------------------------------------------------------------------------------------
    def blob_path(self, digest):
        return os.path.join(self.blobs, digest[:2], digest[2:])

    def has_blob(self, digest):
        return os.path.isfile(self.blob_path(digest))

    def put_file(self, path, link=False, expect=None):
        """Store the file at ``path`` as a blob; returns ``(digest, size)``.

        ``link``: the bytes never change (hard link when possible). ``expect``: the digest the
        file had when it was added (a different one is an error: the file changed). A file this
        process stored before, unchanged since (same inode, size and mtime), whose blob exists,
        is not read again."""
        return self.put_files([(path, link, expect)])[0]

    def put_files(self, jobs):
        """Store many files (``(path, link, expect)`` each); returns their ``(digest, size)``.
        Copies are made durable together (one ``syncfs`` on Linux, else an fsync each) before
        any of them is renamed to its hash."""
        results = [None] * len(jobs)
        staged = []  # (index, temp path, digest, size, path) of copies awaiting their rename
        try:
            for i, (path, link, expect) in enumerate(jobs):
                known = _recalled(path)
                if known is not None and self.has_blob(known[0]):
                    _check_expected(path, known[0], expect)
                    results[i] = known
                elif link and self._link_in(path, expect, results, i):
                    continue
                else:
                    tmp, digest, size = self._copy_to_temp(path, expect)
                    results[i] = (digest, size)
                    if tmp is not None:
                        staged.append((i, tmp, digest, size, path))
            _sync_all([item[1] for item in staged])
            for _, tmp, digest, size, path in staged:
                self._settle(tmp, digest)
                _remember(path, digest, size)
            staged = []
        finally:
            for item in staged:
                _unlink_quietly(item[1])
        return results

    def stage_file(self, path, link=False):
        """:meth:`stage_files` of one file."""
        return self.stage_files([path], link)[0]

    def stage_files(self, paths, link=False):
        """Snapshot the files at ``paths`` into the blob store's temp files without hashing
        them (:class:`Staged` each): a hard link when ``link`` (bytes that never change) and the
        file system allows; else small files appended to one :class:`Pack`, bigger ones each
        reflinked or copied in the kernel. A file this process stored before, unchanged since,
        whose blob exists, is not copied (its digest is known)."""
        os.makedirs(self.blobs, exist_ok=True)
        out = []
        pack = None
        try:
            for path in paths:
                with open(path, "rb", buffering=0) as src:
                    before = _fstat_key(src.fileno())
                    known = _STORED.get(before)
                    if known is not None and self.has_blob(known[0]):
                        out.append(Staged(None, known[1], known[0]))
                        continue
                    if link:
                        staged = self._stage_link(path, before[2])
                        if staged is not None:
                            out.append(staged)
                            continue
                    if before[2] <= PACK_MAX_FILE:
                        data = src.read()
                        if pack is None:
                            pack = Pack(self.blobs)
                        staged = Staged(None, len(data), pack=pack, offset=pack.append(data))
                    else:
                        staged = self._stage_copy(src, before[2])
                    after = _fstat_key(src.fileno())
                    if before == after and time.time() - before[3] / 1e9 > RACY_SECONDS:
                        staged.key = before
                    out.append(staged)
            if pack is not None:
                pack.flush()
        except BaseException:
            for item in out:
                if item.tmp is not None:
                    _unlink_quietly(item.tmp)
            if pack is not None:
                pack.users = 1
                pack.release()
            raise
        return out

    def _stage_link(self, path, size):
        tmp = os.path.join(self.blobs, ".tmp-" + os.urandom(8).hex())
        try:
            os.link(path, tmp)
        except OSError:
            return None
        return Staged(tmp, size)

    def _stage_copy(self, src, size):
        tmp = os.path.join(self.blobs, ".tmp-" + os.urandom(8).hex())
        try:
            dst_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o444)
            try:
                if not _reflink(src.fileno(), dst_fd):
                    _kernel_copy(src, dst_fd, size)
                size = os.fstat(dst_fd).st_size
            finally:
                os.close(dst_fd)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return Staged(tmp, size)

    def settle_staged(self, staged):
        """Make the :class:`Staged` snapshots blobs, hashing those not hashed yet: those whose
        blob exists are dropped (never synced, so their pages need not reach the disk); a small
        file's bytes go from its pack to a temp file of their own; then all are made durable
        together and renamed to their hashes."""
        keep = []  # (temp path, digest)
        try:
            for item in staged:
                if item.tmp is None and item.pack is None:
                    continue
                item.hash()
                if self.has_blob(item.digest):
                    if item.tmp is not None:
                        _unlink_quietly(item.tmp)
                elif item.pack is not None:
                    keep.append((self._write_temp(item.bytes()), item.digest))
                else:
                    keep.append((item.tmp, item.digest))
                item.tmp = None
            _sync_all([tmp for tmp, _ in keep])
            for tmp, digest in keep:
                self._settle(tmp, digest)
            keep = []
        finally:
            for tmp, _ in keep:
                _unlink_quietly(tmp)
            for item in staged:
                if item.pack is not None:
                    item.pack, pack = None, item.pack
                    pack.release()
        for item in staged:
            if item.key is not None:
                _remember_key(item.key, item.digest, item.size)

    def _write_temp(self, data):
        tmp = os.path.join(self.blobs, ".tmp-" + os.urandom(8).hex())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o444)
        try:
            _write_all(fd, data)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        os.close(fd)
        return tmp

    def _link_in(self, path, expect, results, i):
        """Hard-link ``path`` as its blob; False when the file system cannot (then it is
        copied)."""
        digest, size = hash_file(path)
        _check_expected(path, digest, expect)
        if not self.has_blob(digest):
            tmp = os.path.join(self._blob_folder(digest), ".tmp-" + os.urandom(8).hex())
            try:
                os.link(path, tmp)
            except OSError:
                return False
            self._settle(tmp, digest)
        _remember(path, digest, size)
        results[i] = (digest, size)
        return True

    def _blob_folder(self, digest):
        folder = os.path.join(self.blobs, digest[:2])
        os.makedirs(folder, exist_ok=True)
        return folder

    def _copy_to_temp(self, path, expect=None):
        """Reflink or copy ``path`` into a temp file of the blob store, hashing in the same pass.
        Returns ``(temp path or None, digest, size)``: None when the blob exists already (the
        temp file is then dropped before it is ever synced, so its pages never reach the
        disk)."""
        os.makedirs(self.blobs, exist_ok=True)
        before = _stat_key(path)
        if (before is not None and before[2] >= HASH_FIRST_BYTES
                and time.time() - before[3] / 1e9 > RACY_SECONDS):
            found = self._hash_then_copy(path, expect, before)
            if found is not None:
                return found
        tmp = os.path.join(self.blobs, ".tmp-" + os.urandom(8).hex())
        try:
            with open(path, "rb", buffering=0) as src:
                dst_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o444)
                try:
                    if _reflink(src.fileno(), dst_fd):
                        digest, size = _hash_stream(src)
                    else:
                        digest, size = _copy_hashing(src, dst_fd)
                finally:
                    os.close(dst_fd)
            _check_expected(path, digest, expect)
            if self.has_blob(digest):
                os.unlink(tmp)
                _remember(path, digest, size)
                return None, digest, size
            return tmp, digest, size
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def _hash_then_copy(self, path, expect, before):
        """For a big file unchanged for a while: hash it first (a read only), so a stored blob
        costs no write at all; else copy it in the kernel (reflink or ``copy_file_range``).
        ``(temp or None, digest, size)``, or None when the file changed meanwhile."""
        digest, size = hash_file(path)
        _check_expected(path, digest, expect)
        if self.has_blob(digest):
            _remember(path, digest, size)
            return None, digest, size
        tmp = os.path.join(self.blobs, ".tmp-" + os.urandom(8).hex())
        try:
            with open(path, "rb", buffering=0) as src:
                dst_fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o444)
                try:
                    if not _reflink(src.fileno(), dst_fd):
                        _kernel_copy(src, dst_fd, size)
                finally:
                    os.close(dst_fd)
            if _stat_key(path) != before or os.path.getsize(tmp) != size:
                os.unlink(tmp)  # it changed under us: copy it again, hashing as we go
                return None
            return tmp, digest, size
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def _settle(self, tmp, digest):
        try:
            if self.has_blob(digest):
                os.unlink(tmp)
            else:
                os.replace(tmp, os.path.join(self._blob_folder(digest), digest[2:]))
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def open_blob(self, project, name, version, path, entry):
        """An open binary file of an entry's bytes."""
        try:
            return open(self.blob_path(entry["digest"]), "rb", buffering=0)
        except FileNotFoundError:
            raise CommError("the blob of %s (%s) is missing from %s"
                            % (path, entry["digest"], self.blobs)) from None

    # -- versions -----------------------------------------------------------------------------------
    def folder(self, project, name):
        return os.path.join(self.root, project, ARTIFACTS_DIR, name)

    def _scan(self, project, name):
        """``(live numbers, largest number ever used or -1)`` of an artifact name."""
        try:
            names = os.listdir(self.folder(project, name))
        except FileNotFoundError:
            return [], -1
        live, top = [], -1
        for entry in names:
            match = _VERSION_FILE.match(entry)
            if match:
                n = int(match.group(1))
                top = max(top, n)
                if not match.group(2):
                    live.append(n)
        live.sort()
        return live, top

    def versions(self, project, name):
        """``{N: version document}`` of the live versions, in number order."""
        live, _ = self._scan(project, name)
        seen = self._seen.setdefault((project, name), {})
        for n in list(seen):
            if n not in live:
                del seen[n]
        out = {}
        for n in live:
            doc = seen.get(n)
            if doc is None:
                doc = self._read_version(project, name, n)
                if doc is None:
                    continue
                seen[n] = doc
            out[n] = doc
        return out

    def version_numbers(self, project, name):
        return self._scan(project, name)[0]

    def _read_version(self, project, name, n):
        try:
            with open(os.path.join(self.folder(project, name), "v%d.json" % n), "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and isinstance(doc.get("manifest"), dict) else None

    def commit(self, project, name, doc, aliases=()):
        """Write ``doc`` (a version document without ``version``) as the next version of
        ``name``, unless a live version has the same digest; moves ``aliases`` to the version.
        Returns ``(version document, reused)``. Every blob must be in the store already."""
        for n, old in self.versions(project, name).items():
            if old.get("digest") == doc["digest"]:
                self.set_aliases(project, name, aliases, n)
                return old, True
        folder = self.folder(project, name)
        os.makedirs(folder, exist_ok=True)
        _, top = self._scan(project, name)
        n = top + 1
        tmp = os.path.join(folder, ".tmp-" + os.urandom(8).hex())
        try:
            while True:
                doc = dict(doc, version=n)
                data = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY, 0o644)
                try:
                    _write_all(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                try:
                    os.link(tmp, os.path.join(folder, "v%d.json" % n))
                    break
                except FileExistsError:
                    n = max(n + 1, self._scan(project, name)[1] + 1)
        finally:
            _unlink_quietly(tmp)
        _fsync_dir(folder)
        self._seen.setdefault((project, name), {})[n] = doc
        self.set_aliases(project, name, aliases, n)
        return doc, False

    def delete_version(self, project, name, n, force=False):
        """Rename ``v<N>.json`` to its tombstone ``v<N>.deleted.json``."""
        folder = self.folder(project, name)
        try:
            os.rename(os.path.join(folder, "v%d.json" % n),
                      os.path.join(folder, "v%d.deleted.json" % n))
        except FileNotFoundError:
            raise CommError("artifact %s:v%d does not exist" % (name, n)) from None

    # -- aliases ------------------------------------------------------------------------------------
    def set_aliases(self, project, name, aliases, version):
        """Append one line per alias pointing it at ``version`` (None removes it)."""
        if not aliases:
            return
        now = time.time()
        data = b"".join(
            (json.dumps({"alias": a, "version": version, "at": now}, ensure_ascii=False)
             + "\n").encode("utf-8") for a in aliases)
        folder = self.folder(project, name)
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, ALIASES_FILE),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        try:
            for line in data.splitlines(keepends=True):
                _write_all(fd, line)  # one write per line: several writers never interleave
        finally:
            os.close(fd)

    def aliases(self, project, name, versions=None):
        """``{alias: N}``: ``latest``, the user aliases and the automatic ``best``."""
        if versions is None:
            versions = self.versions(project, name)
        return fold_aliases(self._alias_lines(project, name), versions)

    def _alias_lines(self, project, name):
        try:
            with open(os.path.join(self.folder(project, name), ALIASES_FILE), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        lines = []
        for raw in data.split(b"\n")[:-1]:  # bytes after the last newline: a line being written
            try:
                line = json.loads(raw.decode("utf-8"))
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("alias"), str):
                lines.append(line)
        return lines

    def resolve(self, project, name, ref):
        """The version document ``ref`` (``v<N>``, an alias, ``latest``) names."""
        versions = self.versions(project, name)
        if not versions:
            raise CommError("artifact %r not found in project %r" % (name, project))
        n = version_number(ref)
        if n is None:
            n = self.aliases(project, name, versions).get(ref)
        doc = versions.get(n) if n is not None else None
        if doc is None:
            raise CommError("artifact %s:%s not found in project %r" % (name, ref, project))
        return doc

    def names(self, project):
        """The artifact names of ``project`` that have a live version."""
        try:
            entries = sorted(os.listdir(os.path.join(self.root, project, ARTIFACTS_DIR)))
        except FileNotFoundError:
            return []
        return [e for e in entries if _NAME.match(e) and self._scan(project, e)[0]]

    def aliases_of(self, project, name, version):
        """The aliases (``latest`` and ``best`` included) that name ``version``, sorted."""
        return sorted(a for a, n in self.aliases(project, name).items() if n == version)

    def used_by(self, project, name, doc):
        """``[(project, run id)]`` of the runs whose lineage says they used this version."""
        return self._lineage_runs(project, name, doc.get("digest"), "input")

    def logged_by(self, project, name, doc):
        """``(project, run id)`` of the run that logged this version, or None."""
        run = doc.get("run")
        if isinstance(run, str) and not doc.get("linked_from"):
            return project, run
        found = self._lineage_runs(project, name, doc.get("digest"), "output")
        return found[0] if found else None

    def _lineage_runs(self, project, name, digest, direction):
        out = []
        try:
            projects = sorted(os.listdir(self.root))
        except OSError:
            return out
        for proj in projects:
            if proj.startswith("."):
                continue
            try:
                runs = sorted(os.listdir(os.path.join(self.root, proj)))
            except OSError:
                continue
            for run in runs:
                path = os.path.join(self.root, proj, run, LINEAGE_FILE)
                for line in read_lineage(path):
                    if (line.get("direction") == direction and line.get("project") == project
                            and line.get("name") == name and line.get("digest") == digest):
                        out.append((proj, run))
                        break
        return out


def fold_aliases(lines, versions):
    """``{alias: N}`` from the alias lines (the last line per alias that names a live version or
    removes it wins; others are ignored), ``latest``, and the automatic ``best`` while no line
    ever named ``best`` (as the daemon's ``artifacts::store::fold_aliases``)."""
    out = {}
    best_named = False
    for line in lines:
        alias, n = line.get("alias"), line.get("version")
        if alias == BEST:
            best_named = True
        if n is None:
            out.pop(alias, None)
        elif type(n) is int and n in versions:
            out[alias] = n
    if versions:
        out[LATEST] = max(versions)
    if not best_named:
        best = automatic_best(versions)
        if best is not None:
            out[BEST] = best
    return out


def automatic_best(versions):
    """The live ``model`` version whose first metric is best by its goal, ties to the newer.
    The newest model version with metrics decides the metric and goal; versions whose first
    metric differs from it, or is not a finite number, take no part (as the daemon does)."""
    models = [(n, versions[n]) for n in sorted(versions, reverse=True)
              if versions[n].get("type") == "model"]
    decider = next((m[0] for _, doc in models for m in [doc.get("metrics") or []]
                    if m and isinstance(m[0], dict)), None)
    if decider is None or decider.get("goal") not in ("minimize", "maximize"):
        return None
    maximize = decider["goal"] == "maximize"
    best, held = None, None
    for n, doc in models:  # newest first: an older one wins only when strictly better
        metrics = doc.get("metrics") or []
        first = metrics[0] if metrics and isinstance(metrics[0], dict) else None
        if first is None or first.get("name") != decider.get("name") \
                or first.get("goal") != decider["goal"]:
            continue
        value = metric_value(first.get("value"))
        if value is None:
            continue
        if held is None or (value > held if maximize else value < held):
            best, held = n, value
    return best


# -- lineage ------------------------------------------------------------------------------------------
def append_lineage(run_dir, line):
    """Append one line to the run's ``artifacts.jsonl`` (one write)."""
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(os.path.join(run_dir, LINEAGE_FILE),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def read_lineage(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    out = []
    for raw in data.split(b"\n")[:-1]:
        try:
            line = json.loads(raw.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(line, dict):
            out.append(line)
    return out


# -- downloads ----------------------------------------------------------------------------------------
def safe_join(root, path):
    """``root/path`` for a checked artifact path; refuses anything that would leave ``root``."""
    check_entry_path(path)
    full = os.path.join(root, *path.split("/"))
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(os.path.dirname(full))]) != real_root:
        raise ValueError("artifact path %r leaves the download folder %s" % (path, root))
    return full


def materialize(source, dest, digest=None):
    """Write the bytes of the open binary file ``source`` to ``dest`` atomically (reflink when
    possible, else a streamed copy checked against ``digest``); skips the write when ``dest``
    already has ``digest``."""
    if digest and os.path.isfile(dest) and not os.path.islink(dest):
        try:
            if hash_file(dest)[0] == digest:
                return False
        except OSError:
            pass
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, ".%s.tmp-%s" % (os.path.basename(dest), os.urandom(4).hex()))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o644)
        try:
            fileno = getattr(source, "fileno", None)
            done = False
            if fileno is not None:
                try:
                    done = _reflink(fileno(), fd)
                except (OSError, ValueError, AttributeError):
                    done = False
            if not done:
                got = _copy_hashing(source, fd)[0]
                if digest and got != digest:
                    raise ValueError("the bytes of %s do not match their SHA-256 %s (got %s)"
                                     % (dest, digest, got))
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return True


# -- low level ----------------------------------------------------------------------------------------
#: Seconds a file must be unchanged for before its digest is remembered by its stat, or before
#: it is hashed ahead of its copy.
RACY_SECONDS = 2.0
#: Bytes up to which a file's snapshot goes into a :class:`Pack` with other small files.
PACK_MAX_FILE = 256 << 10
#: Bytes from which an old file is hashed before it is copied (a stored blob then costs no write).
HASH_FIRST_BYTES = 16 << 20
#: (device, inode, size, mtime ns, ctime ns) of a file this process stored -> (digest, size).
_STORED = {}
_STORED_MAX = 100000


def _stat_key(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _remember(path, digest, size):
    """Keep the digest of a stored file, unless it changed in the last seconds: a rewrite within
    the file system's time granularity could keep its size and times (git's "racy" rule)."""
    key = _stat_key(path)
    if key is not None and key[2] == size and time.time() - key[3] / 1e9 > RACY_SECONDS:
        if len(_STORED) >= _STORED_MAX:
            _STORED.clear()
        _STORED[key] = (digest, size)


def _fstat_key(fd):
    st = os.fstat(fd)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _remember_key(key, digest, size):
    """Keep the digest of a file whose stat ``key`` was the same before and after its snapshot
    was copied, and older than RACY_SECONDS then (see :meth:`Store.stage_file`)."""
    if key[2] == size:
        if len(_STORED) >= _STORED_MAX:
            _STORED.clear()
        _STORED[key] = (digest, size)


def _recalled(path):
    key = _stat_key(path)
    return _STORED.get(key) if key is not None else None


def _check_expected(path, digest, expect):
    if expect is not None and digest != expect:
        raise ValueError("%s changed after it was added to the artifact (its SHA-256 was %s, "
                         "now %s); add it again" % (path, expect, digest))


def _reflink(src_fd, dst_fd):
    """Make ``dst_fd`` share ``src_fd``'s extents (Linux FICLONE); False when not supported."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fcntl.ioctl(dst_fd, _FICLONE, src_fd)
        return True
    except OSError:
        return False


def _hash_stream(src):
    sha = hashlib.sha256()
    size = 0
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    while True:
        n = src.readinto(buf)
        if not n:
            break
        sha.update(view[:n])
        size += n
    return sha.hexdigest(), size


def _copy_hashing(src, dst_fd):
    """Copy ``src`` (a binary file) to ``dst_fd`` hashing the same bytes; ``(digest, size)``."""
    sha = hashlib.sha256()
    size = 0
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    readinto = getattr(src, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            chunk = view[:n] if n else b""
        else:
            chunk = src.read(BUFFER)
            n = len(chunk)
        if not n:
            break
        sha.update(chunk)
        _write_all(dst_fd, chunk)
        size += n
    return sha.hexdigest(), size


def _sync_all(paths):
    """Make the files at ``paths`` durable: one ``syncfs`` of their file system for many files
    on Linux, else an fsync each."""
    if not paths:
        return
    if len(paths) > 4 and _syncfs(os.path.dirname(paths[0])):
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY | _O_BINARY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(folder):
    """``syncfs(2)`` on the file system of ``folder``; False where there is none."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (ImportError, OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return syncfs(fd) == 0
    finally:
        os.close(fd)


def _kernel_copy(src, dst_fd, size):
    """Copy ``size`` bytes of the binary file ``src`` to ``dst_fd`` without passing them through
    Python where the system can (``copy_file_range``), else in BUFFER blocks."""
    copy_range = getattr(os, "copy_file_range", None)
    done = 0
    if copy_range is not None:
        try:
            while done < size:
                n = copy_range(src.fileno(), dst_fd, min(size - done, 1 << 30))
                if not n:
                    break
                done += n
        except OSError:
            pass
    if done < size:
        src.seek(done)
        os.lseek(dst_fd, done, os.SEEK_SET)
        _copy_hashing(src, dst_fd)


def _write_all(fd, data):
    view = memoryview(data)
    while len(view):
        view = view[os.write(fd, view):]


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
