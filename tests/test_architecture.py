"""The shape of the code: no import circles, no arrow up the layers, no click in the core.

Every module of companion/ is read with `ast`; an import anywhere in it (at the top,
inside a function, under `if TYPE_CHECKING:`) is an arrow. A new module must be given a
layer below, which is the point: deciding where it sits is part of adding it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import companion

ROOT = Path(companion.__file__).parent

# The layers, from the bottom up. A module may import its own layer and the ones below it,
# never one above: the store never asks the daemon anything, and the CLI is on top.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {  # words, time, places, settings, the one database
            "companion",
            "companion.errors",
            "companion.logs",
            "companion.vocab",
            "companion.clock",
            "companion.paths",
            "companion.resources",
            "companion.packs",
            "companion.zones",
            "companion.dates",
            "companion.config",
            "companion.store",
            "companion.cipher_db",
            "companion.crisis_match",  # a text matcher that config checks patterns with
            "companion.regex_code",  # compiled regular expressions kept between processes
            "companion.crisis_cache",  # the crisis rules, compiled once, kept in the state folder
            "companion.crisis_concepts",  # crisis language by concepts, after the patterns
            "companion.crisis_model",  # the learnt second opinion beside the crisis rules
            "companion.wording",  # counts and durations in words (plural, duration)
            "companion.tags",  # #words in any text, read by the store
            "companion.records",  # the shapes of data that cross modules
        },
    ),
    (
        "adapters",
        {  # the outside things: sound, speech, notifications, models
            "companion.adapters",
            "companion.adapters.notify",
            "companion.adapters.speaker",
            "companion.adapters.speaker_child",  # the speaking child: standard library only
            "companion.adapters.recognizer",
            "companion.adapters.microphone",
            "companion.adapters.models",
            "companion.audio",
            "companion.adapters.opener",
        },
    ),
    (
        "logic",
        {  # what companion does, without knowing who runs it
            "companion.checkins",
            "companion.progress",
            "companion.content",
            "companion.safety",
            "companion.sessions",
            "companion.brief",
            "companion.brief_sections",
            "companion.brief_html",
            "companion.transfer",
            "companion.privacy",
            "companion.journal",
            "companion.speech",
            "companion.voice",
            "companion.aftercare",
            "companion.crypto",
            "companion.process",
            "companion.app",
            "companion.recurrence",
            "companion.schema",
            "companion.pending_file",
            "companion.brief_text",
            "companion.editing",
            "companion.session_notes",
        },
    ),
    (
        "app",
        {  # the long-running daemon and what checks or installs it
            "companion.daemon",
            "companion.voice_checkin",
            "companion.service",
            "companion.doctor",
            "companion.listener",  # the daemon's listening process: the model and the microphone
        },
    ),
    ("cli", {"companion.__main__", "companion.cli"}),  # and every companion.cli.* module
]

# Known exceptions, each one a finding of the checks below, worded as they report it:
# the lead removes these (modules being reshaped for issue 10). A fixed one must be taken
# out of this set (a test says so), so it cannot come back unnoticed.
KNOWN_EXCEPTIONS: set[str] = set()  # the lead removed the last ones


def module_files() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("companion", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = module_files()
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def imported_names(
    module: str, tree: ast.Module, modules: dict[str, Path] = MODULES
) -> Iterator[str]:
    """Every dotted name `module` imports, relative imports resolved (all levels)."""
    package = module if modules[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base


def graph() -> dict[str, set[str]]:
    """companion module -> the companion modules it imports."""
    return {
        m: {n for n in imported_names(m, t) if n in MODULES and n != m} for m, t in TREES.items()
    }


def layer_of(module: str) -> int:
    if module.startswith("companion.cli."):
        module = "companion.cli"
    for rank, (_, members) in enumerate(LAYERS):
        if module in members:
            return rank
    raise AssertionError(f"{module} has no layer: add it to LAYERS in {__file__}")


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def package_reexport(group: list[str]) -> bool:
    """A package importing its own submodules (cli/__init__ registering commands) is not
    a circle of design: the submodules import siblings, not the package."""
    return all(m == group[0] or m.startswith(group[0] + ".") for m in group)


def upward_arrows(edges: dict[str, set[str]]) -> list[str]:
    return [
        f"{m} imports {n} ({LAYERS[layer_of(m)][0]} -> {LAYERS[layer_of(n)][0]})"
        for m in sorted(edges)
        for n in sorted(edges[m])
        if layer_of(n) > layer_of(m)
    ]


def click_in_core() -> list[str]:
    """Core modules take questions and output as callables; only the CLI imports click."""
    return [
        f"{m} imports click"
        for m, tree in sorted(TREES.items())
        if layer_of(m) < layer_of("companion.cli")
        and any(n == "click" or n.startswith("click.") for n in imported_names(m, tree))
    ]


def function_level_imports(tree: ast.Module) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return found


def says_why_at_the_top(path: Path, tree: ast.Module) -> bool:
    """A '# Lazy imports:' comment before the module's first statement after its docstring."""
    has_doc = ast.get_docstring(tree) is not None
    first = tree.body[1 if has_doc else 0] if len(tree.body) > has_doc else None
    head = path.read_text(encoding="utf-8").splitlines()[: first.lineno if first else None]
    return any(line.startswith("# Lazy imports:") for line in head)


def unexplained_lazy_imports() -> list[str]:
    """A module that imports inside functions says why in one comment at its top."""
    return [
        f"{m} has function-level imports but no '# Lazy imports:' comment"
        for m, tree in sorted(TREES.items())
        if function_level_imports(tree) and not says_why_at_the_top(MODULES[m], tree)
    ]


def findings() -> set[str]:
    return set(upward_arrows(graph()) + click_in_core() + unexplained_lazy_imports())


# ---------------------------------------------------------------------------- the tests
def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_there_is_no_import_circle() -> None:
    found = [" <-> ".join(g) for g in circles(graph()) if not package_reexport(g)]
    assert found == [], "import circles (imports inside functions count too)"


def test_no_lower_layer_imports_an_upper_one() -> None:
    unexpected = sorted(f for f in upward_arrows(graph()) if f not in KNOWN_EXCEPTIONS)
    assert unexpected == [], "arrows up the layers (see LAYERS in this file)"


def test_core_modules_never_import_click() -> None:
    unexpected = sorted(f for f in click_in_core() if f not in KNOWN_EXCEPTIONS)
    assert unexpected == [], "core modules take askers and echo callables instead"


def test_lazy_imports_say_why() -> None:
    unexpected = sorted(f for f in unexplained_lazy_imports() if f not in KNOWN_EXCEPTIONS)
    assert unexpected == []


def test_known_exceptions_are_still_real() -> None:
    assert sorted(KNOWN_EXCEPTIONS - findings()) == [], "fixed: remove from KNOWN_EXCEPTIONS"


# ---------------------------------------------------------------------------- the checks can fail
def parsed(**sources: str) -> dict[str, ast.Module]:
    return {name: ast.parse(text) for name, text in sources.items()}


def test_the_circle_check_sees_imports_inside_functions() -> None:
    fake = {"companion.a": Path("a.py"), "companion.b": Path("b.py")}
    trees = parsed(
        **{"companion.a": "from .b import x\n", "companion.b": "def f():\n    from . import a\n"}
    )
    edges = {
        m: {n for n in imported_names(m, t, fake) if n in fake and n != m} for m, t in trees.items()
    }
    assert circles(edges) == [["companion.a", "companion.b"]]


def test_the_layer_check_sees_the_store_asking_the_daemon() -> None:
    edges = {"companion.store": {"companion.daemon"}, "companion.daemon": {"companion.store"}}
    assert upward_arrows(edges) == ["companion.store imports companion.daemon (foundation -> app)"]


# ---------------------------------------------------------------------------- typing at the seams
# companion.records is where a JSON payload (`Row = dict[str, Any]`) and the TypedDicts of
# fixed shapes are named. Anywhere else, a public function or method takes and gives real
# types. An adapter may name an untyped library's objects `X = Any` for its private helpers;
# such an alias counts as Any wherever it appears in a public signature, here or imported.
RECORDS = "companion.records"
# Known exceptions: "module.function", each still taking or giving Any (being reshaped).
KNOWN_ANY: set[str] = set()


def names_from(
    module: str, tree: ast.Module, modules: dict[str, Path] = MODULES
) -> Iterator[tuple[str, str, str]]:
    """(module imported from, name there, name here) for every `from X import name`."""
    package = module if modules[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                yield base, alias.name, alias.asname or alias.name


def holds_any(node: ast.AST, aliases: Collection[str] = ()) -> bool:
    """Whether a type expression mentions Any (typing.Any, or an alias of it), quoted or not."""
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            try:
                quoted = ast.parse(part.value, mode="eval")
            except SyntaxError:
                continue
            if holds_any(quoted, aliases):
                return True
        if isinstance(part, ast.Name) and (part.id == "Any" or part.id in aliases):
            return True
        if isinstance(part, ast.Attribute) and part.attr == "Any":
            return True
    return False


def own_any_aliases(tree: ast.Module) -> set[str]:
    """Names a module binds to a type holding Any (`VoskModel = Any`, `Row = dict[str, Any]`)."""
    found = set()
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value  # X: TypeAlias = ...
        if isinstance(target, ast.Name) and value is not None and holds_any(value):
            found.add(target.id)
    return found


def any_aliases(
    trees: dict[str, ast.Module], modules: dict[str, Path] = MODULES
) -> dict[str, set[str]]:
    """module -> the names that mean Any in it: its own aliases and the ones it imports
    (companion.records' names are the exception: a JSON payload is a Row)."""
    own = {m: set() if m == RECORDS else own_any_aliases(t) for m, t in trees.items()}
    return {
        m: own[m]
        | {here for base, name, here in names_from(m, t, modules) if name in own.get(base, set())}
        for m, t in trees.items()
    }


Function = ast.FunctionDef | ast.AsyncFunctionDef


def public_functions(tree: ast.Module) -> Iterator[tuple[str, Function]]:
    """Module-level functions and the methods of module-level classes that other modules
    may call: the name does not start with "_" (dunder methods of a public class count)."""

    def public(name: str) -> bool:
        return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and public(node.name):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and public(item.name):
                    yield f"{node.name}.{item.name}", item


def signature_types(func: Function) -> list[ast.expr]:
    args = func.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return [a.annotation for a in every if a is not None and a.annotation is not None] + (
        [func.returns] if func.returns is not None else []
    )


def any_in_signatures(
    trees: dict[str, ast.Module] = TREES, modules: dict[str, Path] = MODULES
) -> list[str]:
    aliases = any_aliases(trees, modules)
    return sorted(
        f"{m}.{name}"
        for m, tree in trees.items()
        if m != RECORDS
        for name, func in public_functions(tree)
        if any(holds_any(t, aliases[m]) for t in signature_types(func))
    )


def test_no_public_signature_takes_or_gives_any() -> None:
    unexpected = sorted(f for f in any_in_signatures() if f not in KNOWN_ANY)
    assert unexpected == [], (
        "Any in a public signature: use a real type, a Protocol, "
        "object, or a name from companion/records.py"
    )


def test_known_any_is_still_real() -> None:
    assert sorted(KNOWN_ANY - set(any_in_signatures())) == [], "typed now: remove from KNOWN_ANY"


def test_the_any_check_sees_aliases_quotes_and_imports() -> None:
    fake = {
        m: Path(f"{m.rpartition('.')[2]}.py")
        for m in (
            "companion.records",
            "companion.adapters.vosky",
            "companion.voice",
            "companion.ok",
        )
    }
    trees = parsed(
        **{
            "companion.records": "from typing import Any\nRow = dict[str, Any]\n",
            "companion.adapters.vosky": (
                "from typing import Any\nModel = Any\n"
                "def load() -> Model: ...\n"
                "def _private(m: Model) -> Any: ...\n"
            ),
            "companion.voice": (
                "from .adapters.vosky import Model\n"
                "def listen(model: 'Model') -> None: ...\n"
                "class Speaker:\n    def __init__(self, s: 'typing.Any'): ...\n"
            ),
            "companion.ok": (
                "from .records import Row\ndef save(row: Row) -> Row: ...\n"
                "class _Hidden:\n    def run(self, x: Any) -> None: ...\n"
            ),
        }
    )
    assert any_in_signatures(trees, fake) == [
        "companion.adapters.vosky.load",
        "companion.voice.Speaker.__init__",
        "companion.voice.listen",
    ]


def test_the_code_is_formatted() -> None:
    """`ruff format` was adopted once; new code keeps its shape (run `ruff format`)."""
    import subprocess
    import sys

    top = ROOT.parent
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "companion", "tests"],
        cwd=top,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
