#!/usr/bin/env python3
"""The soak's checks and figures, through the Cloudreve v4 API of crsync-devserver (stdlib only).

  check.py stats   --server URL                   prints /__dev/stats as one JSON line
  check.py compare --server URL --local DIR --remote NAME [--journal FILE] [--logs DIR] [--quiet]
        exit 0 when the server's cloudreve://my/NAME equals DIR byte for byte (every file downloaded and
        hashed; files the server has and the disk has not are failures too; the trash does not count),
        no upload placeholder is left under it, every file has one current version (a completed primary
        entity whose size is the file's, no conflict copy), `PRAGMA integrity_check` of the journal is
        ok, and the journal holds a synced row for each file on disk and none for a file gone from it.
        Otherwise exit 1 and print each failure; with --logs, the crsync log lines naming a failing path
        are printed too.
  check.py report  --scratch DIR                  prints the run's figures from the files the soak wrote

The password comes from the environment variable CRSYNC_DEVSERVER_PASSWORD, never from argv.
"""
import argparse
import glob
import hashlib
import json
import os
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request

SAFE = "-_.!~*'()"  # what JavaScript's encodeURIComponent leaves alone (protocol §3)


def enc(text):
    return urllib.parse.quote(text, safe=SAFE)


class API:
    def __init__(self, server, email, password):
        self.server = server.rstrip("/")
        self.token = None
        data = self.call("POST", "/session/token", body={"email": email, "password": password})
        self.token = data["token"]["access_token"]

    def call(self, method, path, query=None, body=None):
        url = self.server + "/api/v4" + path
        if query:
            url += "?" + "&".join(f"{k}={enc(v)}" for k, v in query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=60) as resp:
            envelope = json.load(resp)
        if envelope.get("code") != 0:
            raise APIError(envelope.get("code"), envelope.get("msg"), path)
        return envelope.get("data")

    def list(self, uri):
        files, token = [], None
        while True:
            query = [("uri", uri), ("page_size", "1000")]
            if token:
                query.append(("next_page_token", token))
            page = self.call("GET", "/file", query)
            files += page.get("files") or []
            token = (page.get("pagination") or {}).get("next_token")
            if not token:
                return files

    def download(self, uri):
        urls = self.call("POST", "/file/url", body={"uris": [uri], "download": True})["urls"]
        url = urls[0]["url"]
        if not url.startswith("http"):
            url = self.server + url
        digest, size = hashlib.sha256(), 0
        with urllib.request.urlopen(url, timeout=120) as resp:
            while True:
                block = resp.read(1 << 20)
                if not block:
                    break
                digest.update(block)
                size += len(block)
        return digest.hexdigest(), size


class APIError(Exception):
    def __init__(self, code, msg, path):
        super().__init__(f"{path}: code {code} ({msg})")
        self.code = code


def folder_uri(parts):
    return "cloudreve://my" + "".join("/" + enc(p) for p in parts)


def remote_tree(api, root_parts):
    """{relative path: FileResponse} of every file, and the set of relative folder paths."""
    files, folders = {}, set()
    stack = [[]]
    while stack:
        rel = stack.pop()
        for entry in api.list(folder_uri(root_parts + rel)):
            child = rel + [entry["name"]]
            key = "/".join(child)
            if entry["type"] == 1:
                folders.add(key)
                stack.append(child)
            else:
                files[key] = entry
    return files, folders


def local_tree(root):
    files, folders = {}, set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel
        for d in dirnames:
            folders.add(os.path.join(rel, d))
        for f in filenames:
            files[os.path.join(rel, f)] = os.path.join(dirpath, f)
    return files, folders


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def compare(args):
    password = os.environ["CRSYNC_DEVSERVER_PASSWORD"]
    api = API(args.server, args.email, password)
    root_parts = [args.remote]
    problems = []  # (path or None, text)
    try:
        rfiles, rfolders = remote_tree(api, root_parts)
    except APIError as e:
        print(f"FAIL listing cloudreve://my/{args.remote}: {e}")
        return 1
    lfiles, lfolders = local_tree(args.local)

    for rel in sorted(set(lfiles) - set(rfiles)):
        problems.append((rel, "on disk, missing on the server"))
    for rel in sorted(set(rfiles) - set(lfiles)):
        conflict = " (a conflict copy, though nothing edited the server)" if "(conflict " in rel else ""
        e = rfiles[rel]
        problems.append((rel, f"on the server (size {e['size']}, updated_at {e.get('updated_at')}, file id {e.get('id')}), "
                         f"gone from the disk{conflict}"))
    # crsync keeps files; folders follow them (an empty local folder is not created on the server). A
    # folder left on the server after its files were trashed is shown, not failed: the files decide.
    notes = []
    for rel in sorted(rfolders - lfolders):
        notes.append(f"note: folder {rel} is on the server, gone from the disk (anything in it is listed above)")
    empty_local = sorted(d for d in lfolders - rfolders if not any(f.startswith(d + "/") for f in lfiles))
    if empty_local:
        notes.append(f"note: {len(empty_local)} empty local folder(s) not on the server (crsync uploads files)")

    placeholders = api.list(folder_uri(root_parts) + "?meta_sys:upload_session_id=")
    for p in placeholders:
        problems.append((path_of(p, args.remote), "upload placeholder left (sys:upload_session_id "
                         f"{p['metadata'].get('sys:upload_session_id', '?')[:8]}…)"))

    if not args.quick:
        for rel in sorted(set(lfiles) & set(rfiles)):
            uri = folder_uri(root_parts + rel.split("/"))
            entry = rfiles[rel]
            try:
                info = api.call("GET", "/file/info", [("uri", uri), ("extended", "true")])
                entities = (info.get("extended_info") or {}).get("entities") or []
                primary = [e for e in entities if e["id"] == info["primary_entity"]]
                if "sys:upload_session_id" in (info.get("metadata") or {}):
                    problems.append((rel, "has an open upload session on it"))
                if len(primary) != 1:
                    problems.append((rel, f"no current version (primary entity {info['primary_entity']} "
                                     f"not among {len(entities)} entities)"))
                elif primary[0]["size"] != info["size"]:
                    problems.append((rel, f"current version is {primary[0]['size']} bytes, the file says {info['size']}"))
                remote_hash, remote_size = api.download(uri)
            except (APIError, urllib.error.URLError) as e:
                problems.append((rel, f"cannot check on the server: {e}"))
                continue
            local_size = os.path.getsize(lfiles[rel])
            if remote_size != local_size or entry["size"] != local_size:
                problems.append((rel, f"size differs: disk {local_size}, server listing {entry['size']}, "
                                 f"downloaded {remote_size}"))
            elif remote_hash != sha256_file(lfiles[rel]):
                problems.append((rel, f"content differs ({local_size} bytes each)"))

    if args.journal:
        try:
            db = sqlite3.connect(args.journal)
            result = [r[0] for r in db.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems.append((None, f"journal {args.journal}: integrity_check says {result[:5]}"))
            # Once settled, crsync's journal knows exactly the files on disk, each uploaded: a row for a file
            # the disk no longer has is a deletion crsync keeps failing to apply (and retries every rescan).
            rows = db.execute("SELECT path, state, last_error FROM files").fetchall()
            db.close()
            stale = [r for r in rows if r[0] not in lfiles]
            if stale:
                by_error = {}
                for path, state, error in stale:
                    by_error.setdefault((state, error), []).append(path)
                for (state, error), paths in sorted(by_error.items(), key=lambda kv: -len(kv[1]))[:5]:
                    problems.append((None, f"journal still holds {len(paths)} row(s) for files gone from the disk, "
                                     f"state {state}, last error {error!r}, e.g. {paths[:3]}"))
            for path, state, error in rows:
                if path in lfiles and state != "synced":
                    problems.append((path, f"journal says {state} ({error})"))
        except sqlite3.Error as e:
            problems.append((None, f"journal {args.journal}: {e}"))

    if not args.quiet or not problems:
        print(f"checked: {len(lfiles)} files and {len(lfolders)} folders on disk, {len(rfiles)} files and "
              f"{len(rfolders)} folders on the server, {len(placeholders)} placeholders")
    if not args.quiet:
        for n in notes:
            print(n)
    if not problems:
        return 0
    if args.quiet:
        print(f"not yet equal: {len(problems)} differences, e.g. {problems[0][0]}: {problems[0][1]}")
        return 1
    for path, text in problems:
        print(f"FAIL {path}: {text}" if path else f"FAIL {text}")
    failing = [p for p, _ in problems if p]
    if args.journal:
        print_journal_rows(args.journal, failing)
    if args.logs:
        print_log_lines(args.logs, failing)
    return 1


def print_journal_rows(journal, paths):
    """What crsync's journal holds for each failing path (its row, and any upload session of it)."""
    try:
        db = sqlite3.connect(journal)
        for path in paths[:10]:
            rows = db.execute("SELECT id, state, attempts, last_error FROM files WHERE path = ?", (path,)).fetchall()
            print(f"--- journal for {path}: " + ("; ".join(f"row {r[0]} {r[1]}, {r[2]} attempts, last error {r[3]!r}"
                                                         for r in rows) or "no row"))
        db.close()
    except sqlite3.Error as e:
        print(f"--- journal not readable: {e}")


def path_of(entry, remote):
    prefix = "cloudreve://my/" + enc(remote) + "/"
    path = entry.get("path", "")
    return urllib.parse.unquote(path[len(prefix):]) if path.startswith(prefix) else path


def print_log_lines(log_dir, paths):
    """The crsync log lines (every run's stderr) that name a failing path or its file name."""
    logs = sorted(glob.glob(os.path.join(log_dir, "crsync-run-*.log")), key=lambda p: int(p.rsplit("-", 1)[1][:-4]))
    for path in paths[:10]:
        name = os.path.basename(path)
        print(f"--- crsync log lines naming {name} (file: line)")
        shown = 0
        for log in logs:
            with open(log, errors="replace") as f:
                for line in f:
                    if name in line:
                        print(f"{os.path.basename(log)}: {line.rstrip()}")
                        shown += 1
        if shown == 0:
            print("(none)")


def stats(args):
    with urllib.request.urlopen(args.server.rstrip("/") + "/__dev/stats", timeout=10) as resp:
        print(json.dumps(json.load(resp)))
    return 0


def report(args):
    """Figures: faults injected and what was re-sent."""
    s = args.scratch
    counters = {}
    with open(os.path.join(s, "counters")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            counters[k] = int(v)
    server = {"chunk_bytes": 0, "chunk_requests": 0, "sessions_created": 0, "sessions_cancelled": 0,
              "completions": 0}
    with open(os.path.join(s, "server-stats.jsonl")) as f:
        for line in f:
            if not line.strip():
                continue
            st = json.loads(line)
            for k in ("chunk_bytes", "chunk_requests", "sessions_created", "sessions_cancelled"):
                server[k] += st.get(k, 0)
            server["completions"] += sum(st.get("completions", {}).values())
    with open(os.path.join(s, "proxy-stats.json")) as f:
        proxy = json.load(f)
    with open(os.path.join(s, "workload-stats.json")) as f:
        work = json.load(f)
    written = work["bytes_written"]
    sent = server["chunk_bytes"]
    ops = ", ".join(f"{k} {v}" for k, v in sorted(work["ops"].items()))
    print(f"faults: {counters.get('kills', 0)} SIGKILLs of crsync, {counters.get('server_restarts', 0)} server restarts, "
          f"{proxy['cuts']} connections cut mid-body (of {proxy['requests_with_body']} requests with a body, "
          f"{proxy['connections']} connections)")
    print(f"workload: {sum(work['ops'].values())} operations ({ops}), {written} bytes written")
    print(f"server: {server['sessions_created']} upload sessions, {server['completions']} completed, "
          f"{server['sessions_created'] - server['completions']} not completed (their files were sent again "
          f"or given up), {server['sessions_cancelled']} cancelled; {server['chunk_requests']} chunk requests, "
          f"{sent} chunk bytes received")
    extra = sent - written
    print(f"bytes re-sent: {extra} ({sent} received - {written} written"
          + (f", {100.0 * extra / written:.0f} % of what was written)" if written else ")")
          + " — an appended or rewritten file is sent whole again, so this counts that too")
    print(json.dumps({"kills": counters.get("kills", 0), "server_restarts": counters.get("server_restarts", 0),
                      "cuts": proxy["cuts"], "bytes_written": written, "chunk_bytes": sent,
                      "sessions_created": server["sessions_created"], "completions": server["completions"]}),
          file=open(os.path.join(s, "figures.json"), "w"))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--server", required=True)
    c.add_argument("--email", default="soak@example.com")
    c.add_argument("--local", required=True)
    c.add_argument("--remote", required=True)
    c.add_argument("--journal")
    c.add_argument("--logs")
    c.add_argument("--quiet", action="store_true", help="one line while polling")
    c.add_argument("--quick", action="store_true", help="names and placeholders only, no downloads")
    st = sub.add_parser("stats")
    st.add_argument("--server", required=True)
    r = sub.add_parser("report")
    r.add_argument("--scratch", required=True)
    args = p.parse_args()
    return {"compare": compare, "stats": stats, "report": report}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
