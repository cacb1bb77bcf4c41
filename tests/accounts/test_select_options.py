"""`select_options`: a select's options in one pass, selected and escaped as Django's own
widget does (issue 15: a report filter offering thousands of organisations)."""

import re

from django import forms

from accounts.templatetags.nhsuk_fields import select_options
from facilities.models import Programme

CHOICES = [("", "Any"), ("a", "Apples & <pears>"), ("Fruit", [("b", "Banana"), ("c", "Cherry")])]


class Form(forms.Form):
    fruit = forms.ChoiceField(choices=CHOICES, required=False)
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.order_by("name"), to_field_name="public_id", required=False
    )


def django_options(field):
    """(value, selected) of each option, as Django's Select widget renders them."""
    return [(str(option.data["value"]), option.data["selected"]) for option in field.subwidgets]


def ours(field):
    html = select_options(field)
    return [
        (value, bool(selected))
        for value, selected in re.findall(r'<option value="([^"]*)"( selected)?>', html)
    ]


def test_the_options_and_selection_are_djangos(people):
    for data in (
        {},
        {"fruit": "b"},
        {"fruit": "a"},
        {"programme": str(people.programme_x.public_id)},
    ):
        form = Form(data or None)
        for name in ("fruit", "programme"):
            assert ours(form[name]) == django_options(form[name]), (data, name)
    initial = Form(initial={"programme": people.programme_y})
    assert ("", False) in ours(initial["programme"])
    assert (str(people.programme_y.public_id), True) in ours(initial["programme"])


def test_labels_and_values_are_escaped(db):
    html = select_options(Form()["fruit"])
    assert "Apples &amp; &lt;pears&gt;" in html
    assert "<pears>" not in html
