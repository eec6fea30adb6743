"""Render the generated package: models, operation table, resources, namespaces, versions, and
the typed blocking views of the resources and namespaces (``CalComSync``)."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .annotate import Annotator
from .examples import ExampleBuilder
from .models import generate_models
from .naming import load_names
from .opdesc import OpDesc
from .operations import build, build_internal
from .spec import HTTP_METHODS, Fix, Spec, SpecError

TEMPLATES = Path(__file__).resolve().parent / "templates"
BASE_VERSIONS = {"2024-04-15"}  # the API's oldest version: what a request without the header gets
# a hand-written mixin of a resource (openapi/names.yaml ``mixins``) -> its blocking twin: a
# ``Protocol`` with the same methods as plain ``def``s that the resource's blocking protocol
# inherits (calcom_async/_generated/blocking_resources.py)
BLOCKING_MIXINS = {
    "calcom_async._sync:BookingsSyncMixin": "calcom_async.blocking:BlockingBookingsSyncMixin",
}


@dataclass
class Result:
    files: dict[str, str]
    operations: int
    operations_in_doc: int
    schemas: int
    schemas_in_doc: int
    schemas_added: int = 0
    #: what was rendered, for ``python -m codegen diff``
    ops: list[OpDesc] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)  #: schema ref -> class name


@dataclass
class Node:
    dotted: str
    ops: list[OpDesc] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def attr(self) -> str:
        return self.dotted.rsplit(".", 1)[-1]

    @property
    def module(self) -> str:
        return self.dotted.replace(".", "__")

    @property
    def class_name(self) -> str:
        return "".join(w.capitalize() for part in self.dotted.split(".") for w in part.split("_"))

    @property
    def title(self) -> str:
        return " / ".join(part.replace("_", " ") for part in self.dotted.split("."))


def _model_input(spec: Spec) -> str:
    """The document as the model generator sees it: parameters are ours to type, not models."""
    doc = copy.deepcopy(spec.doc)
    for item in doc["paths"].values():
        item.pop("parameters", None)
        for method in HTTP_METHODS:
            if method in item:
                item[method].pop("parameters", None)
    return json.dumps(doc, sort_keys=False)


def _tree(ops: list[OpDesc]) -> list[Node]:
    nodes: dict[str, Node] = {}

    def node(dotted: str) -> Node:
        if dotted not in nodes:
            nodes[dotted] = Node(dotted)
            if "." in dotted:
                parent = node(dotted.rsplit(".", 1)[0])
                parent.children.append(nodes[dotted])
        return nodes[dotted]

    for op in ops:
        node(op.namespace).ops.append(op)
    for n in nodes.values():
        clash = {c.attr for c in n.children} & {o.method_name for o in n.ops}
        if clash:
            raise SpecError(f"cal.{n.dotted}: {sorted(clash)} is both a method and a namespace")
    return [n for n in nodes.values() if "." not in n.dotted]


def render_all(spec: Spec) -> Result:
    modules, infos = generate_models(_model_input(spec))
    by_ref = {info.ref: info.class_name for info in infos}
    models = {info.class_name for info in infos if info.kind == "model"}
    annot = Annotator(spec.doc, by_ref, models)
    model_fields: dict[str, list[tuple[str, str, bool]]] = {}
    for info in infos:
        if info.kind != "model":
            continue
        schema = annot.resolve({"$ref": info.ref}) if info.ref.startswith("#/components/") else {}
        props = dict(schema.get("properties", {}))
        for sub in schema.get("allOf", []):
            props.update(annot.resolve(sub).get("properties", {}))
        model_fields[info.class_name] = [
            (
                attr,
                annot.annotate(props.get(wire), f"{info.ref}/{wire}") if wire in props else "Any",
                req,
            )
            for attr, wire, req in info.fields
        ]
    ops = build(spec, by_ref, models, model_fields)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = repr
    # a method named ``list`` shadows the builtin inside its class: annotate with builtins.list
    env.filters["ann"] = lambda text: re.sub(r"(?<![\w.])list\[", "builtins.list[", text)
    ctx = {"sha256": spec.sha256}
    files: dict[str, str] = {}
    files["__init__.py"] = env.from_string(
        '{% include "header.jinja2" %}"""Generated code: models, operation table, resources."""\n'
    ).render(ctx)
    for name, text in sorted(modules.items()):
        files[f"models/{name}.py"] = (
            env.get_template("header.jinja2").render(ctx) + text.rstrip() + "\n"
        )
    files["models/__init__.py"] = env.get_template("models_init.py.jinja2").render(
        infos=sorted(infos, key=lambda i: i.class_name), **ctx
    )
    internal = build_internal(spec, by_ref, models, model_fields)
    files["operations.py"] = env.get_template("operations.py.jinja2").render(
        ops=ops, internal=internal, **ctx
    )
    roots = _tree(ops)
    files["resources/__init__.py"] = env.get_template("header.jinja2").render(ctx)

    mixins = load_names()["mixins"]
    nodes: list[Node] = []

    def emit(node: Node) -> None:
        nodes.append(node)
        mixin = mixins.get(node.dotted)
        files[f"resources/{node.module}.py"] = env.get_template("resource.py.jinja2").render(
            node=node, mixin=tuple(mixin.split(":")) if mixin else None, **ctx
        )
        for child in node.children:
            emit(child)

    for root in roots:
        emit(root)
    files["client.py"] = env.get_template("client.py.jinja2").render(roots=roots, **ctx)
    blocking_mixins = {}
    for dotted, mixin in sorted(mixins.items()):
        if mixin not in BLOCKING_MIXINS:
            raise SpecError(
                f"mixin {mixin} (cal.{dotted}) has no blocking twin: add a Protocol with the "
                "same methods as plain defs and name it in codegen/render.py BLOCKING_MIXINS"
            )
        blocking_mixins[dotted] = tuple(BLOCKING_MIXINS[mixin].split(":"))
    files["blocking_resources.py"] = env.get_template("blocking_resources.py.jinja2").render(
        nodes=nodes, mixins=blocking_mixins, **ctx
    )
    files["blocking_client.py"] = env.get_template("blocking_client.py.jinja2").render(
        roots=roots, **ctx
    )
    builder = ExampleBuilder(spec.doc)
    examples = []
    for _method, _path, raw_op in spec.operations():
        responses = raw_op.get("responses", {})
        code = min(c for c in responses if c.startswith("2"))
        schema = responses[code].get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            text = json.dumps(builder.build(schema), separators=(",", ":"), ensure_ascii=False)
            examples.append((raw_op["operationId"], text))
    files["examples.py"] = env.get_template("examples.py.jinja2").render(examples=examples, **ctx)
    versions = sorted(
        BASE_VERSIONS
        | {op.api_version for op in ops if op.api_version}
        | {v for op in ops for v in op.versions}
    )
    families: dict[str, Counter[str]] = {}
    for op in ops:
        if op.api_version:
            families.setdefault(op.namespace.split(".")[0], Counter())[op.api_version] += 1
    files["versions.py"] = env.get_template("versions.py.jinja2").render(
        versions=versions,
        families=sorted((fam, c.most_common(1)[0][0]) for fam, c in families.items()),
        **ctx,
    )
    component_classes = {
        info.ref.rsplit("/", 1)[-1]
        for info in infos
        if info.ref.startswith("#/components/schemas/") and info.ref.count("/") == 3
    }
    schemas_in_doc = set(spec.source_schemas)
    for missing in sorted(schemas_in_doc - component_classes):
        spec.fixes.append(Fix("dropped", f"#/components/schemas/{missing}", "no class generated"))
    generated = {(op.http_method, op.path) for op in ops}
    for method, path in sorted(spec.source_operations - generated):
        spec.fixes.append(Fix("dropped", f"{method} {path}", "no method generated"))
    return Result(
        files=files,
        operations=len(spec.source_operations & generated),
        operations_in_doc=len(spec.source_operations),
        schemas=len(schemas_in_doc & component_classes),
        schemas_in_doc=len(schemas_in_doc),
        schemas_added=len(component_classes - schemas_in_doc),
        ops=ops,
        classes=by_ref,
    )
