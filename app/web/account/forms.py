"""Forms of the account pages. Field checks here are about shape; the rules live in
app/domain/accounts and come back as AccountError naming a field (see `show_error`)."""

from __future__ import annotations

from typing import Protocol

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.domain.accounts.password_policy import MAX_LENGTH, MIN_LENGTH
from app.web.forms import AppForm

EMAIL_FIELD = {"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}
CODE_FIELD = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "spellcheck": "false",
    "autocapitalize": "none",
}
NEW_PASSWORD = {"autocomplete": "new-password", "minlength": MIN_LENGTH}


def _email(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw=EMAIL_FIELD,
    )


def _new_password(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired("Choose a password."), Length(max=MAX_LENGTH)],
        render_kw=NEW_PASSWORD,
    )


def _current_password(label: str = "Current password", required: bool = True) -> PasswordField:
    checks = [DataRequired("Enter your password.")] if required else [Optional()]
    return PasswordField(
        label,
        validators=[*checks, Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def _code(label: str = "Code from your authenticator app") -> StringField:
    return StringField(
        label, validators=[DataRequired("Enter the code."), Length(max=20)], render_kw=CODE_FIELD
    )


class RegisterForm(AppForm):
    name = StringField(
        "Your name",
        validators=[DataRequired("Enter your name."), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = _email()
    password = _new_password()


class LoginForm(AppForm):
    email = _email()
    password = _current_password("Password")
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class CodeForm(AppForm):
    code = _code()


class ForgotForm(AppForm):
    email = _email()


class ResetForm(AppForm):
    password = _new_password("New password")


class DisableTwoFactorForm(AppForm):
    password = _current_password("Password", required=False)
    code = _code("Code from your authenticator app, or a recovery code")


class DetailsForm(AppForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Enter your name."), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        "Phone number (optional)",
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class EmailChangeForm(AppForm):
    email = _email("New email address")
    password = _current_password("Your password", required=False)


class PasswordChangeForm(AppForm):
    current_password = _current_password(required=False)
    new_password = _new_password("New password")


class PreferencesForm(AppForm):
    categories = SelectMultipleField(
        "Favourite categories",
        coerce=int,
        validators=[Optional()],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    home_city = StringField(
        "Home city",
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "address-level2"},
    )
    mode = RadioField(
        "How do you like to attend?",
        choices=[
            SelectChoice("any", "Both"),
            SelectChoice("in_person", "In person"),
            SelectChoice("online", "Online"),
        ],
        default="any",
        validators=[InputRequired("Pick how you like to attend.")],
    )


class OrganizerApplicationForm(AppForm):
    organization_name = StringField(
        "Organization name",
        validators=[DataRequired("Enter your organization's name."), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    details = TextAreaField("What events will you run?", validators=[Length(max=4000)])


class PersonalTokenForm(AppForm):
    name = StringField("Name", validators=[DataRequired("Give the token a name."), Length(max=100)])
    scopes = SelectMultipleField(
        "What it may do",
        validators=[Optional()],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    # Days, or "never"; the choices are the app's, so a forged value fails validation.
    expires = SelectField(
        "Expires",
        choices=[
            SelectChoice("30", "In 30 days"),
            SelectChoice("90", "In 90 days"),
            SelectChoice("365", "In a year"),
            SelectChoice("never", "Never"),
        ],
        default="90",
    )


class ConfirmPasswordForm(AppForm):
    password = _current_password("Your password")
    next = HiddenField()


class ConfirmCodeForm(AppForm):
    code = StringField(
        "Code from the email",
        validators=[DataRequired("Enter the code."), Length(max=20)],
        render_kw=CODE_FIELD,
    )
    next = HiddenField()


class SendCodeForm(AppForm):
    next = HiddenField()


class DeleteAccountForm(AppForm):
    password = _current_password("Your password", required=False)
    confirm = BooleanField(
        "I understand that my account and personal data are erased for good.",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class FieldError(Protocol):
    """A domain error that may name the form field at fault (AccountError, StaffError)."""

    message: str
    field: str | None


def show_error(form: AppForm, error: FieldError, *, fields: dict[str, str] | None = None) -> None:
    """Put a domain error on the form field it names (renamed through `fields`), or on top."""
    name = (fields or {}).get(error.field or "", error.field)
    if name and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        form.form_errors.append(error.message)
