"""Remote mode of artifacts: the daemon's blob store and versions, over HTTP (docs/api.md).

Logging a version (:meth:`RemoteStore.commit_artifact`):

1. ``POST /api/ingest/v1/blobs/missing`` with the version's file hashes (10,000 at most a call);
2. each missing blob in chunks of at most 8 MiB read straight from its source file (no staging
   copy), ``POST /api/ingest/v1/blob?hash=H&size=S&offset=N``; an empty chunk at offset 0 first
   asks how much the daemon holds, and a ``409 offset_mismatch`` resumes from the daemon's length,
   so an interrupted upload continues where it stopped;
3. ``POST /api/ingest/v1/artifacts`` commits the version; the daemon numbers it (or reuses an
   equal one). An incremental artifact sends only its changes (``null`` removes a path).

Reading goes through the REST routes ``GET /api/projects/{p}/artifacts/{name}/versions/{ref}``
and ``…/files/{path}`` (streamed). Errors raise :class:`~._errors.CommError`.
"""

import json
import os
import time
from urllib.parse import quote, urlencode

from ._artifact_store import LATEST
from ._errors import CommError

#: Bytes of one blob chunk (the daemon's cap).
CHUNK = 8 << 20
#: Hashes per ``blobs/missing`` call.
MISSING_BATCH = 10000
#: Seconds one request may take.
TIMEOUT = 60.0
#: Attempts of a request that could not reach the daemon or got a 5xx answer.
ATTEMPTS = 4


class RemoteStore:
    """The artifacts of the daemon at ``url``; ``local`` is the data root's store, the fallback."""

    remote = True

    def __init__(self, url, api_key=None, local=None):
        self.url = str(url).rstrip("/")
        self.api_key = api_key
        self.local = local
        self._versions = {}  # (project, name, version) -> version document read

    # -- HTTP -----------------------------------------------------------------------------------------
    def _request(self, method, path, body=None, content_type="application/json", stream=False):
        """``(status, answer)``: the parsed JSON answer (or, with ``stream`` and 200, the open
        response). Retries unreachable daemons and 5xx answers a few times."""
        import urllib.error
        import urllib.request

        headers = {"User-Agent": "trackline-python"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["Authorization"] = "Bearer " + self.api_key
        delay = 0.25
        last = None
        for attempt in range(ATTEMPTS):
            request = urllib.request.Request(self.url + path, data=body, headers=headers,
                                             method=method)
            try:
                response = urllib.request.urlopen(request, timeout=TIMEOUT)
            except urllib.error.HTTPError as exc:
                try:
                    raw = exc.read()
                finally:
                    exc.close()
                if exc.code >= 500 and attempt + 1 < ATTEMPTS:
                    last = "HTTP %d" % exc.code
                    time.sleep(delay)
                    delay *= 2
                    continue
                return exc.code, _parse(raw)
            except (OSError, ValueError) as exc:  # URLError, refused, reset, timeout
                last = str(getattr(exc, "reason", exc))
                if attempt + 1 < ATTEMPTS:
                    time.sleep(delay)
                    delay *= 2
                    continue
                break
            if stream:
                return response.status, response
            with response:
                return response.status, _parse(response.read())
        raise CommError("cannot reach the Trackline daemon at %s (%s)" % (self.url, last))

    def _post_json(self, path, doc):
        return self._request("POST", path, json.dumps(doc, ensure_ascii=False).encode("utf-8"))

    # -- blobs ----------------------------------------------------------------------------------------
    def missing(self, hashes):
        """The hashes among ``hashes`` the daemon does not have."""
        hashes = sorted(set(hashes))
        out = []
        for i in range(0, len(hashes), MISSING_BATCH):
            status, answer = self._post_json("/api/ingest/v1/blobs/missing",
                                             {"hashes": hashes[i:i + MISSING_BATCH]})
            if status != 200 or not isinstance(answer, dict):
                raise CommError(_failure("ask which blobs are missing", status, answer))
            out.extend(h for h in answer.get("missing") or () if isinstance(h, str))
        return out

    def upload_blob(self, digest, size, source):
        """Upload the blob ``digest`` of ``size`` bytes from the file ``source``, resuming from
        what the daemon already holds; True once the daemon has it whole."""
        offset = self._send_chunk(digest, size, 0, b"")
        with open(source, "rb", buffering=0) as f:
            while offset is not None and offset < size:
                f.seek(offset)
                data = f.read(min(CHUNK, size - offset))
                if not data:
                    raise CommError("%s is shorter than its %d bytes" % (source, size))
                offset = self._send_chunk(digest, size, offset, data)
        return True

    def _send_chunk(self, digest, size, offset, data):
        """The daemon's length after this chunk; None once the blob is complete."""
        query = urlencode({"hash": digest, "size": size, "offset": offset})
        status, answer = self._request("POST", "/api/ingest/v1/blob?" + query, data,
                                       "application/octet-stream")
        answer = answer if isinstance(answer, dict) else {}
        if status == 200:
            if answer.get("complete"):
                return None
            length = answer.get("length")
            if type(length) is not int:
                raise CommError(_failure("upload blob %s" % digest, status, answer))
            return length
        if status == 409 and type(answer.get("length")) is int:
            return answer["length"]
        raise CommError(_failure("upload blob %s" % digest, status, answer))

    # -- versions -------------------------------------------------------------------------------------
    def commit_artifact(self, project, artifact, doc, aliases):
        """Upload the files the daemon lacks and commit the version; ``(document, reused)``."""
        if artifact._incremental:
            contents = {p: e.as_json() for p, e in artifact._entries.items()}
            contents.update((p, None) for p in artifact._removed)
        else:
            contents = doc["manifest"]["contents"]
        stored = {e.digest: e for e in artifact._entries.values()
                  if e.ref is None and contents.get(e.path) is not None}
        self._upload(stored, self.missing(list(stored)))
        body = {
            "project": project, "run": doc.get("run"), "name": doc["name"], "type": doc["type"],
            "description": doc.get("description"), "metadata": doc.get("metadata") or {},
            "aliases": list(aliases), "manifest": {"contents": contents}, "step": doc.get("step"),
            "metrics": doc.get("metrics") or [], "ttl_secs": doc.get("ttl_secs"),
            "linked_from": doc.get("linked_from"), "incremental": bool(artifact._incremental),
        }
        for _ in range(2):
            status, answer = self._post_json("/api/ingest/v1/artifacts", body)
            if status == 409 and isinstance(answer, dict) and answer.get("missing"):
                self._upload(stored, [h for h in answer["missing"] if isinstance(h, str)])
                continue
            break
        if status != 200 or not isinstance(answer, dict) or type(answer.get("version")) \
                is not int:
            raise CommError(_failure("commit artifact %s" % doc["name"], status, answer))
        version = answer["version"]
        try:
            saved = self.resolve(project, doc["name"], "v%d" % version)
        except CommError:
            saved = dict(doc, version=version, digest=answer.get("digest") or doc["digest"])
        return saved, bool(answer.get("reused"))

    def _upload(self, stored, missing):
        for digest in missing:
            entry = stored.get(digest)
            if entry is None:
                raise CommError("the daemon asks for blob %s, which this artifact does not "
                                "hold" % digest)
            source = entry.local_path
            if not source or not os.path.isfile(source):
                local = self.local.blob_path(digest) if self.local is not None else None
                if local is None or not os.path.isfile(local):
                    raise CommError("the file %s of the artifact is gone (%r)"
                                    % (entry.path, source))
                source = local
            self.upload_blob(digest, entry.size or 0, source)

    def _version_path(self, project, name, ref):
        return "/api/projects/%s/artifacts/%s/versions/%s" % (
            quote(project, safe=""), quote(name, safe=""), quote(ref, safe=""))

    def resolve(self, project, name, ref):
        """The version document of ``project/name:ref``, read from the daemon."""
        status, answer = self._request("GET", self._version_path(project, name, ref or LATEST))
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("info"),
                                                                            dict):
            raise CommError(_failure("read artifact %s:%s of project %r" % (name, ref, project),
                                     status, answer))
        doc = version_document(answer)
        self._versions[(project, name, doc["version"])] = doc
        return doc

    def version_numbers(self, project, name):
        """The numbers of the live versions, from ``GET …/artifacts/{name}/versions``."""
        route = "/api/projects/%s/artifacts/%s/versions" % (quote(project, safe=""),
                                                             quote(name, safe=""))
        status, answer = self._request("GET", route)
        if status != 200 or not isinstance(answer, list):
            raise CommError(_failure("list the versions of %s" % name, status, answer))
        return [v["version"] for v in answer if isinstance(v, dict)
                and type(v.get("version")) is int]

    def aliases_of(self, project, name, version):
        doc = self._versions.get((project, name, version))
        if doc is None:
            doc = self.resolve(project, name, "v%d" % version)
        return list(doc.get("aliases") or [])

    def open_blob(self, project, name, version, path, entry):
        """The streamed bytes of one file of a version (a file-like object)."""
        route = self._version_path(project, name, "v%d" % version) + "/files/" + quote(path,
                                                                                        safe="/")
        status, answer = self._request("GET", route, stream=True)
        if status != 200:
            raise CommError(_failure("download %s of %s:v%d" % (path, name, version), status,
                                     answer))
        return answer

    def set_aliases(self, project, name, aliases, version):
        for alias in aliases or ():
            route = "/api/projects/%s/artifacts/%s/aliases/%s" % (
                quote(project, safe=""), quote(name, safe=""), quote(alias, safe=""))
            if version is None:
                status, answer = self._request("DELETE", route)
            else:
                status, answer = self._request(
                    "PUT", route, json.dumps({"version": version}).encode("utf-8"))
            if status not in (200, 204):
                raise CommError(_failure("set alias %s of %s" % (alias, name), status, answer))

    def delete_version(self, project, name, version, force=False):
        route = self._version_path(project, name, "v%d" % version)
        status, answer = self._request("DELETE", route + ("?force=1" if force else ""))
        if status not in (200, 204):
            raise CommError(_failure("delete %s:v%d" % (name, version), status, answer))

    def used_by(self, project, name, doc):
        return [(r["project"], r["run"]) for r in doc.get("used_by") or ()
                if isinstance(r, dict) and "project" in r and "run" in r]

    def logged_by(self, project, name, doc):
        found = doc.get("logged_by")
        if isinstance(found, dict) and "project" in found and "run" in found:
            return found["project"], found["run"]
        return None


def version_document(answer):
    """A version document (the shape of ``v<N>.json``) from the REST ``ArtifactVersion``."""
    info = answer["info"]
    contents = {}
    for f in answer.get("files") or ():
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            continue
        entry = {"digest": f.get("digest")}
        if f.get("size") is not None:
            entry["size"] = f["size"]
        if f.get("ref") is not None:
            entry["ref"] = f["ref"]
        contents[f["path"]] = entry
    metrics = []
    for item in info.get("metrics") or ():
        if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], dict):
            metrics.append({"name": item[0], "value": item[1].get("value"),
                            "goal": item[1].get("goal")})
    return {
        "format": 1, "name": info.get("name"), "version": info.get("version"),
        "type": info.get("type"), "description": info.get("description"),
        "metadata": answer.get("metadata") or {}, "digest": info.get("digest"),
        "size": info.get("size"), "file_count": info.get("file_count"),
        "created_at": info.get("created_at"), "run": info.get("run"), "step": info.get("step"),
        "metrics": metrics, "ttl_secs": answer.get("ttl_secs"),
        "linked_from": answer.get("linked_from"),
        "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
                     "storagePolicyConfig": {"digestAlgo": "sha256"}, "contents": contents},
        "aliases": list(info.get("aliases") or []),
        "logged_by": answer.get("logged_by"), "used_by": answer.get("used_by") or [],
    }


def _parse(raw):
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return None


def _failure(what, status, answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return "cannot %s: the daemon answered HTTP %s%s" % (what, status,
                                                          ": %s" % message if message else "")
