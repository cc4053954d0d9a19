"""Reading suites from local files (pure: paths in, ``SuiteContent`` out).

Three layouts:

* **JSON Lines** (the project's own): one item per line,
  ``{"item_id", "prompt", "choices"?, "labels"?, "answer" | "answer_index" | "answers", "aliases"?,
  "rel_tol"?}``. Multiple choice: ``answer`` is a label (``"B"``) or ``answer_index`` is 0-based.
  Exact match: ``answer`` (plus ``aliases``) or ``answers``. Numeric: ``answer`` is a number.
* **lm-evaluation-harness task** (a subset): a task YAML with ``dataset_kwargs.data_files`` pointing
  at local JSON Lines, ``test_split`` (or ``validation_split``), ``output_type``
  (``multiple_choice`` or ``generate_until``), and ``doc_to_text`` / ``doc_to_choice`` /
  ``doc_to_target`` given as a field name, a literal list, or a Jinja template rendered in a sandbox
  (``fmc_scoring.suites.templates``: the filters the harness's common tasks use, nothing else).
  Python functions (``!function``, ``process_docs``, ``process_results``, ``utils.*``) are refused
  with a reason naming the field: a task file never runs code here.
* **Hugging Face dataset saved locally as JSON Lines**: a directory with ``<split>.jsonl`` or
  ``data/<split>*.jsonl``, plus a column mapping (question, choices, answer).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fmc_scoring.suites.code import code_key
from fmc_scoring.suites.content import ItemContent, SuiteContent, SuiteSource
from fmc_scoring.suites.templates import TemplateRefused, render
from fmc_scoring.values import AnswerKey, ItemKind, default_labels

_FIELD = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}\s*$")
_CODE_FIELDS = ("process_docs", "process_results", "class")
_TEMPLATE_FIELDS = ("doc_to_text", "doc_to_choice", "doc_to_target")


class SuiteFormatError(ValueError):
    """The file does not describe a suite this loader understands; the message says where."""


@dataclass(frozen=True)
class SuiteMeta:
    key: str
    version: str
    title: str
    language: str
    kind: ItemKind
    demo: bool = False


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SuiteFormatError(f"{path.name} line {number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise SuiteFormatError(f"{path.name} line {number}: not an object")
            yield number, record


def item_from_record(kind: ItemKind, record: Mapping[str, Any], where: str) -> ItemContent:
    """One item of the project's JSON Lines format."""
    try:
        item_id = str(record["item_id"])
        prompt = str(record.get("prompt", record.get("question")))
        if prompt == "None":
            raise KeyError("prompt")
        choices = tuple(str(c) for c in record.get("choices") or ())
        labels = tuple(str(label) for label in record.get("labels") or ())
        return ItemContent(item_id, prompt, _key(kind, record, choices, labels), choices, labels)
    except KeyError as exc:
        raise SuiteFormatError(f"{where}: missing field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise SuiteFormatError(f"{where}: {exc}") from exc


def _key(
    kind: ItemKind, record: Mapping[str, Any], choices: tuple[str, ...], labels: tuple[str, ...]
) -> AnswerKey:
    if kind == ItemKind.MULTIPLE_CHOICE:
        if "answer_index" in record:
            return AnswerKey(kind, choice=int(record["answer_index"]))
        answer = str(record["answer"]).strip()
        names = list(labels or default_labels(len(choices)))
        if answer in names:
            return AnswerKey(kind, choice=names.index(answer))
        if answer in choices:
            return AnswerKey(kind, choice=choices.index(answer))
        raise ValueError(f"answer {answer!r} is neither a label nor a choice")
    if kind == ItemKind.NUMERIC:
        return AnswerKey(kind, number=float(record["answer"]), rel_tol=float(record.get("rel_tol", 1e-6)))
    if kind == ItemKind.CODE:
        return code_key(record.get("tests"), record.get("entry_point"))
    if kind == ItemKind.JUDGED:  # ``answer``: the optional reference answer the judge compares with
        reference = record.get("answer")
        return AnswerKey(kind, answers=(str(reference),) if reference is not None else ())
    answers = record.get("answers") or [record["answer"], *(record.get("aliases") or [])]
    return AnswerKey(kind, answers=tuple(str(a) for a in answers))


def load_jsonl(path: Path, meta: SuiteMeta, source: SuiteSource = SuiteSource.JSONL) -> SuiteContent:
    items = tuple(
        item_from_record(meta.kind, record, f"{path.name} line {number}")
        for number, record in read_jsonl(path)
    )
    return _suite(meta, items, source)


def _suite(meta: SuiteMeta, items: tuple[ItemContent, ...], source: SuiteSource) -> SuiteContent:
    try:
        return SuiteContent(
            key=meta.key,
            version=meta.version,
            title=meta.title,
            language=meta.language,
            kind=meta.kind,
            items=items,
            demo=meta.demo,
            source=source,
        )
    except ValueError as exc:
        raise SuiteFormatError(str(exc)) from exc


# --- lm-evaluation-harness task layout --------------------------------------------------------


def _lookup(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def _apply(task: str, spec: Any, doc: Mapping[str, Any]) -> Any:
    """``doc_to_*``: a literal list or number, a field name, a ``{{field}}``, or a sandboxed template."""
    if not isinstance(spec, str):
        return spec
    whole = _FIELD.match(spec)
    if whole and not any(part.startswith("_") for part in whole.group(1).split(".")):
        try:
            return _lookup(doc, whole.group(1))  # the raw value (a list, a number), as the harness reads it
        except KeyError:
            pass  # rendered below, so the refusal names the task and the variable
    if "{{" in spec or "{%" in spec:
        return render(task, spec, doc)
    return _lookup(doc, spec) if spec in doc or "." in spec else spec


class _PythonFunction(str):
    """A ``!function module.name`` tag, kept as a marker so the refusal can name its field."""


class _TaskLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads ``!function`` as a marker instead of failing to parse."""


_TaskLoader.add_constructor(
    "!function",
    lambda loader, node: _PythonFunction(loader.construct_scalar(node)),  # type: ignore[arg-type]
)


def _refuse_code(name: str, config: Mapping[str, Any]) -> None:
    """Task files may name Python (``!function``, ``process_docs``, ``utils.py``): refused, by field."""
    for field in _CODE_FIELDS:
        if field in config:
            raise SuiteFormatError(f"{name}: field {field!r} runs Python from the task; not supported")
    for field, value in config.items():
        if isinstance(value, _PythonFunction):
            raise SuiteFormatError(
                f"{name}: field {field!r} is a Python function (!function {value}); not supported"
            )
        if field in _TEMPLATE_FIELDS and isinstance(value, str) and value.startswith("utils."):
            raise SuiteFormatError(f"{name}: field {field!r} names utils.py code ({value}); not supported")


def load_lm_eval_task(task_yaml: Path, version: str, language: str) -> SuiteContent:
    """A local lm-evaluation-harness task (``multiple_choice`` or ``generate_until``)."""
    try:
        config = yaml.load(task_yaml.read_text(encoding="utf-8"), Loader=_TaskLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise SuiteFormatError(f"{task_yaml.name}: not YAML ({exc})") from exc
    if not isinstance(config, dict) or "task" not in config:
        raise SuiteFormatError(f"{task_yaml.name}: not an lm-evaluation-harness task (no 'task')")
    _refuse_code(task_yaml.name, config)
    split = config.get("test_split") or config.get("validation_split")
    files = (config.get("dataset_kwargs") or {}).get("data_files") or {}
    if not split or split not in files:
        raise SuiteFormatError(
            f"{task_yaml.name}: dataset_kwargs.data_files must name a local file for {split!r}"
        )
    data = (task_yaml.parent / str(files[split])).resolve()
    if not data.is_relative_to(task_yaml.parent.resolve()):
        raise SuiteFormatError(f"{task_yaml.name}: the data file must sit next to the task")
    output = config.get("output_type", "generate_until")
    kind = {"multiple_choice": ItemKind.MULTIPLE_CHOICE, "generate_until": ItemKind.EXACT_MATCH}.get(output)
    if kind is None:
        raise SuiteFormatError(f"{task_yaml.name}: output_type {output!r} is not supported")
    items = []
    for number, doc in read_jsonl(data):
        where = f"{data.name} line {number}"
        try:
            items.append(_lm_eval_item(config, kind, doc, number))
        except TemplateRefused as exc:
            raise SuiteFormatError(f"{where}: {exc}") from exc
        except (KeyError, TypeError, ValueError, SyntaxError) as exc:
            raise SuiteFormatError(f"{where}: {exc}") from exc
    meta = SuiteMeta(
        str(config["task"]), version, str(config.get("task_alias", config["task"])), language, kind
    )
    return _suite(meta, tuple(items), SuiteSource.LM_EVAL)


def _lm_eval_item(
    config: Mapping[str, Any], kind: ItemKind, doc: Mapping[str, Any], number: int
) -> ItemContent:
    task = str(config["task"])
    prompt = str(_apply(task, config.get("doc_to_text", "question"), doc))
    target = _apply(task, config.get("doc_to_target", "answer"), doc)
    item_id = str(doc.get("id", doc.get("item_id", f"{number:06d}")))
    if kind == ItemKind.MULTIPLE_CHOICE:
        choices = tuple(str(c) for c in _choices(task, config.get("doc_to_choice", "choices"), doc))
        target = target.strip() if isinstance(target, str) else target
        index = int(target) if not isinstance(target, str) or target.isdigit() else choices.index(target)
        return ItemContent(item_id, prompt, AnswerKey(kind, choice=index), choices)
    answers = target if isinstance(target, list) else [target]
    return ItemContent(item_id, prompt, AnswerKey(kind, answers=tuple(str(a) for a in answers)))


def _choices(task: str, spec: Any, doc: Mapping[str, Any]) -> list[Any]:
    """The harness renders a ``doc_to_choice`` template to a list literal (``"{{[a, b]}}"``)."""
    value = _apply(task, spec, doc)
    if isinstance(value, str):
        value = ast.literal_eval(value)  # a literal only: no names, no calls
    if not isinstance(value, list | tuple):
        raise ValueError(f"doc_to_choice gave {type(value).__name__}, not a list")
    return list(value)


# --- Hugging Face datasets saved as JSON Lines --------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    question: str = "question"
    choices: str | None = "choices"
    answer: str = "answer"
    item_id: str | None = "id"


def load_hf_directory(directory: Path, split: str, meta: SuiteMeta, columns: ColumnMapping) -> SuiteContent:
    candidates = [directory / f"{split}.jsonl", *sorted((directory / "data").glob(f"{split}*.jsonl"))]
    files = [path for path in candidates if path.is_file()]
    if not files:
        raise SuiteFormatError(f"no {split}.jsonl or data/{split}*.jsonl in {directory.name}")
    items = []
    for path in files:
        for number, doc in read_jsonl(path):
            record: dict[str, Any] = {
                "item_id": doc.get(columns.item_id, f"{path.stem}-{number:06d}")
                if columns.item_id
                else f"{path.stem}-{number:06d}",
                "prompt": doc.get(columns.question),
            }
            answer = doc.get(columns.answer)
            if columns.choices and meta.kind == ItemKind.MULTIPLE_CHOICE:
                record["choices"] = doc.get(columns.choices)
                key = "answer_index" if isinstance(answer, int) else "answer"
                record[key] = answer
            else:
                record["answers" if isinstance(answer, list) else "answer"] = answer
            items.append(item_from_record(meta.kind, record, f"{path.name} line {number}"))
    return _suite(meta, tuple(items), SuiteSource.HF_JSONL)
