"""The cache of code compiled as classes are defined (lanner.cli.codecache): a
cached class is the class Python builds without it, and the file is kept by the
rules of bytecode."""

from __future__ import annotations

import dataclasses
import importlib
import marshal
import os
import re
import subprocess
import sys
import textwrap
import types
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.cli import codecache

# Classes defined in a module without `from __future__ import annotations`, as
# dataclasses and pydantic_core define theirs: each definition runs this anew.
DEFINITIONS = textwrap.dedent(
    """
    import dataclasses
    from typing import Any, TypedDict

    @dataclasses.dataclass(frozen=True, slots=True)
    class Frozen:
        name: str
        size: int = 0
        tags: tuple[str, ...] = ()

    @dataclasses.dataclass(order=True)
    class Ordered:
        a: int
        b: "list[int]" = dataclasses.field(default_factory=list)

    class Schema(TypedDict, total=False):
        type: "str"
        items: "list[Schema] | None"
        extra: "dict[str, Any]"
    """
)


def define() -> dict[str, Any]:
    module = types.ModuleType("codecache_probe")
    sys.modules[module.__name__] = module  # dataclasses looks the class's module up
    try:
        exec(compile(DEFINITIONS, "probe", "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


def codes(namespace: dict[str, Any]) -> list[object]:
    """Every code object and annotation the definitions produced."""
    out: list[object] = []
    for name in ("Frozen", "Ordered"):
        cls = namespace[name]
        for attr in ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__", "__lt__"):
            function = cls.__dict__.get(attr)
            if function is not None:
                out += [attr, function.__code__, function.__annotations__]
    hints = namespace["Schema"].__annotations__
    out += [(k, v.__forward_code__) for k, v in hints.items() if isinstance(v, typing.ForwardRef)]
    return out


@pytest.fixture
def uninstalled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The builtins back after the test; bytecode may be written (PYTHONDONTWRITEBYTECODE
    may be set where the tests run)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    yield
    codecache.uninstall()


def test_a_cached_class_is_the_class_built_without_the_cache(
    tmp_path: Path, uninstalled: None
) -> None:
    plain = codes(define())
    path = str(tmp_path / "cache")
    first = codecache.install(codecache.CodeCache(path))
    assert codes(define()) == plain
    assert first.pending
    first.save()
    second = codecache.install(codecache.CodeCache(path))
    cached = define()
    assert codes(cached) == plain
    assert not second.pending  # every text was found
    frozen = cached["Frozen"]("x", 2)
    assert repr(frozen) == "Frozen(name='x', size=2, tags=())"
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.name = "y"
    assert cached["Ordered"](1) < cached["Ordered"](2)


def test_other_compiles_go_to_the_builtin(tmp_path: Path, uninstalled: None) -> None:
    cache = codecache.install(codecache.CodeCache(str(tmp_path / "cache")))
    code = typing.compile("x = 1", "file.py", "exec")  # type: ignore[attr-defined]
    assert code.co_filename == "file.py"
    with pytest.raises(SyntaxError):
        typing.ForwardRef("not an expression")
    assert not cache.pending


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not marshal data",
        marshal.dumps(((b"\x00\x00\r\n", 0), {("exec", "x = 1"): b"junk"})),
        marshal.dumps([1, 2, 3]),
    ],
)
def test_an_unreadable_or_foreign_file_is_ignored(
    tmp_path: Path, content: bytes, uninstalled: None
) -> None:
    path = tmp_path / "cache"
    path.write_bytes(content)
    plain = codes(define())
    cache = codecache.install(codecache.CodeCache(str(path)))
    assert codes(define()) == plain
    assert cache.pending


def test_a_corrupt_entry_is_compiled_again(tmp_path: Path, uninstalled: None) -> None:
    path = tmp_path / "cache"
    codecache.install(codecache.CodeCache(str(path))).code("eval", "1 + 1")
    source = ("eval", "1 + 2")
    path.write_bytes(marshal.dumps((codecache._header(), {source: b"\xff broken"})))
    cache = codecache.CodeCache(str(path))
    assert eval(cache.code(*source)) == 3
    assert cache.pending


def test_nothing_is_written_without_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninstalled: None
) -> None:
    path = tmp_path / "cache"
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = codecache.install(codecache.CodeCache(str(path)))
    define()
    assert not cache.pending
    cache.save()
    assert not path.exists()


def test_a_file_that_cannot_be_written_is_left_alone(tmp_path: Path, uninstalled: None) -> None:
    path = tmp_path / "file" / "cache"
    (tmp_path / "file").write_text("a file where the directory would be")
    cache = codecache.install(codecache.CodeCache(str(path)))
    define()
    cache.save()  # no error
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_the_file_lives_with_lanners_bytecode() -> None:
    path = codecache.cache_path()
    assert path is not None
    import lanner

    assert Path(path).parent == Path(lanner.__file__).parent / "__pycache__"
    assert sys.implementation.cache_tag in Path(path).name


def test_lanner_run_writes_the_cache_and_reads_it(tmp_path: Path) -> None:
    """Under a pycache prefix (so that the checkout is left alone), a first `lanner run`
    writes the cache and a second one finds every text in it."""
    flow = tmp_path / "one.yml"
    flow.write_text(
        "id: one\nnamespace: demo\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
    )
    probe = textwrap.dedent(
        """
        import os, sys
        from lanner.cli import codecache
        saved = [0]
        save = codecache.CodeCache.save
        def recording(self):
            saved[0] = len(self._new)
            save(self)
        codecache.CodeCache.save = recording
        exit_ = os._exit
        def leave(code):
            print(saved[0], codecache.cache_path(), flush=True)
            exit_(code)
        os._exit = leave
        sys.argv = ["lanner", "run", sys.argv[1]]
        from lanner.cli.launch import main
        main()
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"LANNER_HOME": str(tmp_path), "PYTHONPYCACHEPREFIX": str(tmp_path / "pyc")}
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", probe, str(flow)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.splitlines()[-1].split(" ", 1))
    (compiled, path), (again, same_path) = outputs
    assert path == same_path and path.startswith(str(tmp_path / "pyc"))
    assert int(compiled) > 0 and Path(path).exists()
    assert int(again) == 0  # the first run left nothing to compile, so nothing to save
    _, entries = marshal.loads(Path(path).read_bytes())
    assert any(mode.startswith("re") for mode, _ in entries)  # the imports' patterns


def _module_with_patterns(directory: Path, tag: str) -> str:
    """A module that compiles patterns as it is imported (new texts for each test:
    `re` keeps its own compiled patterns for the process)."""
    name = f"codecache_patterns_{tag}"
    (directory / f"{name}.py").write_text(
        textwrap.dedent(
            f"""
            import re
            NAMED = re.compile(r"(?P<word>[a-z]+)-(\\d+)-{tag}", re.IGNORECASE)
            WIDE = re.compile("[^\\x09\\x0A\\x20-\\x7E\\xA0-\\uD7FF\\U00010000-\\U0010ffff]{tag}")
            """
        )
    )
    return name


def _import_fresh(name: str) -> Any:
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def test_a_pattern_compiled_by_an_import_is_cached_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninstalled: None
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    name = _module_with_patterns(tmp_path, uuid.uuid4().hex)
    plain = _import_fresh(name)
    re.purge()
    path = str(tmp_path / "cache")
    first = codecache.install(codecache.CodeCache(path))
    _import_fresh(name)
    assert first.pending
    first.save()
    re.purge()
    second = codecache.install(codecache.CodeCache(path))
    cached = _import_fresh(name)
    assert not second.pending  # both patterns came from the file
    for attr in ("NAMED", "WIDE"):
        assert getattr(cached, attr) == getattr(plain, attr)
        assert getattr(cached, attr).groupindex == getattr(plain, attr).groupindex
    match = cached.NAMED.search(f"x ABC-42-{name.rsplit('_', 1)[1]}")
    assert match is not None and match.group("word", 2) == ("ABC", "42")
    sys.modules.pop(name, None)


def test_a_pattern_compiled_outside_an_import_is_not_kept(
    tmp_path: Path, uninstalled: None
) -> None:
    """An expression's pattern may be made of a secret: only modules' patterns are kept."""
    cache = codecache.install(codecache.CodeCache(str(tmp_path / "cache")))
    pattern = re.compile(f"secret-{uuid.uuid4().hex}-(\\d+)")
    assert pattern.match(pattern.pattern.replace("(\\d+)", "7")) is not None
    assert not cache.pending


def test_a_corrupt_pattern_entry_is_compiled_again(tmp_path: Path, uninstalled: None) -> None:
    text = f"broken-{uuid.uuid4().hex}"
    key = (codecache._REGEX_MODE, f"0:{text}")
    path = tmp_path / "cache"
    path.write_bytes(marshal.dumps((codecache._header(), {key: marshal.dumps((0, [1, 2], 0))})))
    codecache.install(codecache.CodeCache(str(path)))
    assert re.compile(text).match(text) is not None
