#!/usr/bin/env python3
"""The soak's changing tree: for --seconds, keeps creating, appending to, rewriting in place, renaming
(files and folders) and deleting files under --root, a few operations a second. Bounded in files, bytes
and time; it stops by itself (or at SIGTERM, after the operation under way), and writes what it did as
JSON to --stats (bytes written, operations by kind).

Names are mostly plain, some with a space or a non-ASCII letter, so URI encoding is exercised too.
"""
import argparse
import json
import os
import random
import shutil
import signal
import time

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--seconds", type=float, required=True)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--stats", required=True)
parser.add_argument("--max-files", type=int, default=150)
parser.add_argument("--max-bytes", type=int, default=48 << 20, help="bound on the tree's total size")
parser.add_argument("--ops-per-second", type=float, default=4.0)
args = parser.parse_args()

rng = random.Random(args.seed)
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)

stats = {"bytes_written": 0, "ops": {}}
counter = [0]


def count(op, nbytes=0):
    stats["ops"][op] = stats["ops"].get(op, 0) + 1
    stats["bytes_written"] += nbytes


def save_stats():
    tmp = args.stats + ".tmp"
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.replace(tmp, args.stats)


def fresh_name(prefix, ext=""):
    counter[0] += 1
    flavour = rng.random()
    if flavour < 0.08:
        return f"{prefix}{counter[0]} with space{ext}"
    if flavour < 0.14:
        return f"{prefix}{counter[0]}-caf\u00e9{ext}"
    return f"{prefix}{counter[0]}{ext}"


def walk():
    """(dirs, files) under the root, relative; the root itself is ''."""
    dirs, files = [""], []
    for dirpath, dirnames, filenames in os.walk(args.root):
        rel = os.path.relpath(dirpath, args.root)
        rel = "" if rel == "." else rel
        for d in dirnames:
            dirs.append(os.path.join(rel, d))
        for f in filenames:
            files.append(os.path.join(rel, f))
    return dirs, files


def tree_bytes(files):
    total = 0
    for f in files:
        try:
            total += os.path.getsize(os.path.join(args.root, f))
        except OSError:
            pass
    return total


def random_size():
    r = rng.random()
    if r < 0.15:
        return rng.randrange(0, 64)  # tiny, including empty
    if r < 0.75:
        return rng.randrange(1 << 10, 160 << 10)  # one to three 64 KiB chunks
    return rng.randrange(160 << 10, 1 << 20)  # many chunks


def payload(n):
    return rng.randbytes(n)


def full(p):
    return os.path.join(args.root, p)


def op_create(dirs, files):
    d = rng.choice(dirs)
    name = fresh_name("f", ".bin")
    n = random_size()
    with open(full(os.path.join(d, name)), "wb") as f:
        # Written in pieces with short pauses now and then, so crsync sees files still being written.
        left = n
        while left > 0:
            piece = min(left, rng.choice([4096, 65536, 1 << 20]))
            f.write(payload(piece))
            left -= piece
            if rng.random() < 0.05:
                f.flush()
                time.sleep(0.05)
    count("create", n)


def op_append(dirs, files):
    p = rng.choice(files)
    n = rng.randrange(1, 96 << 10)
    with open(full(p), "ab") as f:
        f.write(payload(n))
    count("append", n)


def op_rewrite(dirs, files):
    p = rng.choice(files)
    size = os.path.getsize(full(p))
    if size == 0 or rng.random() < 0.2:
        # Truncate and write anew, in place (same inode).
        n = random_size()
        with open(full(p), "r+b") as f:
            f.truncate(0)
            f.write(payload(n))
        count("rewrite_truncate", n)
        return
    # Overwrite a range without changing the size.
    start = rng.randrange(0, size)
    n = rng.randrange(1, min(size - start, 128 << 10) + 1)
    with open(full(p), "r+b") as f:
        f.seek(start)
        f.write(payload(n))
    count("rewrite_range", n)


def op_rename_file(dirs, files):
    p = rng.choice(files)
    d = rng.choice(dirs) if rng.random() < 0.5 else os.path.dirname(p)
    os.rename(full(p), full(os.path.join(d, fresh_name("f", ".bin"))))
    count("rename_file")


def op_rename_dir(dirs, files):
    candidates = [d for d in dirs if d]
    if not candidates:
        return op_mkdir(dirs, files)
    d = rng.choice(candidates)
    parent = os.path.dirname(d)
    if rng.random() < 0.3:
        # Move it under another folder that is not inside it.
        others = [x for x in dirs if x != d and not x.startswith(d + "/") and x.count("/") < 2]
        parent = rng.choice(others)
    os.rename(full(d), full(os.path.join(parent, fresh_name("d"))))
    count("rename_dir")


def op_delete_file(dirs, files):
    os.unlink(full(rng.choice(files)))
    count("delete_file")


def op_delete_dir(dirs, files):
    candidates = [d for d in dirs if d]
    if not candidates:
        return
    shutil.rmtree(full(rng.choice(candidates)))
    count("delete_dir")


def op_mkdir(dirs, files):
    parents = [d for d in dirs if d.count("/") < 2]
    os.mkdir(full(os.path.join(rng.choice(parents), fresh_name("d"))))
    count("mkdir")


def one_step():
    dirs, files = walk()
    if not files or len(dirs) < 3:
        return op_mkdir(dirs, files) if len(dirs) < 3 else op_create(dirs, files)
    total = tree_bytes(files)
    big = len(files) >= args.max_files or total >= args.max_bytes
    table = [
        (op_create, 0 if big else 30),
        (op_append, 0 if big else 18),
        (op_rewrite, 14),
        (op_rename_file, 10),
        (op_rename_dir, 3),
        (op_delete_file, 40 if big else 10),
        (op_delete_dir, 3 if big else 1),
        (op_mkdir, 2 if len(dirs) < 12 else 0),
    ]
    ops = [op for op, w in table if w > 0]
    weights = [w for op, w in table if w > 0]
    rng.choices(ops, weights)[0](dirs, files)


os.makedirs(args.root, exist_ok=True)
deadline = time.monotonic() + args.seconds
while not stop and time.monotonic() < deadline:
    try:
        one_step()
    except FileNotFoundError:
        pass  # raced with nothing but ourselves; cannot happen often, and is harmless
    save_stats()
    time.sleep(rng.expovariate(args.ops_per_second))
save_stats()
