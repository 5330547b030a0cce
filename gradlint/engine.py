"""files → parse once → facts → checks → suppressions → findings, across a process pool."""

from __future__ import annotations

import os
import re
import tokenize
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gradlint.config import Settings
from gradlint.finding import Finding, Span
from gradlint.fs import read_regular
from gradlint.prefilter import may_matter

# Below this many files a pool costs more to start than it saves.
POOL_THRESHOLD = 16


@dataclass(frozen=True)
class InternalError:
    path: str
    code: str  # the check that raised
    message: str

    def describe(self) -> str:
        """The one line the CLI prints (and the language server logs) for it."""
        if self.code.startswith("GL"):
            return f"gradlint: internal error: check {self.code} failed on {self.path}: {self.message}"
        # a stage of the engine (decode, parse, facts, worker): the file was not fully checked
        return f"gradlint: internal error: {self.path}: {self.code}: {self.message}"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    classes: dict = field(default_factory=dict)  # name → ClassSummary, for the project index
    calls: tuple = ()  # CallSummary of the calls of imported project functions, for the project index
    digest: str | None = None  # content hash of the bytes that were linted (the cache key)
    skipped: str | None = None  # not linted, and why (a file over max-file-size-kb)
    # False when the byte pre-filter spared the file its parse: it has no findings of its own, but its calls
    # of project functions are summarised late if a cross-file finding needs them (see _late_calls)
    summarised: bool = True


@dataclass
class RunResult:
    files: list[str]
    findings: list[Finding]
    errors: list[InternalError]
    skipped: list[str] = field(default_factory=list)  # "path: why" of files not linted
    by_path: dict = field(default_factory=dict, repr=False)  # each file's FileResult (run(reuse=...) takes them)


def decode(data: bytes) -> str:
    """Source bytes → text, honouring a PEP 263 cookie and a UTF-8 BOM (UnicodeDecodeError/SyntaxError on failure).

    The cookie is looked for in the first two lines as CPython counts them: a lone CR ends a line too
    (tokenize.detect_encoding would read a whole CR-only file as line 1 and find a cookie anywhere in it)."""
    try:
        encoding = source_encoding(data)
    except SyntaxError:
        data.decode("utf-8")  # no usable cookie: a UnicodeDecodeError says where the bad byte is
        raise
    return data.decode(encoding)


def source_encoding(data: bytes) -> str:
    """tokenize.detect_encoding over the first two lines as CPython splits them (SyntaxError on a bad cookie)."""
    lines = iter(_FIRST_LINES.findall(data, 0, _two_lines_end(data)))
    return tokenize.detect_encoding(lambda: next(lines, b""))[0]


_FIRST_LINES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BREAK = re.compile(rb"\r\n|\r|\n")


def _two_lines_end(data: bytes) -> int:
    first = _BREAK.search(data)
    second = _BREAK.search(data, first.end()) if first else None
    return second.end() if second else len(data)


LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line breaks libcst counts rows by (not \f or \x1c)


def read_lines(path: str) -> tuple[str, ...]:
    """A file's lines as the engine decodes them and the parser counts them; () if unreadable."""
    try:
        data = read_regular(Path(path))
    except OSError:
        return ()
    return lines_of_bytes(data)


def lines_of_bytes(data: bytes) -> tuple[str, ...]:
    """read_lines for bytes that are not (or no longer) a file: a file's content at a git revision."""
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError):
        text = data.decode("utf-8", "replace")
    return tuple(LINE_BREAK.split(text))


def _syntax_finding(path: str, message: str, row: int, column: int) -> Finding:
    return Finding("GL000", message, path, Span(row, column, row, column))


def _decode_error(path: str, data: bytes, exc: Exception) -> Finding:
    if isinstance(exc, UnicodeDecodeError):
        row, column = _row_column(data, exc.start)
        return _syntax_finding(path, f"cannot decode file as {exc.encoding}: {exc.reason}", row, column)
    return _syntax_finding(path, f"cannot decode file: {exc}", 1, 1)


PyCF_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST, without importing ast


def python_verdict(path: str, data: bytes | str) -> Finding | None:
    """CPython's own verdict on a file: None when `compile(..., PyCF_ONLY_AST)` accepts it, else its GL000.

    The running interpreter decides what is Python (its version, its recursion and integer-digit limits),
    with or without a framework token in the file. Its parser runs in C and refuses a pathological nesting
    cheaply (RecursionError, MemoryError) before libcst is ever handed the file."""
    import warnings

    try:
        with warnings.catch_warnings():  # a SyntaxWarning is neither printed nor, under -W error, a verdict
            warnings.simplefilter("ignore")
            compile(data, path, "exec", flags=PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: "source code string cannot contain null bytes" (3.11)
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        if "null bytes" in message:
            row, column = _position_of_nul(data)
        else:
            row, column = getattr(exc, "lineno", None) or 1, max(1, getattr(exc, "offset", None) or 1)
        return _syntax_finding(path, f"syntax error: {message}", row, column)
    except RecursionError:
        return _syntax_finding(path, f"{_TOO_DEEP[0]} (maximum recursion depth exceeded during ast construction)", 1, 1)
    except MemoryError:
        return _syntax_finding(path, f"{_TOO_DEEP[1]} (its parser ran out of stack)", 1, 1)
    return None


_TOO_DEEP = ("syntax error: too deeply nested for Python to parse", "syntax error: too complex for Python to parse")


def _position_of_nul(data: bytes | str) -> tuple[int, int]:
    at = data.find(b"\0" if isinstance(data, bytes) else "\0")
    if at < 0:
        return 1, 1
    return _row_column(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"), at)


def _row_column(data: bytes, at: int) -> tuple[int, int]:
    """The 1-based row and column of byte `at`, with CR, LF and CRLF all ending a line (as CPython counts)."""
    before = data[:at]
    breaks = list(_BREAK.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, at - start + 1


# libcst's parser recurses natively: handed a nesting that CPython accepts only under a raised recursion
# limit (a 5,000-link method chain), it overflows its stack. Under the default limit CPython refuses first.
SAFE_DEPTH = 1000  # recursion-limit units above the current frame (CPython allows ~3 AST levels per unit)


def _too_deep_for_libcst(data: bytes | str) -> bool:
    """Only where the recursion limit was raised: CPython's verdict under the default limit, from the current depth."""
    import sys

    depth = _stack_depth()
    limit = sys.getrecursionlimit()
    if limit - depth <= SAFE_DEPTH:
        return False  # CPython's verdict already ran under a budget this small
    sys.setrecursionlimit(depth + SAFE_DEPTH)
    try:
        rejected = python_verdict("<depth>", data)
    finally:
        sys.setrecursionlimit(limit)
    return rejected is not None and rejected.message.startswith(_TOO_DEEP)


def _stack_depth() -> int:
    import sys

    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


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


def lint_source(path: str, data: bytes, settings: Settings, codes: frozenset[str], package: str = "",
                reparser=None) -> FileResult:
    """Everything for one file, in process: the unit of work of the pool. `reparser` (a reparse.Reparser
    that saw this file's last version: the language server's) parses only the statements an edit touched.

    GL000 is CPython's verdict (python_verdict), taken before libcst sees the file. A file CPython accepts
    that gradlint cannot analyse (libcst refuses it, a fact builder raises) is an internal error, not GL000."""
    result = FileResult(path)
    text = _judged(path, data, codes, result)
    if text is None:
        return result
    import libcst as cst

    if _too_deep_for_libcst(data):
        result.errors.append(InternalError(path, "parse", "not analysed: nested too deeply for libcst's parser"))
        return result
    try:
        module = reparser.parse(text, lambda whole: _parse(cst, whole)) if reparser is not None else _parse(cst, text)
    except Exception as exc:  # CPython accepts the file: libcst's refusal is gradlint's failure, not the user's
        reason = exc.message if isinstance(exc, cst.ParserSyntaxError) else f"{type(exc).__name__}: {exc}"
        result.errors.append(InternalError(path, "parse", f"not analysed: libcst cannot parse this valid Python ({_first_line(reason)})"))
        return result
    try:
        layouts = reparser.layouts if reparser is not None else None
        try:
            _analyse(result, module, text, settings, codes, package, layouts)
        except RecursionError:
            result = _deep(lambda: _analyse(FileResult(path), module, text, settings, codes, package, layouts))
    except Exception as exc:  # the facts builder (a check's own failure is isolated inside _analyse)
        result = FileResult(path, errors=[InternalError(path, "facts", f"{type(exc).__name__}: {_first_line(str(exc))}")])
    return result


def _parse(cst, text: str):
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError:
        # CPython (3.11) accepts a backslash continuation before a final CRLF; libcst wants a line after it.
        if not text.endswith("\\\r\n"):
            raise
        return cst.parse_module(text + "\r\n")


def _first_line(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[0][:300] if lines else ""


def _judged(path: str, data: bytes, codes: frozenset[str], result: FileResult) -> str | None:
    """The decoded text when CPython accepts the file; else None, with its GL000 (if selected) in `result`.

    A file that skips itself (`# gradlint: skip-file`) gets neither."""
    from gradlint import suppress

    try:
        text, problem = decode(data), None
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        text, problem = None, exc
    if text is not None and suppress.skips_file(text):
        return None
    rejected = python_verdict(path, data)
    if rejected is None and text is not None:
        return text
    if rejected is None:  # CPython decodes what gradlint could not: our failure
        result.errors.append(InternalError(path, "decode", f"{type(problem).__name__}: {problem}"))
    elif "GL000" in codes:
        result.findings.append(_decode_error(path, data, problem) if problem is not None else rejected)
    return None


def _analyse(result: FileResult, module, text: str, settings: Settings, codes: frozenset[str], package: str,
             layouts: dict | None = None) -> FileResult:
    """Facts, then every check; a RecursionError escapes, so that lint_source can retry with a deeper stack.
    `layouts`: positions of the module's statements already laid out (reparse.Reparser's)."""
    from gradlint import checks, suppress
    from gradlint.facts.builder import build
    from gradlint.facts.context import TRAINING_BANDS, quiet_in_tests
    from gradlint.facts.traits import summarise, summarise_calls

    facts = build(module, result.path, package)
    facts.layouts = layouts
    result.classes = summarise(facts)
    result.calls = summarise_calls(facts)
    lines = text.splitlines()
    if quiet_in_tests(facts):
        codes = frozenset(c for c in codes if not c.startswith(TRAINING_BANDS))
    raw: list[Finding] = []  # before suppression: what GL001 needs to tell a used directive from a stale one
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
        raw.extend(found)
        result.findings.extend(f for f in found if settings.ignore_noqa or not suppress.is_suppressed(f, lines))
    result.findings.extend(_unused_directives(result.path, text, raw, codes, settings))
    return result


def _unused_directives(path: str, text: str, raw: list[Finding], codes: frozenset[str], settings: Settings):
    """GL001 (when selected, and noqa comments are honoured): the directives that silenced nothing."""
    if "GL001" not in codes or settings.ignore_noqa:
        return []
    from gradlint.checks.unused_noqa import unused

    return unused(path, text, raw, codes)


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
              prefilter: bool = True, reparser=None) -> FileResult:
    display = _display_path(path)
    if data is None:
        try:
            data = read_regular(path)
        except OSError as exc:
            return _unreadable(display, exc)
    result = _lint_bytes(path, display, data, settings, codes, prefilter, reparser)
    result.digest = content_digest(data)
    return result


def content_digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _lint_bytes(path: Path, display: str, data: bytes, settings: Settings, codes: frozenset[str],
                prefilter: bool, reparser=None) -> FileResult:
    active = active_codes(path, settings, codes)
    if path.suffix == ".ipynb":
        return _lint_notebook(path, display, data, settings, active, prefilter, reparser)
    if len(data) > settings.max_file_size_kb * 1024:
        return _too_big(display, len(data), settings)
    if prefilter and not may_matter(data):
        return _syntax_only(display, data, active, settings)
    return lint_source(display, data, settings, active, package_of(path), reparser)


def _lint_notebook(path: Path, display: str, data: bytes, settings: Settings, codes: frozenset[str],
                   prefilter: bool, reparser=None) -> FileResult:
    from gradlint import notebook

    try:
        book = notebook.load(data)
    except notebook.NotebookError as exc:
        return FileResult(display, findings=[_syntax_finding(display, str(exc), 1, 1)] if "GL000" in codes else [])
    source = book.source.encode("utf-8")
    if len(source) > settings.max_file_size_kb * 1024:
        return _too_big(display, len(source), settings, "of code ")
    if book.kernel is not None and python_verdict(display, source) is not None:
        # Written for Python 2 and not Python 3: nothing here can be analysed, and a GL000 per notebook would
        # be noise about a choice the author made on purpose. Said in one line, like a file over the size cap.
        return FileResult(display, skipped=f"a {book.kernel} notebook that Python 3 cannot parse; not linted")
    if prefilter and not may_matter(source):
        result = _syntax_only(display, source, codes, settings)
    else:
        result = lint_source(display, source, settings, codes, package_of(path), reparser)
    result.findings = [book.map_finding(f) for f in result.findings]
    return result


def _too_big(display: str, size: int, settings: Settings, what: str = "") -> FileResult:
    """A file far beyond any training script (a data dump saved as .py): skipped, said in one line."""
    return FileResult(display, skipped=f"{size / 1024:,.0f} KiB {what}is above max-file-size-kb = "
                                       f"{settings.max_file_size_kb}; not linted")


def active_codes(path: Path, settings: Settings, codes: frozenset[str]) -> frozenset[str]:
    """The enabled codes minus this file's per-file-ignores (each relative to the config that declares it)."""
    if not settings.per_file_ignores:
        return codes
    ignored = settings.ignored_for(Path(path))
    return frozenset(c for c in codes if not any(c.startswith(i) for i in ignored))


def _syntax_only(path: str, data: bytes, codes: frozenset[str], settings: Settings | None = None) -> FileResult:
    """A file no rule could care about: only GL000, CPython's verdict (much cheaper than a CST), and GL001
    for its gradlint directives, which can have nothing to silence here."""
    result = FileResult(path, summarised=False)
    wants_unused = "GL001" in codes and settings is not None and (b"noqa" in data.lower() or b"gradlint:" in data)
    if "GL000" in codes or wants_unused:
        text = _judged(path, data, codes, result)
        if text is not None and wants_unused:
            result.findings.extend(_unused_directives(path, text, [], codes, settings))
    return result


def _lint_chunk(args) -> list[FileResult]:
    """(items, prefilter): each item is (path, its settings, its enabled codes, its bytes or None: read it)."""
    items, prefilter = args
    return [_lint_isolated(path, settings, codes, prefilter, data) for path, settings, codes, data in items]


def _lint_isolated(path: Path, settings: Settings, codes: frozenset[str], prefilter: bool,
                   data: bytes | None = None) -> FileResult:
    """lint_file, with any failure of any stage costing this file an internal error, never the run."""
    try:
        return lint_file(path, settings, codes, data=data, prefilter=prefilter)
    except Exception as exc:
        return _failed(path, "engine", f"{type(exc).__name__}: {_first_line(str(exc))}")


def _failed(path: Path, stage: str, message: str) -> FileResult:
    try:
        display = _display_path(path)
    except Exception:
        display = str(path)
    return FileResult(display, errors=[InternalError(display, stage, message)])


def _lint_in_pool(todo: list[tuple], prefilter: bool, jobs: int, progress=None) -> list[FileResult]:
    """Chunks across worker processes. A worker that dies (a native crash) breaks the pool: the chunks it
    left undone are linted again one file per fresh process, so only the file that kills its process is lost."""
    from concurrent.futures.process import BrokenProcessPool

    size = max(1, min(64, len(todo) // (jobs * 8)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    fresh: list[FileResult] = []
    undone: list[tuple] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_lint_chunk, (c, prefilter)) for c in chunks]
        for chunk, future in zip(chunks, futures):
            try:
                batch = future.result()
            except BrokenProcessPool:
                undone.extend(chunk)
                fresh.extend([None] * len(chunk))  # filled in below, in order
                continue
            fresh.extend(batch)
            if progress is not None:
                progress(len(chunk))
    if undone:
        alone = iter(_lint_alone(item, prefilter) for item in undone)
        fresh = [result if result is not None else next(alone) for result in fresh]
    return fresh


def _lint_alone(item: tuple, prefilter: bool) -> FileResult:
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(_lint_chunk, ([item], prefilter)).result()[0]
    except BrokenProcessPool:
        return _failed(item[0], "worker", "the process linting this file crashed (a native stack overflow?)")


def run(files: list[Path], settings: Settings, jobs: int | None = None, use_cache: bool = False,
        cache_dir: Path | None = None, prefilter: bool = True, settings_of=None,
        sources: dict[Path, bytes] | None = None, reuse: dict | None = None, progress=None) -> RunResult:
    """Lint `files`: each with `settings_of(path)` when given (hierarchical config: config.Resolver's
    settings_for), else all with `settings`. `settings` also places the cache. `sources` lints some
    files with other bytes than they have on disk (--diff-since: as they were at a git revision); those
    are neither read from the cache nor written to it. `reuse` hands over results of an earlier run
    (RunResult.by_path) for files that are the same now: --diff-since lints only what changed twice.
    `progress(n)` is told each time n more files are done (the CLI's bar on a terminal)."""
    sources, reuse = sources or {}, reuse or {}
    cores = os.cpu_count() or 1
    jobs = max(1, min(jobs or cores, cores, len(files) or 1))  # more processes than cores or files only cost
    groups: dict[int, tuple[Settings, frozenset[str], object]] = {}  # id(settings) → (settings, codes, cache)
    caches_by_digest: dict[str, object] = {}  # one Cache per cache file, shared by equal settings

    def group(path: Path):
        own = settings_of(path) if settings_of is not None else settings
        found = groups.get(id(own))
        if found is None:
            codes = own.enabled_codes()
            cache = None
            if use_cache:
                from gradlint.cache import Cache, default_dir, settings_digest

                digest = settings_digest(own, codes)
                cache = caches_by_digest.get(digest)
                if cache is None:
                    cache = caches_by_digest[digest] = Cache(cache_dir or default_dir(settings), digest)
            found = groups[id(own)] = (own, codes, cache)
        return found

    done: dict[Path, FileResult] = {}
    todo: list[tuple] = []  # paths only: the workers read the files (the main process keeps no bytes)
    caches: dict[Path, object] = {}
    for path in files:
        if path in reuse and path not in sources:
            done[path] = reuse[path]
            continue
        own, codes, cache = group(path)
        if path in sources:
            todo.append((path, own, codes, sources[path]))
            continue
        if cache is not None:
            caches[path] = cache
            try:
                hit = cache.get(path, content_digest(read_regular(path)), _display_path(path))
            except Exception:
                hit = None  # the worker reports the read error; a broken cache entry is a miss
            if hit is not None:
                done[path] = hit
                continue
        todo.append((path, own, codes, None))
    if progress is not None and len(files) > len(todo):
        progress(len(files) - len(todo))  # from the cache, or reused
    if len(todo) < POOL_THRESHOLD or jobs == 1:
        fresh = []
        for start in range(0, len(todo), 64):  # in slices, so that a bar can move
            fresh.extend(_lint_chunk((todo[start:start + 64], prefilter)))
            if progress is not None:
                progress(len(todo[start:start + 64]))
    else:
        fresh = _lint_in_pool(todo, prefilter, jobs, progress)
    for (path, _, _, _), result in zip(todo, fresh):
        done[path] = result
        cache = caches.get(path)
        if cache is not None and result.digest is not None:
            cache.put(path, result.digest, result)  # keyed by the bytes the worker really linted
    for cache in caches_by_digest.values():
        cache.save()
    results = [done[p] for p in files]
    findings = sorted(_resolve_cross_file(results), key=lambda f: f.sort_key)
    errors = [e for r in results for e in r.errors]
    return RunResult([r.path for r in results], findings, errors, [f"{r.path}: {r.skipped}" for r in results if r.skipped],
                     by_path=done)


def run_source(data: bytes, display: str, settings: Settings) -> RunResult:
    """Lint code that is not a file on disk (stdin, an editor buffer) under the name `display`."""
    codes = active_codes(Path(display), settings, settings.enabled_codes())
    try:
        if display.endswith(".ipynb"):
            result = _lint_notebook(Path(display), display, data, settings, codes, prefilter=False)
        else:
            result = lint_source(display, data, settings, codes)
    except Exception as exc:
        result = FileResult(display, errors=[InternalError(display, "engine", f"{type(exc).__name__}: {exc}")])
    return RunResult([display], sorted(_resolve_cross_file([result]), key=lambda f: f.sort_key), result.errors)


def resolve(results: list[FileResult], context: list[FileResult] = ()) -> list[Finding]:
    """The findings of `results`, cross-file ones judged against the classes of `results` and `context` (the
    other files of the project, whose own findings are not wanted: an editor's workspace)."""
    return sorted(_resolve_cross_file(results, context), key=lambda f: f.sort_key)


def _resolve_cross_file(results: list[FileResult], context: list[FileResult] = ()):
    """Findings that depend on classes of other files stand only if the project index proves the risk."""
    from dataclasses import replace

    from gradlint.checks import fit_message
    from gradlint.project import ProjectIndex, module_keys

    index = None
    unsummarised: list[FileResult] = []
    for result in results:
        for found in result.findings:
            if not found.needs:
                yield found
                continue
            if index is None:
                index = ProjectIndex()
                for other in (*results, *context):
                    index.add(module_keys(other.path), other.classes)
                    index.add_calls(other.calls)
                unsummarised = [other for other in (*results, *context) if not other.summarised]
            evidence = next(filter(None, (_proof(index, need, found.path) for need in found.needs)), None)
            if evidence is None and unsummarised and any(need.startswith("param:") for need in found.needs):
                # the call that binds the parameter may sit in a file the pre-filter did not parse (a main.py
                # that imports only the project's modules): summarise those that name the function, once
                names = {need.split(":")[2] for need in found.needs if need.startswith("param:")}
                late = [other for other in unsummarised if _names_any(other.path, names)]
                for other in late:
                    index.add_calls(_late_calls(other.path))
                    unsummarised.remove(other)
                if late:
                    evidence = next(filter(None, (_proof(index, need, found.path) for need in found.needs)), None)
            if evidence is not None:
                yield replace(found, message=fit_message(found.message.replace("{evidence}", evidence)), needs=())


def _names_any(path: str, names: set[str]) -> bool:
    try:
        data = read_regular(Path(path))
    except OSError:
        return False
    return any(name.encode() in data for name in names)


def _late_calls(path: str) -> tuple:
    """The call summaries of a file the pre-filter spared its parse (it had no framework token): parsed now,
    for a cross-file finding that waits on them. A file that does not parse summarises nothing."""
    try:
        data = read_regular(Path(path))
        if path.endswith(".ipynb"):
            from gradlint import notebook

            data = notebook.load(data).source.encode("utf-8")
        import libcst as cst

        from gradlint.facts.builder import build
        from gradlint.facts.traits import summarise_calls

        return summarise_calls(build(_parse(cst, decode(data)), path, package_of(Path(path))))
    except Exception:  # unreadable, undecodable, unparsable, or a builder failure: nothing to add
        return ()


def _proof(index, need: str, path: str) -> str | None:
    """What the project index says for one need of a cross-file finding, or None if it does not prove it:
    `output:<kind>:<class>` wants that class's forward to return a <kind>; a bare class name wants it to
    be (or build) a recurrent/attention model."""
    if need.startswith("output:"):
        _, kind, ref = need.split(":", 2)
        found = index.output(ref, path)
        return found[1] if found is not None and found[0] == kind else None
    if need.startswith("param:"):
        _, kind, function, position, name = need.split(":", 4)
        found = index.param_output(function, int(position), name, path)
        return found[1] if found is not None and found[0] == kind else None
    evidence = index.evidence(need, path)
    return f"the model {evidence}" if evidence is not None else None


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):  # RuntimeError: a symlink loop (3.11's resolve)
        return path.as_posix()
