"""``toto-bench import``: bring published results folders into ``results/<suite>/`` after validation.

A source is an upstream results folder (``<root>/<model>/all_results.csv`` [+ ``config.json``]) or one
model folder, given as

- a local path;
- ``hf://datasets/<owner>/<name>[@<revision>]/<path>``: that folder of a Hugging Face dataset repo, fetched
  with ``huggingface_hub.snapshot_download(repo_type="dataset", allow_patterns=["<path>/**"])`` (the
  hub cache and ``HF_HUB_OFFLINE`` apply as usual);
- ``http(s)://...`` a ``.zip`` / ``.tar.gz`` / ``.tgz`` / ``.tar`` archive (e.g. a GitHub archive of a
  repo), downloaded with ``urllib`` and unpacked in a temporary folder. ``URL#sub/folder`` points inside.

Inside the source the model folders are found wherever they are: the source itself when it holds
``all_results.csv``, else the one folder below it whose sub-folders hold ``all_results.csv`` (two
candidates are an error naming them). TIME also takes TIME-Output trees
(``<model>/<dataset>/<freq>/<term>/metrics.npz``).

Every model is validated with the suite's loader before anything is written (BOOM: the 7413 configs of
the properties file; GIFT-Eval: its 97 configs; TIME: task keys of the TIME suite; columns, duplicates,
non-numeric cells; ``config.json`` must be a JSON object). One bad file stops the import and names the
file and the problem. Then each model is copied byte for byte to
``<results-root>/<suite>/<model>/`` — ``all_results.csv``, ``config.json`` when present, and
``import.json`` (source, sha256 of every file copied, UTC date, toto-bench version) — through a temporary
folder renamed into place, so a model folder is never half-written. An existing model folder is only
replaced with ``force``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from toto_bench import __version__
from toto_bench.boards.time_output import read_time_output
from toto_bench.engine.results import (
    CONFIG_FILENAME,
    RESULTS_ALIASES,
    RESULTS_FILENAME,
    ResultsError,
    check_configs,
    read_model_config,
    read_results_csv,
    results_file,
)
from toto_bench.engine.store import write_json_atomic
from toto_bench.suites import get_suite, locate_properties
from toto_bench.suites.boom import BoomProperties

__all__ = [
    "IMPORT_SUITES",
    "PROVENANCE_FILENAME",
    "PUBLISHED",
    "DownloadError",
    "ImportLimits",
    "ImportedModel",
    "ModelSource",
    "PublishedResults",
    "find_model_folders",
    "import_results",
    "materialize",
    "offline_hint",
    "published_source",
    "run_import",
]

#: Suites ``toto-bench import`` accepts.
IMPORT_SUITES: tuple[str, ...] = ("boom", "gift-eval", "time")

#: Provenance note written beside each imported model's files.
PROVENANCE_FILENAME = "import.json"


_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")

Say = Callable[[str], None]


@dataclass(frozen=True)
class ModelSource:
    """One model folder of a source: its name and the files to copy (relative path → file)."""

    name: str
    folder: Path
    results: Path | None  # all_results.csv (or an alias); None for a TIME-Output tree
    config: Path | None
    tree: tuple[Path, ...] = ()  # TIME-Output files (metrics.npz and their config.json)

    def files(self) -> dict[str, Path]:
        """Destination name (relative to the model folder) → source file."""
        out: dict[str, Path] = {}
        if self.results is not None:
            out[RESULTS_FILENAME] = self.results
        if self.config is not None:
            out[CONFIG_FILENAME] = self.config
        for path in self.tree:
            out[path.relative_to(self.folder).as_posix()] = path
        return out


@dataclass(frozen=True)
class ImportedModel:
    """A model written by :func:`import_results`."""

    name: str
    target: Path
    sha256: str  # of all_results.csv, or of the file list for a TIME-Output tree
    replaced: bool


# --------------------------------------------------------------------------------------------------
# sources


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_hf(url: str) -> tuple[str, str | None, str]:
    """``hf://datasets/<owner>/<name>[@rev]/<path>`` → ``(repo_id, revision, path)``."""
    rest = url[len("hf://") :]
    kind, _, rest = rest.partition("/")
    parts = [p for p in rest.split("/") if p]
    if kind != "datasets" or len(parts) < 2:
        raise ResultsError(
            f"{url}: expected hf://datasets/<owner>/<name>[@<revision>]/<path> (a dataset repo folder)"
        )
    name, _, revision = parts[1].partition("@")
    return f"{parts[0]}/{name}", revision or None, "/".join(parts[2:])


def _fetch_hf(url: str) -> Path:
    repo_id, revision, sub = _parse_hf(url)
    if ".." in sub.split("/"):
        raise ResultsError(f"{url}: the path {sub!r} must stay inside the repo (no '..' parts)")
    import huggingface_hub

    try:
        snapshot = huggingface_hub.snapshot_download(
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            allow_patterns=[f"{sub}/**"] if sub else None,
        )
    except Exception as exc:  # network, auth, offline cache miss: all reported the same way
        raise ResultsError(
            f"{url}: could not fetch {repo_id!r} (repo_type=dataset): {type(exc).__name__}: {exc}. "
            "If the Hub is unreachable, download the folder elsewhere and pass its local path."
        ) from exc
    local = Path(snapshot) / sub
    if not local.resolve().is_relative_to(Path(snapshot).resolve()):
        raise ResultsError(f"{url}: the path {sub!r} leads outside the snapshot of {repo_id!r}")
    if not local.is_dir():
        raise ResultsError(f"{url}: no folder {sub!r} in {repo_id!r} (revision {revision or 'main'})")
    return local


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on what an ``http(s)://`` import downloads and unpacks (checked before anything is written).

    The defaults hold every published results archive seen (the BOOM repo's results are ~70 MB unpacked,
    GIFT-Eval's 121 folders a few MB); ``--max-download-mb``, ``--max-unpacked-mb`` and ``--max-files``
    raise them.

    Attributes:
        download_bytes: the archive's size.
        unpacked_bytes: total uncompressed size of the members extracted.
        members: number of members extracted.
    """

    download_bytes: int = 256 << 20
    unpacked_bytes: int = 1 << 30
    members: int = 20_000


def _check_members(archive: Path, sizes: Sequence[int], limits: ImportLimits, inner: str) -> None:
    where = f" under {inner!r}" if inner else ""
    if len(sizes) > limits.members:
        raise ResultsError(
            f"{archive}: {len(sizes)} members{where}, more than the limit of {limits.members}; "
            f"point inside with URL#sub/folder or raise --max-files"
        )
    total = sum(sizes)
    if total > limits.unpacked_bytes:
        raise ResultsError(
            f"{archive}: {total / 2**20:.1f} MiB uncompressed{where}, more than the limit of "
            f"{limits.unpacked_bytes / 2**20:.0f} MiB; point inside with URL#sub/folder or raise "
            f"--max-unpacked-mb"
        )


def _selected(name: str, inner: str) -> bool:
    """Whether archive member ``name`` lies in the requested sub-folder ``inner`` (all when empty)."""
    if not inner:
        return True
    prefix = inner.strip("/") + "/"
    return name == inner.strip("/") or name.startswith(prefix)


def _safe_extract_zip(archive: Path, dest: Path, limits: ImportLimits, inner: str = "") -> None:
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        members = [info for info in zf.infolist() if _selected(info.filename, inner)]
        for info in members:
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(root):
                raise ResultsError(f"{archive}: member {info.filename!r} would be written outside the folder")
        _check_members(archive, [info.file_size for info in members], limits, inner)
        budget = limits.unpacked_bytes
        for info in members:  # the declared sizes may lie: count what is really written
            target = dest / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise ResultsError(
                            f"{archive}: more than {limits.unpacked_bytes / 2**20:.0f} MiB uncompressed "
                            f"(its headers declare less); raise --max-unpacked-mb if it is genuine"
                        )
                    out.write(chunk)


def _safe_extract_tar(archive: Path, dest: Path, limits: ImportLimits, inner: str = "") -> None:
    with tarfile.open(archive) as tf:
        members = [m for m in tf.getmembers() if _selected(m.name, inner)]
        _check_members(archive, [m.size for m in members if m.isfile()], limits, inner)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuses links out, devices, absolute paths
            try:
                tf.extractall(dest, members=members, filter="data")
            except tarfile.FilterError as exc:
                raise ResultsError(f"{archive}: unsafe member ({exc})") from exc
            return
        root = dest.resolve()  # pragma: no cover - older 3.11 patch releases
        for member in members:
            if not (member.isfile() or member.isdir()) or not (dest / member.name).resolve().is_relative_to(
                root
            ):
                raise ResultsError(f"{archive}: unsafe member {member.name!r}")
        tf.extractall(dest, members=members)


class DownloadError(ResultsError):
    """An http(s) source could not be fetched (offline, unreachable, HTTP error)."""


@dataclass(frozen=True)
class PublishedResults:
    """Where a suite's official published results live: a GitHub repository folder at a revision."""

    suite: str
    repo: str  # owner/name on GitHub
    folder: str  # the results folder inside the repository
    revision: str  # pinned default (the revision the shared reference copy was taken at)

    def archive_url(self, revision: str | None = None) -> str:
        """The GitHub archive (``.tar.gz``) of the repository at ``revision`` (default: the pinned one)."""
        return f"https://github.com/{self.repo}/archive/{revision or self.revision}.tar.gz"

    def inner(self, revision: str | None = None) -> str:
        """The results folder inside that archive: ``<repo name>-<revision>/<folder>``."""
        return f"{self.repo.split('/')[1]}-{revision or self.revision}/{self.folder}"


#: The official published results of each suite (``toto-bench import --published``). The default revisions
#: are those of the project's reference copies (``../shared/data/boom/MANIFEST.md``,
#: ``../shared/data/gift-eval/SOURCES.md``).
PUBLISHED: dict[str, PublishedResults] = {
    "boom": PublishedResults(
        "boom", "DataDog/toto", "boom/results", "46bd92adeeef6b3c2afb21008659f607fa203e38"
    ),
    "gift-eval": PublishedResults(
        "gift-eval", "SalesforceAIResearch/gift-eval", "results", "4fd98a9f803a0266f062737281555ddcd220bf81"
    ),
}


def published_source(suite: str, revision: str | None = None, url: str | None = None) -> str:
    """The ``--from`` source of the published results of ``suite``: ``<archive URL>#<inner folder>``.

    ``url`` replaces the GitHub archive address (``{rev}`` in it is replaced by the revision), e.g. a mirror.

    Raises:
        ValueError: a suite without published results (naming the valid ones).
    """
    if suite not in PUBLISHED:
        raise ValueError(f"--published is for {', '.join(PUBLISHED)}, not {suite!r}")
    published = PUBLISHED[suite]
    rev = revision or published.revision
    address = url.replace("{rev}", rev) if url else published.archive_url(rev)
    return f"{address}#{published.inner(rev)}"


def offline_hint(suite: str, revision: str | None = None) -> str:
    """What to download by hand when ``--published`` cannot reach GitHub, and the ``--from`` to run then."""
    published = PUBLISHED[suite]
    rev = revision or published.revision
    archive = f"{published.repo.split('/')[1]}-{rev}.tar.gz"
    return (
        f"download {published.archive_url(rev)} by hand (browser, or: curl -L -o {archive} "
        f"{published.archive_url(rev)}), unpack it (tar xzf {archive}), then run: toto-bench import "
        f"--suite {suite} --from {published.inner(rev)}"
    )


def _download(address: str, archive: Path, limits: ImportLimits) -> None:
    """Stream ``address`` into ``archive``, stopping at ``limits.download_bytes``."""
    request = urllib.request.Request(address, headers={"User-Agent": f"toto-bench/{__version__}"})
    cap = limits.download_bytes
    too_big = (
        f"{address}: the download is larger than the limit of {cap / 2**20:.0f} MiB; raise --max-download-mb "
        f"if the archive is genuine"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response, archive.open("wb") as fh:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > cap:
                raise ResultsError(too_big)
            written = 0
            while chunk := response.read(1 << 20):
                written += len(chunk)
                if written > cap:
                    raise ResultsError(too_big)
                fh.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if isinstance(exc, ResultsError):
            raise
        raise DownloadError(f"{address}: download failed ({type(exc).__name__}: {exc})") from exc


def _fetch_archive(url: str, workdir: Path, limits: ImportLimits | None = None) -> Path:
    limits = limits or ImportLimits()
    address, _, inner = url.partition("#")
    name = Path(urllib.parse.urlparse(address).path).name or "download"
    archive = workdir / name
    _download(address, archive, limits)
    dest = workdir / "unpacked"
    dest.mkdir()
    lowered = name.lower()
    if lowered.endswith(".zip") or (not lowered.endswith(_ARCHIVE_SUFFIXES) and zipfile.is_zipfile(archive)):
        try:
            _safe_extract_zip(archive, dest, limits, inner)
        except zipfile.BadZipFile as exc:
            raise ResultsError(f"{address}: not a valid zip archive ({exc})") from exc
    elif lowered.endswith(_ARCHIVE_SUFFIXES) or tarfile.is_tarfile(archive):
        try:
            _safe_extract_tar(archive, dest, limits, inner)
        except tarfile.TarError as exc:
            raise ResultsError(f"{address}: not a valid tar archive ({exc})") from exc
    else:
        raise ResultsError(
            f"{address}: not an archive; expected one of {', '.join(_ARCHIVE_SUFFIXES)} (or a local folder)"
        )
    local = dest / inner if inner else dest
    if not local.resolve().is_relative_to(dest.resolve()) or not local.is_dir():
        raise ResultsError(f"{url}: no folder {inner!r} in the archive")
    return local


def materialize(source: str, workdir: Path, limits: ImportLimits | None = None) -> Path:
    """A local folder holding ``source``: the path itself, an ``hf://`` snapshot, or an unpacked archive.

    ``workdir`` is an empty temporary folder for downloads (the caller removes it); ``limits`` bound an
    archive's download and unpacking (default :class:`ImportLimits`).
    """
    if source.startswith("hf://"):
        return _fetch_hf(source)
    if source.startswith(("http://", "https://")):
        return _fetch_archive(source, workdir, limits)
    if "://" in source:
        raise ResultsError(
            f"{source}: unsupported URL scheme; valid: a local path, hf://datasets/..., http(s)://"
        )
    path = Path(source).expanduser()
    if not path.is_dir():
        raise ResultsError(f"{path}: no such folder")
    return path


# --------------------------------------------------------------------------------------------------
# discovery and validation


def _time_tree(folder: Path) -> tuple[Path, ...]:
    npz = sorted(folder.glob("*/*/*/metrics.npz"))
    extra = sorted(p.with_name(CONFIG_FILENAME) for p in npz if p.with_name(CONFIG_FILENAME).is_file())
    return tuple(sorted([*npz, *extra]))


def _model(folder: Path, suite: str) -> ModelSource | None:
    results = results_file(folder)  # the boards' lookup; the copy is always all_results.csv
    config = folder / CONFIG_FILENAME
    if results is not None:
        return ModelSource(folder.name, folder, results, config if config.is_file() else None)
    if suite == "time":
        tree = _time_tree(folder)
        if tree:
            return ModelSource(folder.name, folder, None, None, tree)
    return None


def find_model_folders(root: Path, suite: str) -> dict[str, ModelSource]:
    """The model folders of a source folder, ``{name: ModelSource}`` sorted by name (module docstring).

    Raises:
        ResultsError: no model folder anywhere below ``root``, or several candidate results folders.
    """
    single = _model(root, suite)
    if single is not None:
        return {single.name: single}
    parents: set[Path] = set()
    for name in RESULTS_ALIASES:
        parents.update(p.parent.parent for p in root.rglob(name))
    if suite == "time":
        parents.update(p.parents[4] for p in root.rglob("metrics.npz") if len(p.relative_to(root).parts) >= 5)
    if not parents:
        raise ResultsError(f"{root}: no <model>/{RESULTS_FILENAME} found below it")
    if len(parents) > 1:
        shown = ", ".join(str(p.relative_to(root)) or "." for p in sorted(parents)[:5])
        raise ResultsError(
            f"{root}: several folders hold <model>/{RESULTS_FILENAME} ({shown}); point at one "
            "(a URL takes #sub/folder)"
        )
    parent = parents.pop()
    found = {}
    for sub in sorted(p for p in parent.iterdir() if p.is_dir()):
        model = _model(sub, suite)
        if model is not None:
            found[model.name] = model
    return found


def _expected_configs(suite: str, properties: Path | None) -> list[str] | None:
    if suite == "boom":
        if properties is None:
            raise ValueError("suite 'boom' needs its properties file (--properties) to validate the configs")
        return BoomProperties.from_json(properties).configs()
    return list(get_suite(suite).configs())


def validate_model(model: ModelSource, suite: str, expected: Sequence[str] | None) -> None:
    """Check one model with the suite's loader; raise :class:`ResultsError` naming the file and problem."""
    if model.results is not None:
        frame = read_results_csv(model.results)
        if suite == "time":
            unknown = [c for c in frame.index if expected is not None and c not in set(expected)]
            if unknown:
                raise ResultsError(
                    f"{model.results}: {len(unknown)} task key(s) not in the TIME suite, e.g. {unknown[:5]}"
                )
        elif expected is not None:
            check_configs(frame, expected, source=str(model.results))
    else:
        read_time_output(model.folder)
    if model.config is not None:
        read_model_config(model.config)


# --------------------------------------------------------------------------------------------------
# writing


def _write_model(model: ModelSource, dest_root: Path, source: str, suite: str, force: bool) -> ImportedModel:
    final = dest_root / model.name
    tmp = dest_root / f".{model.name}.import-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        digests: dict[str, str] = {}
        for rel, path in model.files().items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            digests[rel] = _sha256(target)
        if RESULTS_FILENAME in digests:
            main_digest = digests[RESULTS_FILENAME]
        else:
            listing = "".join(f"{rel}\t{digests[rel]}\n" for rel in sorted(digests))
            main_digest = hashlib.sha256(listing.encode()).hexdigest()
        write_json_atomic(
            tmp / PROVENANCE_FILENAME,
            {
                "suite": suite,
                "model": model.name,
                "source": source,
                "source_folder": str(model.folder),
                "source_results_file": model.results.name if model.results is not None else None,
                "sha256": main_digest,
                "files": digests,
                "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "toto_bench_version": __version__,
            },
        )
        replaced = final.exists()
        if replaced:
            if not force:  # checked before; a folder that appeared meanwhile is not overwritten
                raise ResultsError(f"{final} exists; pass --force to replace it")
            old = dest_root / f".{model.name}.old-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return ImportedModel(model.name, final, main_digest, replaced)


def import_results(
    suite: str,
    source: str,
    *,
    results_root: str | os.PathLike[str] = "results",
    models: Collection[str] | None = None,
    force: bool = False,
    properties: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    say: Say | None = None,
    limits: ImportLimits | None = None,
) -> list[ImportedModel]:
    """Validate every model of ``source`` for ``suite``, then copy them to ``<results_root>/<suite>/``.

    Args:
        suite: one of :data:`IMPORT_SUITES`.
        source: local folder, ``hf://datasets/...`` or ``http(s)://`` archive (module docstring).
        results_root: the results root (``results``); models land in ``<results_root>/<suite>/<model>``.
        models: import only these model (folder) names; an absent one is an error listing those found.
        force: replace model folders that already exist (else: error naming them, nothing written).
        properties, data_dir: BOOM properties file, or where to look for it (default: beside the source
            folder, ``$BOOM``, the cache; see :func:`toto_bench.suites.locate_properties`).
        say: receives one progress line per model.
        limits: bounds on an archive's download and unpacking (default :class:`ImportLimits`).

    Returns:
        the models written, in name order.

    Raises:
        ResultsError: a source, file or destination problem (named); nothing is written then.
        ValueError: unknown suite.
    """
    if suite not in IMPORT_SUITES:
        raise ValueError(f"unknown suite {suite!r} for import; valid: {', '.join(IMPORT_SUITES)}")
    with tempfile.TemporaryDirectory(prefix="toto-bench-import-") as work:
        root = materialize(source, Path(work), limits)
        found = find_model_folders(root, suite)
        if models is not None:
            absent = sorted(set(models) - found.keys())
            if absent:
                raise ResultsError(
                    f"{source}: requested model(s) {absent} not found; available: {sorted(found)}"
                )
            found = {name: m for name, m in found.items() if name in set(models)}
        props = None
        if suite == "boom":
            props = locate_properties(
                "boom",
                properties=properties,
                data_dir=data_dir,
                results_dirs=[next(iter(found.values())).folder.parent],
            )
        expected = _expected_configs(suite, props)
        problems: list[str] = []
        for model in found.values():
            try:
                validate_model(model, suite, expected)
            except ResultsError as exc:
                problems.append(str(exc))
        if problems:
            raise ResultsError(
                f"{len(problems)} of {len(found)} model(s) failed validation; nothing was imported:\n  "
                + "\n  ".join(problems)
            )
        dest_root = Path(results_root) / suite
        existing = sorted(name for name in found if (dest_root / name).exists())
        if existing and not force:
            raise ResultsError(
                f"{len(existing)} model(s) already in {dest_root}: {', '.join(existing)}; "
                "pass --force to replace them, or --models to import the others"
            )
        dest_root.mkdir(parents=True, exist_ok=True)
        source_label = source if "://" in source else str(Path(source).expanduser().resolve())
        done = []
        for model in found.values():
            imported = _write_model(model, dest_root, source_label, suite, force)
            if say is not None:
                verb = "replaced" if imported.replaced else "imported"
                say(f"{verb} {imported.target} (sha256 {imported.sha256[:12]})")
            done.append(imported)
        return done


def run_import(args: argparse.Namespace) -> int:
    """``toto-bench import`` handler: import, print one line per model and a summary."""
    models = None
    if args.models:
        models = [m.strip() for value in args.models for m in value.split(",") if m.strip()]
    published = getattr(args, "published", False)
    if published == (args.source is not None):
        raise ValueError("give exactly one of --from PATH_OR_URL and --published")
    if not published and (args.revision or args.published_url):
        raise ValueError("--revision and --published-url go with --published")
    source = published_source(args.suite, args.revision, args.published_url) if published else args.source
    try:
        done = _import_from(args, source, models)
    except DownloadError as exc:
        if not published:
            raise
        raise DownloadError(f"{exc}; {offline_hint(args.suite, args.revision)}") from exc
    target = Path(args.results_root) / args.suite
    print(
        f"{len(done)} {args.suite} model(s) imported into {target}; compare with: toto-bench leaderboard "
        f"--suite {args.suite} --results-dir {target}"
    )
    return 0


def _import_from(args: argparse.Namespace, source: str, models: list[str] | None) -> list[ImportedModel]:
    return import_results(
        args.suite,
        source,
        results_root=args.results_root,
        models=models,
        force=args.force,
        properties=args.properties,
        data_dir=args.data_dir,
        say=lambda line: print(line, file=sys.stderr),
        limits=ImportLimits(
            download_bytes=int(args.max_download_mb * 2**20),
            unpacked_bytes=int(args.max_unpacked_mb * 2**20),
            members=args.max_files,
        ),
    )
