"""Git object plumbing on dulwich repos: real blobs, trees, commits and refs; shas as str."""

from __future__ import annotations

import difflib
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from dulwich.diff_tree import tree_changes
from dulwich.graph import can_fast_forward
from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
MODES = {
    "100644": 0o100644,
    "100755": 0o100755,
    "040000": 0o040000,
    "120000": 0o120000,
    "160000": 0o160000,
}
TREE_MODE = 0o040000
SUBMODULE_MODE = 0o160000


def oid(sha: str) -> ObjectID:
    return ObjectID(sha.encode("ascii"))


def mode_str(mode: int) -> str:
    return f"{mode:06o}"


def kind_of_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "tree"
    return "commit" if mode == SUBMODULE_MODE else "blob"


# --- refs -----------------------------------------------------------------------------------


def is_empty(repo: Repo) -> bool:
    """True while the repository has no refs at all (GitHub's "empty repository")."""
    return not repo.refs.as_dict(Ref(b"refs"))


def list_refs(repo: Repo) -> dict[str, str]:
    """Every ref under refs/, full name -> sha, sorted by name."""
    refs = repo.refs.as_dict(Ref(b"refs"))
    return {f"refs/{k.decode()}": v.decode() for k, v in sorted(refs.items())}


def read_ref(repo: Repo, name: str) -> str | None:
    if not check_ref_format(Ref(name.encode())):
        return None  # also keeps "refs/heads/../../config" from reading outside refs/
    try:
        return repo.refs[Ref(name.encode())].decode()
    except KeyError:
        return None


def set_ref(repo: Repo, name: str, sha: str, old: str | None) -> bool:
    """Compare-and-swap a ref; old=None creates it only if absent."""
    if old is None:
        return repo.refs.add_if_new(Ref(name.encode()), oid(sha))
    return repo.refs.set_if_equals(Ref(name.encode()), oid(old), oid(sha))


def delete_ref(repo: Repo, name: str) -> bool:
    return repo.refs.remove_if_equals(Ref(name.encode()), None)


def set_head(repo: Repo, branch: str) -> None:
    repo.refs.set_symbolic_ref(Ref(b"HEAD"), Ref(f"refs/heads/{branch}".encode()))


def resolve(repo: Repo, ref: str) -> str | None:
    """A branch, tag or full commit sha -> the commit sha it names."""
    candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}", ref if ref.startswith("refs/") else ""]
    for name in filter(None, candidates):
        sha = read_ref(repo, name)
        if sha:
            return peel(repo, sha)
    if SHA_RE.match(ref) and object_kind(repo, ref) == "commit":
        return ref
    return None


def peel(repo: Repo, sha: str) -> str | None:
    obj = repo.object_store[oid(sha)]
    while isinstance(obj, Tag):
        obj = repo.object_store[obj.object[1]]
    return obj.id.decode() if isinstance(obj, Commit) else None


# --- objects --------------------------------------------------------------------------------


def object_kind(repo: Repo, sha: str) -> str | None:
    """The object's type (blob, tree, commit, tag), or None when it does not exist."""
    if not SHA_RE.match(sha) or oid(sha) not in repo.object_store:
        return None
    type_num, _ = repo.object_store.get_raw(oid(sha))
    return {1: "commit", 2: "tree", 3: "blob", 4: "tag"}.get(type_num)


def add_blob(repo: Repo, data: bytes) -> str:
    blob = Blob.from_string(data)
    repo.object_store.add_object(blob)
    return blob.id.decode()


def read_blob(repo: Repo, sha: str) -> bytes | None:
    if object_kind(repo, sha) != "blob":
        return None
    return repo.object_store.get_raw(oid(sha))[1]


def blob_size(repo: Repo, sha: str) -> int:
    return len(repo.object_store.get_raw(oid(sha))[1])


# --- trees ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeChange:
    """One entry of a tree request: sha=None deletes the path from the base tree."""

    path: str
    mode: int
    sha: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    mode: int
    sha: str

    @property
    def kind(self) -> str:
        return kind_of_mode(self.mode)


class _Dir:
    """A tree being edited: untouched subtrees stay as shas, edited ones become _Dirs."""

    def __init__(self, repo: Repo, sha: str | None) -> None:
        self.repo = repo
        self.entries: dict[bytes, tuple[int, bytes]] = {}
        self.children: dict[bytes, _Dir] = {}
        if sha:
            tree = repo.object_store[oid(sha)]
            assert isinstance(tree, Tree)
            for item in tree.iteritems():
                self.entries[item.path] = (item.mode, item.sha)

    def _child(self, name: bytes) -> _Dir:
        if name not in self.children:
            mode, sha = self.entries.get(name, (0, b""))
            self.children[name] = _Dir(self.repo, sha.decode() if stat.S_ISDIR(mode) else None)
            self.entries.pop(name, None)
        return self.children[name]

    def set(self, parts: list[bytes], mode: int, sha: bytes) -> None:
        head, rest = parts[0], parts[1:]
        if rest:
            self._child(head).set(rest, mode, sha)
        else:
            self.children.pop(head, None)
            self.entries[head] = (mode, sha)

    def delete(self, parts: list[bytes]) -> None:
        head, rest = parts[0], parts[1:]
        if not rest:
            self.children.pop(head, None)
            self.entries.pop(head, None)
        elif head in self.children or stat.S_ISDIR(self.entries.get(head, (0, b""))[0]):
            self._child(head).delete(rest)

    def write(self) -> bytes | None:
        """Store this tree and its edited subtrees; None when it ends up empty."""
        for name, child in self.children.items():
            sub = child.write()
            if sub is not None:  # git keeps no empty directories
                self.entries[name] = (TREE_MODE, sub)
        self.children = {}
        if not self.entries:
            return None
        tree = Tree()
        for name, (mode, sha) in self.entries.items():
            tree.add(name, mode, ObjectID(sha))
        self.repo.object_store.add_object(tree)
        return tree.id


def write_tree(repo: Repo, base_tree: str | None, changes: Iterable[TreeChange]) -> str:
    """Apply changes on top of base_tree (or an empty tree) and return the new tree sha."""
    root = _Dir(repo, base_tree)
    for change in changes:
        parts = [p.encode() for p in change.path.split("/")]
        if change.sha is None:
            root.delete(parts)
        else:
            root.set(parts, change.mode, change.sha.encode())
    sha = root.write()
    if sha is None:
        empty = Tree()
        repo.object_store.add_object(empty)
        sha = empty.id
    return sha.decode()


def tree_entries(repo: Repo, tree_sha: str, *, recursive: bool, prefix: str = "") -> list[Entry]:
    """Entries of a tree in git order; recursive listings include the subtrees themselves."""
    tree = repo.object_store[oid(tree_sha)]
    assert isinstance(tree, Tree)
    out = []
    for item in tree.iteritems():
        entry = Entry(prefix + item.path.decode(), item.mode, item.sha.decode())
        out.append(entry)
        if recursive and entry.kind == "tree":
            out.extend(tree_entries(repo, entry.sha, recursive=True, prefix=entry.path + "/"))
    return out


def lookup(repo: Repo, tree_sha: str, path: str) -> Entry | None:
    """Find path ("" is the root) inside a tree."""
    current = Entry("", TREE_MODE, tree_sha)
    for part in filter(None, path.split("/")):
        if current.kind != "tree":
            return None
        tree = repo.object_store[oid(current.sha)]
        assert isinstance(tree, Tree)
        try:
            mode, sha = tree[part.encode()]
        except KeyError:
            return None
        current = Entry(f"{current.path}/{part}".lstrip("/"), mode, sha.decode())
    return current


# --- commits --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    when: datetime  # timezone-aware

    @property
    def date(self) -> str:
        return self.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_commit(
    repo: Repo, tree: str, parents: list[str], message: str, author: Person, committer: Person
) -> str:
    commit = Commit()
    commit.tree = oid(tree)
    commit.parents = [oid(p) for p in parents]
    commit.message = message.encode()
    commit.author = _ident(author)
    commit.author_time, commit.author_timezone = _clock(author)
    commit.committer = _ident(committer)
    commit.commit_time, commit.commit_timezone = _clock(committer)
    repo.object_store.add_object(commit)
    return commit.id.decode()


def _ident(person: Person) -> bytes:
    return f"{person.name} <{person.email}>".encode()


def _clock(person: Person) -> tuple[int, int]:
    offset = person.when.utcoffset() or timedelta(0)
    return int(person.when.timestamp()), int(offset.total_seconds())


def read_commit(repo: Repo, sha: str) -> Commit | None:
    if object_kind(repo, sha) != "commit":
        return None
    commit = repo.object_store[oid(sha)]
    assert isinstance(commit, Commit)
    return commit


def people(commit: Commit) -> tuple[Person, Person]:
    """The commit's author and committer."""
    return (
        _person(commit.author, commit.author_time, commit.author_timezone),
        _person(commit.committer, commit.commit_time, commit.commit_timezone),
    )


def _person(ident: bytes, when: int, offset: int) -> Person:
    name, _, rest = ident.decode(errors="replace").partition(" <")
    tz = timezone(timedelta(seconds=offset))
    return Person(name, rest.rstrip(">"), datetime.fromtimestamp(when, tz))


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    return ancestor == descendant or can_fast_forward(repo, oid(ancestor), oid(descendant))


def history(repo: Repo, head: str, path: str | None = None) -> Iterator[Commit]:
    """Commits reachable from head, newest first, optionally only those touching path."""
    paths = [path.strip("/").encode()] if path and path.strip("/") else None
    for walk_entry in repo.get_walker(include=[oid(head)], paths=paths):
        yield walk_entry.commit


@dataclass(frozen=True, slots=True)
class FileChange:
    filename: str
    status: str  # "added" | "removed" | "modified"
    sha: str | None
    additions: int
    deletions: int
    patch: str | None


def changed_files(repo: Repo, commit: Commit) -> list[FileChange]:
    """What the commit changed relative to its first parent."""
    parent_tree = None
    if commit.parents:
        parent = repo.object_store[commit.parents[0]]
        assert isinstance(parent, Commit)
        parent_tree = parent.tree
    out = []
    for change in tree_changes(repo.object_store, parent_tree, commit.tree):
        old, new = change.old, change.new
        status = {"add": "added", "delete": "removed"}.get(change.type, "modified")
        path = (new.path if new and new.path else old.path if old and old.path else b"").decode()
        before = _text(repo, old.sha if old else None)
        after = _text(repo, new.sha if new else None)
        adds = dels = 0
        patch = None
        if before is not None and after is not None:
            lines = list(difflib.unified_diff(before, after, lineterm="", n=3))[2:]
            adds = sum(1 for line in lines if line.startswith("+"))
            dels = sum(1 for line in lines if line.startswith("-"))
            patch = "\n".join(lines)
        sha = (new.sha if new and new.sha else old.sha if old and old.sha else b"").decode()
        out.append(FileChange(path, status, sha or None, adds, dels, patch))
    return out


def _text(repo: Repo, sha: bytes | None) -> list[str] | None:
    """A blob as lines, [] for a missing side, None for binary content."""
    if sha is None:
        return []
    data = repo.object_store.get_raw(ObjectID(sha))[1]
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace").splitlines()
