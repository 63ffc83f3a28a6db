"""Docstrings stand on their own: every parameter of the public API described, and no
pointer to a file that does not ship with the package (design notes, issue numbers)."""

import importlib
import inspect
import re
from pathlib import Path

import docstring_parser
import pytest

import nmfrec

# the layers around the model; the model layer (Recommender, MaskedNMF) has its own tests
MODULES = ["nmfrec.evaluation", "nmfrec.model_selection", "nmfrec.datasets", "nmfrec.io",
           "nmfrec.exceptions"]


def _documented(obj):
    doc = docstring_parser.parse(inspect.getdoc(obj) or "",
                                 docstring_parser.DocstringStyle.NUMPYDOC)
    return {n.strip().lstrip("*") for p in doc.params for n in p.arg_name.split(",")}


def _callables(module_name):
    """(qualified name, object documenting it, function whose signature it has)."""
    mod = importlib.import_module(module_name)
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj):
            yield f"{module_name}.{name}", obj, obj
        elif inspect.isclass(obj):
            if "__init__" in vars(obj) and not getattr(obj, "_is_protocol", False):
                yield f"{module_name}.{name}", obj, obj.__init__
            for attr, value in vars(obj).items():
                if inspect.isfunction(value) and not attr.startswith("_"):
                    yield f"{module_name}.{name}.{attr}", value, value


CALLABLES = [c for m in MODULES for c in _callables(m)]


@pytest.mark.parametrize("qualname, documenting, function", CALLABLES,
                         ids=[c[0] for c in CALLABLES])
def test_every_parameter_is_described(qualname, documenting, function):
    wanted = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    missing = [p for p in wanted if p not in _documented(documenting)]
    assert not missing, f"{qualname}: no description of {missing}"


def test_the_check_sees_a_missing_description():
    def f(a, b):
        """Doc.

        Parameters
        ----------
        a : int
            The a.
        """

    assert _documented(f) == {"a"}
    names = [c[0] for c in CALLABLES]
    assert "nmfrec.evaluation.SupportsRecommend.recommend_many" in names
    assert "nmfrec.evaluation.SupportsRecommend" not in names   # Protocol's own __init__
    assert "nmfrec.evaluation.Popularity" in names and len(names) > 50


NOT_SHIPPED = re.compile(r"EVALUATION\.md|DESIGN\.md|STYLE\.md|\b[Ii]ssues? #?\d+")


def test_no_reference_to_files_that_do_not_ship():
    root = Path(nmfrec.__file__).parent
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}"
             for path in sorted(root.rglob("*")) if path.suffix in (".py", ".md")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if NOT_SHIPPED.search(line)]
    assert not found, "\n".join(found)
    assert NOT_SHIPPED.search("see EVALUATION.md") and NOT_SHIPPED.search("(issue 6)")
