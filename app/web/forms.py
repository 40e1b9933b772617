"""The site's form base: FlaskForm that hands uploaded files only to its file fields.

FlaskForm reads a multipart post's files together with its text fields, so a file sent under a
text field's name reached that field's validators as a FileStorage (and `Length` raised a
TypeError: a 500). Here a file counts only under the name of a FileField (also one inside a
list of subforms: `speakers-0-photo`); anywhere else it is as if the field were missing, and
the form says so.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FieldList, FormField


@cache
def _file_field_names(form_class: type) -> frozenset[str]:
    """The names of the FileFields of a form class and of the subforms it nests."""
    names: set[str] = set()
    unbound = [(n, f) for n, f in vars(form_class).items() if hasattr(f, "field_class")]
    for base in form_class.__mro__[1:]:
        unbound += [(n, f) for n, f in vars(base).items() if hasattr(f, "field_class")]
    for name, field in unbound:
        while issubclass(field.field_class, FieldList):
            field = field.args[0]
        if issubclass(field.field_class, FileField):
            names.add(name)
        elif issubclass(field.field_class, FormField):
            names |= _file_field_names(field.args[0])
    return frozenset(names)


class AppForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            # Left to FlaskForm (no formdata given), a JSON body is read as the form's fields:
            # one that is no object (a list, a number) failed with a 500. It has no fields.
            reads_request = formdata is not None and not hasattr(formdata, "getlist")
            json_body = request.get_json(silent=True) if request.is_json else {}
            if reads_request and not isinstance(json_body, dict):
                return MultiDict()
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict) and request.files:
                allowed = _file_field_names(type(form))
                files = MultiDict(
                    [
                        (key, value)
                        for key, value in request.files.items(multi=True)
                        if key.rsplit("-", 1)[-1] in allowed
                    ]
                )
                return CombinedMultiDict((files, request.form))
            return data
