"""Schemas -> attrs classes, through datamodel-code-generator's parser.

datamodel-code-generator does the schema work (refs, allOf, unions, naming, enums, module split);
we plug in our own model types: :class:`AttrsModel` renders an ``attrs`` class with
``UNSET``-defaulted optional fields and the JSON name kept in field metadata, and
:class:`OpenEnum` makes every string enum an ``OpenStrEnum`` (unknown values are kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from datamodel_code_generator import DataModelType
from datamodel_code_generator.enums import ModuleSplitMode, NamingStrategy, OpenAPIScope
from datamodel_code_generator.format import DatetimeClassType, PythonVersion
from datamodel_code_generator.imports import Import
from datamodel_code_generator.model import get_data_model_types
from datamodel_code_generator.model.dataclass import DataClass
from datamodel_code_generator.model.enum import Enum as EnumModel
from datamodel_code_generator.model.enum import StrEnum as StrEnumModel
from datamodel_code_generator.parser.openapi import OpenAPIParser

TEMPLATES = Path(__file__).resolve().parent / "templates" / "models"

IMPORT_ATTRS = Import(from_=None, import_="attrs")
IMPORT_UNSET = Import(from_="calcom_async._types", import_="UNSET")
IMPORT_UNSET_TYPE = Import(from_="calcom_async._types", import_="Unset")
IMPORT_OPEN_ENUM = Import(from_="calcom_async._types", import_="OpenStrEnum")
IMPORT_MASK = Import(from_="calcom_async._types", import_="masked")
IMPORT_SERDE = Import(from_="calcom_async", import_="_serde")
IMPORT_ANY = Import(from_="typing", import_="Any")
_SECRET = re.compile(r"secret|token|password|apikey|api_key|^key$", re.I)


def is_secret(name: str) -> bool:
    """A field whose value must not show in a repr (the template masks it)."""
    return bool(_SECRET.search(name)) and "expire" not in name.lower()


@dataclass(frozen=True)
class FieldRead:
    """How the class's structuring function reads one field (``templates/models/attrs.jinja2``).

    ``kind`` names the fast path written out for the field's type:

    - ``scalar``: a value taken as it is (a JSON scalar, or a free-form object); ``check`` is the
      test it must pass;
    - ``scalars``: a list of them (``check`` tests each item);
    - ``datetime``: an ISO 8601 string, parsed;
    - ``model``, ``models``: a model, a list of models (``target``: the structuring function);
    - ``enum``: ``target`` is the enum class;
    - ``any``: anything, as it came;
    - ``general``: the rest (unions, literals, nested lists): the converter's hook for the field's
      type (``calcom_async._serde``).

    A value that does not pass its fast path goes the general way too: typed there, or kept as
    it came and reported.
    """

    kind: str
    nullable: bool
    target: str = ""
    check: str = ""


_SCALAR_CHECKS = {
    "str": "type({v}) is str",
    "int": "type({v}) is int",
    "float": "type({v}) is float or type({v}) is int",
    "bool": "{v} is True or {v} is False",
}


def _structure_function(type_hint: str) -> str:
    """``booking_host.BookingHost`` -> ``booking_host.structure_BookingHost``."""
    module, _, name = type_hint.rpartition(".")
    return f"{module}.structure_{name}" if module else f"structure_{name}"


def field_read(field: Any) -> FieldRead:
    """The fast path for a field, from datamodel-code-generator's description of its type."""
    nullable = str(field.type_hint).endswith(" | None")
    data_type = field.data_type
    # ``T | None``: one member besides None
    while not data_type.reference and not data_type.type and len(data_type.data_types) == 1:
        if data_type.is_list or data_type.is_dict:
            break
        data_type = data_type.data_types[0]
    if data_type.is_dict:
        values = data_type.data_types
        if len(values) == 1 and values[0].type == "Any":  # a free-form object: as it came
            return FieldRead("scalar", nullable, check="type({v}) is dict")
        return FieldRead("general", nullable)
    if data_type.is_list:
        (item,) = data_type.data_types or [None]
        if item is not None and _is_model(item):
            return FieldRead("models", nullable, _structure_function(item.type_hint))
        if item is not None and not item.data_types and item.type in _SCALAR_CHECKS:
            return FieldRead("scalars", nullable, check=_SCALAR_CHECKS[item.type])
        return FieldRead("general", nullable)
    if data_type.reference:
        if _is_model(data_type):
            return FieldRead("model", nullable, _structure_function(data_type.type_hint))
        if isinstance(data_type.reference.source, OpenEnum):
            return FieldRead("enum", nullable, data_type.type_hint)
        return FieldRead("general", nullable)
    if data_type.literals or data_type.data_types:
        return FieldRead("general", nullable)
    if data_type.type in _SCALAR_CHECKS:
        return FieldRead("scalar", nullable, check=_SCALAR_CHECKS[data_type.type])
    if data_type.type == "datetime":
        return FieldRead("datetime", nullable)
    if data_type.type == "Any":
        return FieldRead("any", nullable)
    return FieldRead("general", nullable)


def _is_model(data_type: Any) -> bool:
    return bool(data_type.reference) and isinstance(data_type.reference.source, AttrsModel)


class AttrsModel(DataClass):
    """An attrs class (``@attrs.define``, slots, keyword-only) instead of a dataclass."""

    def _render(self, *args: Any, **kwargs: Any) -> str:
        # how the structuring function reads each field (the template writes it out)
        kwargs["reads"] = [field_read(f) for f in kwargs.get("fields", ())]
        rendered: str = super()._render(*args, **kwargs)
        return rendered

    TEMPLATE_FILE_PATH: ClassVar[str] = "attrs.jinja2"
    #: from_dict/from_json and pydantic support, one hand-written class (``__slots__ = ()``)
    BASE_CLASS: ClassVar[str] = "calcom_async._model.CalComModel"
    DEFAULT_IMPORTS: ClassVar[tuple[Import, ...]] = (
        IMPORT_ATTRS,
        IMPORT_UNSET,
        IMPORT_UNSET_TYPE,
        IMPORT_SERDE,  # the class's structuring function (templates/models/attrs.jinja2)
        IMPORT_ANY,
    )

    @property
    def imports(self) -> tuple[Import, ...]:
        base: tuple[Import, ...] = super().imports
        if any(is_secret(f.original_name or f.name or "") for f in self.fields):
            return (*base, IMPORT_MASK)
        return base


class OpenEnum(StrEnumModel):
    """A string enum on ``OpenStrEnum``: a value the document does not list is kept, not refused."""

    BASE_CLASS: ClassVar[str] = "calcom_async._types.OpenStrEnum"
    DEFAULT_IMPORTS: ClassVar[tuple[Import, ...]] = (IMPORT_OPEN_ENUM,)


class CalcomParser(OpenAPIParser):
    def _get_enum_model_class(self, type_: Any, enum_values: list[Any]) -> Any:
        cls, value_type = super()._get_enum_model_class(type_, enum_values)
        if issubclass(cls, EnumModel) and all(isinstance(v, str) for v in enum_values):
            return OpenEnum, value_type
        return cls, value_type


def _attr(name: str) -> str:
    """The attribute name the template writes (``self`` would clash with ``__init__``'s)."""
    return name + "_" if name == "self" else name


def _class_name(name: str) -> str:
    """Keep the document's schema names (``BookingOutput_2024_08_13``) where they are valid."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if cleaned[:1].isdigit():
        cleaned = "_" + cleaned
    return cleaned[:1].upper() + cleaned[1:]


@dataclass
class ModelInfo:
    class_name: str
    kind: str  # "model", "enum", "alias"
    ref: str  # the reference path without datamodel-code-generator's markers
    module: str  # module name inside the models package
    fields: list[tuple[str, str, bool]]  # (attribute, JSON name, required)


_DEFINES = re.compile(r"^(?:class (\w+)\b|(\w+): TypeAlias\b)", re.M)
_MARKER = re.compile(r"#-datamodel-code-generator-#-[a-zA-Z]+-#-special-#")


def generate_models(doc_text: str) -> tuple[dict[str, str], list[ModelInfo]]:
    """Module name -> module source (one module per model class), and what each class is."""
    types = get_data_model_types(DataModelType.DataclassesDataclass, PythonVersion.PY_311)
    parser = CalcomParser(
        doc_text,
        data_model_type=AttrsModel,
        data_model_root_type=types.root_model,
        data_model_field_type=types.field_model,
        data_type_manager_type=types.data_type_manager,
        custom_template_dir=TEMPLATES,
        snake_case_field=True,
        strict_nullable=True,
        use_union_operator=True,
        use_standard_collections=True,
        use_double_quotes=True,
        capitalise_enum_members=True,
        target_python_version=PythonVersion.PY_311,
        openapi_scopes=[OpenAPIScope.Schemas, OpenAPIScope.Paths],
        keep_model_order=True,
        target_datetime_class=DatetimeClassType.Datetime,
        naming_strategy=NamingStrategy.ParentPrefixed,
        custom_class_name_generator=_class_name,
        use_schema_description=True,
        use_field_description=True,
    )
    result = parser.parse(module_split_mode=ModuleSplitMode.Single, format_=False)
    if not isinstance(result, dict):
        raise TypeError("datamodel-code-generator did not split the models into modules")
    modules: dict[str, str] = {}
    module_of: dict[str, str] = {}
    for key, res in result.items():
        if len(key) != 1 or not key[0].endswith(".py"):
            raise ValueError(f"unexpected module path from datamodel-code-generator: {key}")
        name = key[0][:-3]
        if name == "__init__":
            continue
        modules[name] = res.body
        for match in _DEFINES.finditer(res.body):
            module_of[match.group(1) or match.group(2)] = name
    infos = []
    for model in parser.results:
        if isinstance(model, EnumModel):
            kind = "enum"
        elif isinstance(model, AttrsModel):
            kind = "model"
        else:
            kind = "alias"
        fields = (
            [(_attr(f.name), f.original_name or f.name, bool(f.required)) for f in model.fields]
            if kind == "model"
            else []
        )
        infos.append(
            ModelInfo(
                model.class_name,
                kind,
                _MARKER.sub("", model.reference.path),
                module_of[model.class_name],
                fields,
            )
        )
    return modules, infos
