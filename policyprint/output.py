"""Write stage: the output folder, kept safe and described truly by its manifest.

Every path the tool writes or deletes under output/ goes through `Output`:

- it is resolved and must stay inside output/ (a crafted id cannot escape);
- output/ itself must be a real folder, not a symlink, and hold only files that
  output/manifest.json records this tool writing (so nothing else is ever
  overwritten or deleted);
- manifest.json is rewritten atomically around every change: an entry is marked
  `"state": "writing"` (or `"deleting"`) before the file is touched and gets its
  size and sha256 after, so a kill at any moment leaves a manifest whose settled
  entries match the disk; the next build settles the marked ones;
- temporary files have names derived from the file they replace, so a build
  removes only its own leftovers.

The lock on output/ is opened without following links and never truncated.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import stat
import time
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from .errors import BuildError, PolicyprintError

MANIFEST = "manifest.json"
LOCK = ".lock"
# Names the tool keeps for itself inside output/ besides the files it records.
RESERVED = (MANIFEST, LOCK, f".{MANIFEST}.tmp")
TMP_SUFFIX = ".policyprint.tmp"


class OutputRefused(PolicyprintError):
    """output/ is not safe to write: a symlink, foreign files, a bad lock file (exit 2)."""

    exit_code = 2


class OutputFault(BuildError):
    """The system refused a write: disk full, read-only, name too long (exit 1)."""


def describe_os_error(exc: OSError, doing: str = "cannot write") -> str:
    """One line for an OSError: what failed, on which file (shortened), and the system's reason."""
    name = errno.errorcode.get(exc.errno or 0, "")
    reason = f"{exc.strerror or exc}" + (f" ({name})" if name else "")
    where = str(exc.filename) if exc.filename else ""
    if len(where) > 120:
        where = f"{where[:60]}…{where[-40:]} ({len(where):,} characters)"
    return f"{doing} {where}: {reason}" if where else f"{doing}: {reason}"


def tmp_name(rel: str) -> str:
    """The temporary file that stands in for `rel` while it is written (same folder)."""
    path = PurePosixPath(rel)
    return (path.parent / f".{path.name}{TMP_SUFFIX}").as_posix()


def contained(base: Path, rel: str) -> Path:
    """base/rel, refused unless it resolves (links followed) to a path inside base."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or any(p in ("", ".", "..") for p in parts) \
            or "\\" in rel or "\0" in rel:
        raise OutputRefused(f"refused to write {rel!r}: not a plain path inside {base.name}/")
    real_base = os.path.realpath(base)
    target = os.path.realpath(base / rel)
    if os.path.commonpath([real_base, target]) != real_base or target == real_base:
        raise OutputRefused(f"refused to write {base.name}/{rel}: it resolves to {target}, outside {base.name}/")
    return base / rel


def _sha256(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


@contextmanager
def _signals_deferred():
    """Hold Ctrl-C and SIGTERM for the few milliseconds a file and its manifest entry change."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (ValueError, OSError):   # not the main thread: nothing to hold
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Output:
    """output/ and its manifest: contained, atomic, true at every moment."""

    def __init__(self, path: Path, tool: str):
        self.path = path
        self.tool = tool
        self.entries: dict[str, dict] = {}
        self.built_from = ""
        self.flags: dict[str, bool] = {}
        self._json: dict[str, str] = {}   # each entry serialised once: a save only joins them
        # The catalogue's files (HTML, CSS, thumbnails; policyprint/catalogue.py), by path: the
        # manifest's "site" list. Ours like the PDFs, but not publications (no pages, no status).
        self.site: dict[str, dict] = {}

    # ---- opening -------------------------------------------------------------

    @classmethod
    def open(cls, root: Path, tool: str, create: bool = True) -> "Output":
        """output/ under root, refused if it is a link or not a folder; its manifest loaded."""
        path = root / "output"
        refuse_link(path)
        if create:
            try:
                path.mkdir(exist_ok=True)
            except OSError as exc:
                raise OutputFault(describe_os_error(exc, "cannot create")) from None
        out = cls(path, tool)
        out._load()
        return out

    def _load(self) -> None:
        manifest = self.path / MANIFEST
        mode = _lstat_mode(manifest, "cannot read")
        if mode is None:
            return
        if not stat.S_ISREG(mode):
            raise OutputRefused(f"{self.show(MANIFEST)} is not a regular file (a link or a folder); "
                                "policyprint does not follow it: remove it")
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            artifacts = data["artifacts"]
            self.entries = {str(a["path"]): a for a in artifacts}
            self.built_from = str(data.get("built_from", ""))
            self.site = {str(a["path"]): a for a in data.get("site", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise OutputRefused(f"{self.show(MANIFEST)} is not policyprint's manifest (it cannot be read as "
                                "one); move it away, with any files it described") from None
        except OSError as exc:
            raise OutputFault(describe_os_error(exc, "cannot read")) from None

    def show(self, rel: str = "") -> str:
        return f"output/{rel}"

    # ---- what is ours ------------------------------------------------------

    def own_names(self) -> set[str]:
        names = set(RESERVED)
        for rel in [*self.entries, *self.site]:
            names.add(rel)
            names.add(tmp_name(rel))
        return names

    def foreign_files(self) -> list[str]:
        """Files and links under output/ that the manifest does not record this tool writing."""
        own = self.own_names()
        foreign = []
        for folder, dirs, files in os.walk(self.path, followlinks=False):
            here = Path(folder)
            for name in sorted(dirs):
                if (here / name).is_symlink():
                    foreign.append((here / name).relative_to(self.path).as_posix())
            for name in sorted(files):
                rel = (here / name).relative_to(self.path).as_posix()
                if rel not in own or not stat.S_ISREG(os.lstat(here / name).st_mode):
                    foreign.append(rel)
        return sorted(foreign)

    def refuse_foreign(self) -> None:
        foreign = self.foreign_files()
        if foreign:
            shown = ", ".join(self.show(f) for f in foreign[:3]) + (f" and {len(foreign) - 3} more"
                                                                    if len(foreign) > 3 else "")
            raise OutputRefused(f"output/ holds {len(foreign)} file(s) that policyprint did not write ({shown}); "
                                "it writes only into a folder of its own: move them out of output/")

    # ---- the manifest --------------------------------------------------------

    def save(self, sync: bool = False) -> None:
        """Write manifest.json atomically: a fixed temporary name in output/, then a rename.

        A save during a build is not fsynced (a rename is atomic against kills; the
        PDFs and the final save are synced): it is made twice per file, and each
        entry is serialised only when it changes, so a save costs one join and one write.
        """
        head = {"tool": self.tool, "built_from": self.built_from, **self.flags}
        items = []
        for rel in sorted(self.entries):
            entry = self.entries[rel]
            cached = self._json.get(rel)
            if cached is None or cached[0] is not entry:
                cached = (entry, "    " + json.dumps(entry, ensure_ascii=False, indent=2).replace("\n", "\n    "))
                self._json[rel] = cached
            items.append(cached[1])
        for rel in [rel for rel in self._json if rel not in self.entries]:
            del self._json[rel]
        text = json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "artifacts": [\n' + \
            ",\n".join(items) + ("\n  ]" if items else "  ]")
        if self.site:
            site = [self.site[rel] for rel in sorted(self.site)]
            text += ',\n  "site": ' + json.dumps(site, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        text += "\n}\n"
        self._write_file(f".{MANIFEST}.tmp", MANIFEST, text.encode(), sync=sync)

    def _write_file(self, tmp_rel: str, rel: str, data: bytes, sync: bool = True) -> None:
        tmp = self.path / tmp_rel
        target = self.path / rel
        try:
            if os.path.lexists(tmp):
                _unlink_regular(tmp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    if sync:
                        os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            exc.filename = self.show(rel)  # the file the user knows, not its temporary name
            raise OutputFault(describe_os_error(exc)) from None

    # ---- changes, each one true at every moment --------------------------------

    def begin(self, flags: dict[str, bool], built_from: str | None = None) -> None:
        """Mark the manifest as describing a build under way."""
        self.flags = dict(flags)
        if built_from is not None:
            self.built_from = built_from
        self.save()

    def write(self, rel: str, data: bytes, artifact: dict) -> None:
        """Write output/rel atomically, marking its entry before and recording its checksum after."""
        target = contained(self.path, rel)
        with _signals_deferred():
            previous = self.entries.get(rel)
            self.entries[rel] = {"path": rel, "state": "writing"}
            try:
                self.save()
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise OutputFault(describe_os_error(exc, "cannot create")) from None
                contained(self.path, rel)   # again: a folder on the way may have become a link
                self._write_file(tmp_name(rel), rel, data)
            except BaseException:
                # The file was not replaced: its entry is what it was (or none), if the disk lets us say so.
                self._restore(rel, previous)
                raise
            self.entries[rel] = artifact
            self.save()

    def delete(self, rel: str) -> None:
        """Delete a file this tool wrote (recorded in the manifest); never anything else."""
        self._delete(rel, self.entries, save_after=True)

    def _delete(self, rel: str, table: dict, save_after: bool) -> None:
        """Delete output/rel, recorded in `table` (the PDFs' entries or the site's), marked
        "deleting" in the saved manifest while it goes."""
        if rel not in table:
            raise OutputRefused(f"refused to delete {self.show(rel)}: policyprint did not write it")
        target = contained(self.path, rel)
        with _signals_deferred():
            table[rel] = {**table[rel], "state": "deleting"}
            self.save()
            try:
                _unlink_regular(target)
            except OSError as exc:
                raise OutputFault(describe_os_error(exc, "cannot delete").replace(str(self.path), "output", 1)) \
                    from None
            del table[rel]
            if save_after:
                self.save()

    def write_site(self, rel: str, data: bytes) -> bool:
        """Write a catalogue file (output/rel) atomically, marked in the manifest's "site" list
        while it changes; an unchanged file is not written again. True if it was written."""
        digest = hashlib.sha256(data).hexdigest()
        entry = self.site.get(rel)
        if entry and entry.get("sha256") == digest and not entry.get("state") and (self.path / rel).is_file():
            return False
        target = contained(self.path, rel)
        with _signals_deferred():
            self.site[rel] = {"path": rel, "state": "writing"}
            self.save()
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputFault(describe_os_error(exc, "cannot create")) from None
            contained(self.path, rel)
            self._write_file(tmp_name(rel), rel, data, sync=False)
            self.site[rel] = {"path": rel, "bytes": len(data), "sha256": digest}
        return True

    def delete_site(self, rel: str) -> None:
        """Delete a catalogue file the manifest's "site" list records (e.g. an old thumbnail);
        the manifest is saved with the catalogue's next change."""
        self._delete(rel, self.site, save_after=False)

    def keep(self, rel: str, artifact: dict) -> None:
        """Record an unchanged file's full entry (saved with the next change)."""
        self.entries[rel] = artifact

    def _restore(self, rel: str, previous: dict | None) -> None:
        if previous is None:
            self.entries.pop(rel, None)
        else:
            self.entries[rel] = previous
        try:
            self.save()
        except OutputFault:
            pass   # the entry stays marked "writing": still true, and the next build settles it

    def settle(self) -> list[str]:
        """After a kill: remove this tool's temporary files and give marked entries their checksums.

        Returns the paths that were marked (their content is then recorded as found).
        """
        for name in (f".{MANIFEST}.tmp", *(tmp_name(rel) for rel in [*self.entries, *self.site])):
            path = self.path / name
            if os.path.lexists(path):
                contained(self.path, name)
                _unlink_regular(path)
        marked = [rel for rel, entry in self.entries.items() if entry.get("state")]
        for rel in [rel for rel in self.entries if rel not in marked]:
            path = contained(self.path, rel)
            if not path.is_file() or path.is_symlink():
                del self.entries[rel]   # deleted by hand since: the manifest lists what is on disk
        for rel in marked:
            path = contained(self.path, rel)
            if path.is_file() and not path.is_symlink():
                size, digest = _sha256(path)
                # Written by this tool, but which build's bytes is unknown: it is rebuilt when planned.
                self.entries[rel] = {"path": rel, "bytes": size, "sha256": digest, "unverified": True}
            else:
                del self.entries[rel]
        for rel, entry in list(self.site.items()):   # the catalogue's files: recorded as found
            path = contained(self.path, rel)
            if not path.is_file() or path.is_symlink():
                del self.site[rel]
            elif entry.get("state"):
                size, digest = _sha256(path)
                self.site[rel] = {"path": rel, "bytes": size, "sha256": digest}
        return marked

    def finish(self, built_from: str, stale: set[str], outdated: set[str] = frozenset()) -> None:
        """End a build: drop the flags, name the stale files and the out-of-date ones (built
        earlier, outside this build's selection, from inputs that have changed since), record
        what it was built from."""
        self.flags = {}
        self.built_from = built_from
        for rel, entry in list(self.entries.items()):
            if entry.get("status") == "out-of-date" and rel not in outdated:
                self.entries[rel] = {**entry, "status": "approved"}
            elif rel in outdated and not entry.get("stale"):
                self.entries[rel] = {**entry, "status": "out-of-date"}
        for rel in stale:
            entry = self.entries[rel]
            self.entries[rel] = {"path": rel, "stale": True, "bytes": entry.get("bytes"),
                                 "sha256": entry.get("sha256")}
        self.save(sync=True)

    # ---- checking ----------------------------------------------------------------

    def verify(self) -> list[str]:
        """Every difference between the manifest and the files on disk, one line each."""
        problems = []
        for rel, entry in sorted([*self.entries.items(), *self.site.items()]):
            path = self.path / rel
            if entry.get("state"):
                problems.append(f"{self.show(rel)}: marked {entry['state']!r} in manifest.json "
                                "(a build is running, or was stopped): run a build")
            elif not path.is_file() or path.is_symlink():
                problems.append(f"{self.show(rel)}: listed in manifest.json but missing")
            else:
                size, digest = _sha256(path)
                if digest != entry.get("sha256"):
                    problems.append(f"{self.show(rel)}: sha256 {digest[:12]}… differs from manifest.json's "
                                    f"{str(entry.get('sha256'))[:12]}… ({size} bytes; edited after the build?)")
        for rel in self.foreign_files():
            if rel not in RESERVED:
                problems.append(f"{self.show(rel)}: not in manifest.json (policyprint did not write it)")
        return problems


def _lstat_mode(path: Path, doing: str) -> int | None:
    """The path's own mode (a link is not followed), None when it does not exist; any other
    system error is one line naming the path."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputFault(describe_os_error(exc, doing)) from None


def refuse_link(path: Path) -> None:
    """Refuse output/ (or another folder the tool writes) that is a symlink or not a folder."""
    mode = _lstat_mode(path, "cannot use")
    if mode is None:
        return
    if stat.S_ISLNK(mode):
        raise OutputRefused(f"{path.name}/ is a symbolic link (to {os.readlink(path)}); policyprint writes only "
                            f"into a real folder of its own: replace the link with a folder")
    if not stat.S_ISDIR(mode):
        raise OutputRefused(f"{path.name} is not a folder: move it away")


def _unlink_regular(path: Path) -> None:
    """Delete a regular file or a symlink itself (never what it points to); refuse anything else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise OutputRefused(f"refused to delete {path}: it is a folder")
    path.unlink()


# ---- the lock -----------------------------------------------------------------

_LOCK_FD: int | None = None   # the open lock of the running build; forked workers close their copy


def close_inherited_lock() -> None:
    """In a forked worker: close the lock's file, so that only the build itself holds output/ locked."""
    if _LOCK_FD is not None:
        try:
            os.close(_LOCK_FD)
        except OSError:
            pass


def _open_lock(path: Path) -> int:
    shown = f"output/{path.name}"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputRefused(f"{shown} is a symbolic link; policyprint never follows it: remove it") from None
        if exc.errno == errno.EISDIR:
            raise OutputRefused(f"{shown} is a folder, not policyprint's lock file: remove it") from None
        raise OutputFault(describe_os_error(exc, "cannot open the lock").replace(str(path.parent), "output", 1)) \
            from None
    st = os.fstat(fd)
    held = os.pread(fd, 64, 0).strip() if stat.S_ISREG(st.st_mode) else b""
    problem = None
    if not stat.S_ISREG(st.st_mode):
        problem = "is not a regular file"
    elif st.st_nlink != 1:
        problem = "has other names (hard links)"
    elif st.st_size > 32 or (held and not held.isdigit()):
        problem = "holds something other than a build's process id"
    if problem:
        os.close(fd)
        raise OutputRefused(f"{shown} {problem}, so it is not policyprint's lock file: remove it")
    return fd


def _stamp(fd: int, text: str) -> None:
    """Write the holder's pid in place, padded to a fixed width: the lock file is never truncated."""
    os.pwrite(fd, f"{text:<12}\n".encode(), 0)


@contextmanager
def build_lock(output: Path, timeout: float, on_wait=None):
    """Hold an exclusive lock on output/ so that two builds never interleave their writes."""
    global _LOCK_FD
    refuse_link(output)
    try:
        output.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputFault(describe_os_error(exc, "cannot create")) from None
    fd = _open_lock(output / LOCK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            if on_wait:
                on_wait(holder)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise BuildError(f"another build (pid {holder}) is still writing {output}; "
                                         f"gave up after {timeout:g} s") from None
                    time.sleep(0.2)
        try:
            _stamp(fd, str(os.getpid()))
        except OSError as exc:
            raise OutputFault(describe_os_error(exc, "cannot write the lock")) from None
        _LOCK_FD = fd
        try:
            yield
        finally:
            _LOCK_FD = None
            try:
                _stamp(fd, "")
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
