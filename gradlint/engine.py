"""files → parse once → facts → checks → suppressions → findings, across a process pool."""

from __future__ import annotations

import io
import os
import re
import tokenize
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gradlint.config import Settings
from gradlint.finding import Finding, Span
from gradlint.prefilter import may_matter

# Below this many files a pool costs more to start than it saves.
POOL_THRESHOLD = 16


@dataclass(frozen=True)
class InternalError:
    path: str
    code: str  # the check that raised
    message: str


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    classes: dict = field(default_factory=dict)  # name → ClassSummary, for the project index
    digest: str | None = None  # content hash of the bytes that were linted (the cache key)


@dataclass
class RunResult:
    files: list[str]
    findings: list[Finding]
    errors: list[InternalError]


def decode(data: bytes) -> str:
    """Source bytes → text, honouring a PEP 263 cookie and a UTF-8 BOM (UnicodeDecodeError/SyntaxError on failure)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        data.decode("utf-8")  # no usable cookie: a UnicodeDecodeError says where the bad byte is
        raise
    return data.decode(encoding)


LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line breaks libcst counts rows by (not \f or \x1c)


def read_lines(path: str) -> tuple[str, ...]:
    """A file's lines as the engine decodes them and the parser counts them; () if unreadable."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return ()
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError):
        text = data.decode("utf-8", "replace")
    return tuple(LINE_BREAK.split(text))


def _syntax_finding(path: str, message: str, row: int, column: int) -> Finding:
    return Finding("GL000", message, path, Span(row, column, row, column))


def _decode_error(path: str, data: bytes, exc: Exception) -> Finding:
    if isinstance(exc, UnicodeDecodeError):
        before = data[: exc.start]
        row = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return _syntax_finding(path, f"cannot decode file as {exc.encoding}: {exc.reason}", row, column)
    return _syntax_finding(path, f"cannot decode file: {exc}", 1, 1)


def _parse_error(path: str, text: str, exc) -> Finding:
    """CPython's own message and position where it rejects the file too (clearer than the CST parser's)."""
    try:
        compile(text, path, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except SyntaxError as python_error:
        if python_error.lineno:
            return _syntax_finding(path, f"syntax error: {python_error.msg}", python_error.lineno,
                                   max(1, python_error.offset or 1))
    except (ValueError, RecursionError, MemoryError):
        pass
    return _syntax_finding(path, f"syntax error: {exc.message}", exc.editor_line, exc.editor_column)


def package_of(path: Path) -> str:
    """The dotted package a file belongs to (folders with __init__.py), for relative imports."""
    return _package_of_folder(path.resolve().parent)


@lru_cache(maxsize=4096)
def _package_of_folder(folder: Path) -> str:
    """Asked once per folder, not once per file: every file of a package shares the answer."""
    if not (folder / "__init__.py").is_file():
        return ""
    parent = _package_of_folder(folder.parent) if folder.parent != folder else ""
    return f"{parent}.{folder.name}" if parent else folder.name


def lint_source(path: str, data: bytes, settings: Settings, codes: frozenset[str], package: str = "") -> FileResult:
    """Everything for one file, in process: the unit of work of the pool."""
    import libcst as cst

    from gradlint import suppress

    result = FileResult(path)
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        if "GL000" in codes:
            result.findings.append(_decode_error(path, data, exc))
        return result
    if suppress.skips_file(text):
        return result
    if _nesting(text) > MAX_NESTING:
        rejected = _syntax_only(path, data, frozenset({"GL000"})).findings
        if rejected:  # CPython refuses it too ("too many nested parentheses"); libcst would crawl, then crash
            result.findings.extend(rejected if "GL000" in codes else [])
            return result
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if "GL000" in codes:
            result.findings.append(_parse_error(path, text, exc))
        return result
    except (RecursionError, MemoryError) as exc:
        result.findings.append(_syntax_finding(path, f"cannot parse file: {type(exc).__name__}", 1, 1))
        return result
    try:
        _analyse(result, module, text, settings, codes, package)
    except RecursionError:
        result = _deep(lambda: _analyse(FileResult(path), module, text, settings, codes, package))
    return result


def _analyse(result: FileResult, module, text: str, settings: Settings, codes: frozenset[str], package: str) -> FileResult:
    """Facts, then every check; a RecursionError escapes, so that lint_source can retry with a deeper stack."""
    from gradlint import checks, suppress
    from gradlint.facts.builder import build
    from gradlint.facts.context import TRAINING_BANDS, quiet_in_tests
    from gradlint.facts.traits import summarise

    facts = build(module, result.path, package)
    result.classes = summarise(facts)
    lines = text.splitlines()
    if quiet_in_tests(facts):
        codes = frozenset(c for c in codes if not c.startswith(TRAINING_BANDS))
    for code in sorted(codes):
        try:
            check = checks.load(code)
            if check is None:
                continue
            found = list(check(facts, settings))
        except RecursionError:
            raise
        except Exception as exc:  # an isolated bug in one check must not stop the run
            result.errors.append(InternalError(result.path, code, f"{type(exc).__name__}: {exc}"))
            continue
        result.findings.extend(f for f in found if not suppress.is_suppressed(f, lines))
    return result


# CPython's tokenizer refuses more than 200 nested brackets. libcst's native parser accepts more, but slows
# down super-linearly (1,000 nested calls: 11 s) and overflows its stack (a segfault) near 3,000.
MAX_NESTING = 200
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")


def _nesting(text: str) -> int:
    """The deepest bracket nesting, counting brackets in strings and comments too (so: an upper bound)."""
    if text.count("(") + text.count("[") + text.count("{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", text):
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _deep(work):
    """Run `work` on a thread with a 512 MiB stack and a 50,000-frame limit: a 5,000-term sum is valid code."""
    import sys
    import threading

    outcome = {}

    def target():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    limit, size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(limit, 50_000))
    threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(size)
        sys.setrecursionlimit(limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _unreadable(display: str, exc: OSError) -> FileResult:
    return FileResult(display, findings=[_syntax_finding(display, f"cannot read file: {exc.strerror}", 1, 1)])


def lint_file(path: Path, settings: Settings, codes: frozenset[str], data: bytes | None = None,
              prefilter: bool = True) -> FileResult:
    display = _display_path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return _unreadable(display, exc)
    result = _lint_bytes(path, display, data, settings, codes, prefilter)
    result.digest = content_digest(data)
    return result


def content_digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _lint_bytes(path: Path, display: str, data: bytes, settings: Settings, codes: frozenset[str],
                prefilter: bool) -> FileResult:
    active = active_codes(path, settings, codes)
    if path.suffix == ".ipynb":
        return _lint_notebook(path, display, data, settings, active, prefilter)
    if prefilter and not may_matter(data):
        return _syntax_only(display, data, active)
    return lint_source(display, data, settings, active, package_of(path))


def _lint_notebook(path: Path, display: str, data: bytes, settings: Settings, codes: frozenset[str],
                   prefilter: bool) -> FileResult:
    from gradlint import notebook

    try:
        book = notebook.load(data)
    except notebook.NotebookError as exc:
        return FileResult(display, findings=[_syntax_finding(display, str(exc), 1, 1)] if "GL000" in codes else [])
    source = book.source.encode("utf-8")
    if prefilter and not may_matter(source):
        result = _syntax_only(display, source, codes)
    else:
        result = lint_source(display, source, settings, codes, package_of(path))
    result.findings = [book.map_finding(f) for f in result.findings]
    return result


def active_codes(path: Path, settings: Settings, codes: frozenset[str]) -> frozenset[str]:
    """The enabled codes minus this file's per-file-ignores."""
    ignored = settings.ignored_for(_relative_to_root(path, settings))
    return frozenset(c for c in codes if not any(c.startswith(i) for i in ignored))


def _syntax_only(path: str, data: bytes, codes: frozenset[str]) -> FileResult:
    """A file no rule could care about: only GL000, with CPython's parser (much cheaper than a CST)."""
    result = FileResult(path)
    if "GL000" not in codes:
        return result
    try:
        text = decode(data)
        compile(text, path, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except (UnicodeDecodeError, LookupError) as exc:
        result.findings.append(_decode_error(path, data, exc))
    except SyntaxError as exc:
        if exc.lineno is None:  # a bad coding cookie, from detect_encoding
            result.findings.append(_decode_error(path, data, exc))
        elif not _skips(text):
            result.findings.append(_syntax_finding(path, f"syntax error: {exc.msg}", exc.lineno, max(1, exc.offset or 1)))
    except (ValueError, RecursionError, MemoryError) as exc:
        result.findings.append(_syntax_finding(path, f"cannot parse file: {type(exc).__name__}", 1, 1))
    return result


def _skips(text: str) -> bool:
    from gradlint.suppress import skips_file

    return skips_file(text)


def _lint_chunk(args) -> list[FileResult]:
    paths, settings, codes, prefilter = args
    return [lint_file(path, settings, codes, prefilter=prefilter) for path in paths]


def run(files: list[Path], settings: Settings, jobs: int | None = None, use_cache: bool = False,
        cache_dir: Path | None = None, prefilter: bool = True) -> RunResult:
    codes = settings.enabled_codes()
    jobs = jobs or os.cpu_count() or 1
    cache = None
    if use_cache:
        from gradlint.cache import Cache, default_dir, settings_digest

        cache = Cache(cache_dir or default_dir(settings), settings_digest(settings, codes))
    done: dict[Path, FileResult] = {}
    todo: list[Path] = []  # paths only: the workers read the files (the main process keeps no bytes)
    for path in files:
        if cache is not None:
            try:
                hit = cache.get(path, content_digest(path.read_bytes()), _display_path(path))
            except OSError:
                hit = None  # the worker reports the read error
            if hit is not None:
                done[path] = hit
                continue
        todo.append(path)
    if len(todo) < POOL_THRESHOLD or jobs == 1:
        fresh = _lint_chunk((todo, settings, codes, prefilter))
    else:
        size = max(1, min(64, len(todo) // (jobs * 8)))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            batches = pool.map(_lint_chunk, [(c, settings, codes, prefilter) for c in chunks])
            fresh = [r for batch in batches for r in batch]
    for path, result in zip(todo, fresh):
        done[path] = result
        if cache is not None and result.digest is not None:
            cache.put(path, result.digest, result)  # keyed by the bytes the worker really linted
    if cache is not None:
        cache.save()
    results = [done[p] for p in files]
    findings = sorted(_resolve_cross_file(results), key=lambda f: f.sort_key)
    errors = [e for r in results for e in r.errors]
    return RunResult([r.path for r in results], findings, errors)


def run_source(data: bytes, display: str, settings: Settings) -> RunResult:
    """Lint code that is not a file on disk (stdin, an editor buffer) under the name `display`."""
    codes = active_codes(Path(display), settings, settings.enabled_codes())
    if display.endswith(".ipynb"):
        result = _lint_notebook(Path(display), display, data, settings, codes, prefilter=False)
    else:
        result = lint_source(display, data, settings, codes)
    return RunResult([display], sorted(_resolve_cross_file([result]), key=lambda f: f.sort_key), result.errors)


def _resolve_cross_file(results: list[FileResult]):
    """Findings that depend on classes of other files stand only if the project index proves the risk."""
    from dataclasses import replace

    from gradlint.project import ProjectIndex, module_keys

    index = None
    for result in results:
        for found in result.findings:
            if not found.needs:
                yield found
                continue
            if index is None:
                index = ProjectIndex()
                for other in results:
                    index.add(module_keys(other.path), other.classes)
            evidence = next(filter(None, (index.evidence(ref, found.path) for ref in found.needs)), None)
            if evidence is not None:
                yield replace(found, message=found.message.replace("{evidence}", f"the model {evidence}"), needs=())


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _relative_to_root(path: Path, settings: Settings) -> str:
    try:
        return path.resolve().relative_to(Path(settings.root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()
