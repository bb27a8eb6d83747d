"""Every form on disk is bounded: found by walking the package, not by a list that can go stale."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, Length, NumberRange

import pb
from pb.forms import DateRange, PbForm, PbRowForm

PACKAGE = Path(pb.__file__).parent


def _form_classes() -> list[type]:
    classes: dict[str, type] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "tally" in path.parts:
            continue
        module_name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = path.read_text(encoding="utf-8")
        if "Form" not in source:
            continue
        module = importlib.import_module(module_name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Form)
                and value.__module__ == module_name
                and value not in (PbForm, PbRowForm)
            ):
                classes[f"{module_name}.{value.__name__}"] = value
    return [classes[key] for key in sorted(classes)]


FORMS = _form_classes()


def test_the_walk_finds_the_forms():
    names = {form.__name__ for form in FORMS}
    assert {"SignInForm", "RegisterForm", "CycleForm", "DistrictRowForm", "LanguageForm", "RoleForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form: form.__name__)
def test_every_form_is_bounded_and_readable(app, form_class):
    assert issubclass(form_class, PbForm | PbRowForm), "forms derive from pb.forms.PbForm or PbRowForm"
    assert not (issubclass(form_class, FlaskForm) and issubclass(form_class, PbRowForm))
    with app.test_request_context():
        form = form_class(meta={"csrf": False}) if issubclass(form_class, FlaskForm) else form_class()
        for field in form:
            _check_field(form_class, field)


def _check_field(form_class, field) -> None:
    where = f"{form_class.__name__}.{field.name}"
    if isinstance(field, FormField | FieldList):
        return  # their rows are forms of their own, checked by the walk
    validators = field.validators
    if isinstance(field, IntegerField):
        ranges = [v for v in validators if isinstance(v, NumberRange)]
        assert ranges and ranges[0].min is not None and ranges[0].max is not None, f"{where} needs a range"
    elif isinstance(field, DateTimeField | DateTimeLocalField):
        assert any(isinstance(v, DateRange) for v in validators), f"{where} needs pb.forms.date_range()"
    elif isinstance(field, StringField | TextAreaField | PasswordField | EmailField | SearchField):
        if isinstance(field, HiddenField) and any(isinstance(v, AnyOf) for v in validators):
            return  # one of a few known values
        lengths = [v for v in validators if isinstance(v, Length) and v.max and v.max > 0]
        assert lengths, f"{where} needs a maximum length (what its column holds)"
