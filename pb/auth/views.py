"""Registering and confirming the e-mail address, signing in and out, the account page, and password
reset by mail."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import after_this_request, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from pb.auth import bp
from pb.auth.forms import (
    ChangePasswordForm,
    ConfirmationRequestForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
    SignInForm,
)
from pb.extensions import client_network, db_session, limiter
from pb.i18n import LANGUAGES, LOCALE_COOKIE, current_locale
from pb.models import User
from pb.passwords import CONFIRMATION_TOKEN_MAX_AGE_SECONDS, RESET_TOKEN_MAX_AGE_SECONDS
from pb.security import safe_next_path, start_session
from pb.services import accounts
from pb.services.notifications import set_notify_mode
from pb.services.outbox import queue_mail
from pb.web import domain_errors, request_now

# Every answer to a reset or confirmation-link request takes this long, whether or not a mail is queued.
RESET_REQUEST_SECONDS = 0.25
CONFIRMATION_HOURS = CONFIRMATION_TOKEN_MAX_AGE_SECONDS // 3600

# Pages of every blueprint offer proposing, commenting and voting only to those who may take part.
bp.add_app_template_global(accounts.can_take_part, "can_take_part")


@bp.context_processor
def _password_rules() -> dict:
    return {"password_rules": accounts.PASSWORD_RULES}


def _sign_in_limit() -> str:
    """Attempts per visitor address (an IPv6 address counts by its /64: ``client_network``)."""
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _account_limit() -> str:
    """Attempts per account, from whatever addresses they come (guessing spread over many)."""
    return current_app.config["ACCOUNT_RATE_LIMIT"]


def _account_key(name: str) -> str:
    # Hashed, so the limiter's storage (Redis) holds no e-mail address and keys have one length.
    return "account:" + hashlib.sha256(name.encode()).hexdigest()[:32]


def _named_account() -> str:
    """The rate-limit key of the account a sign-in or reset form names, known or not."""
    return _account_key(accounts.normalize_email(request.form.get("email", "")))


def _signed_in_account() -> str:
    """The rate-limit key of the signed-in account (the address for anyone else)."""
    if current_user.is_authenticated:
        return _account_key(f"id:{current_user.id}")
    return client_network()


def _home() -> str:
    return url_for("cycles.list_cycles")


def _no_store(response):
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_named_account, methods=["POST"])
def sign_in():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next_path(request.args.get("next"), _home()))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(db_session(), form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("The e-mail address or the password is not correct."))
        else:
            # A language chosen on the page (the switcher's cookie) wins over the one saved with the
            # account, so the interface does not change language under the person's feet.
            chosen = request.cookies.get(LOCALE_COOKIE)
            if chosen in LANGUAGES and chosen != user.locale:
                accounts.set_locale(db_session(), user, chosen)
            start_session(user)
            flash(_("You are signed in."), "success")
            return redirect(safe_next_path(form.next.data, _home()))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])  # each attempt costs an argon2 hash and queues a mail
@limiter.limit(_account_limit, key_func=_named_account, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            registration = accounts.register(
                db_session(),
                current_app.config["SECRET_KEY"],
                form.email.data,
                form.password.data,
                form.display_name.data,
                locale=current_locale(),
                now=request_now(),
            )
        if attempt.ok:
            if registration.created:
                _queue_confirmation_mail(registration.user, registration.confirmation_token)
            elif registration.user.is_active:
                _queue_taken_address_mail(registration.user)
            # The same answer whether or not the address had an account: its owner got a mail.
            flash(
                _("We have sent a message to %(email)s.", email=accounts.normalize_email(form.email.data)),
                "success",
            )
            return redirect(url_for("auth.check_inbox"))
    return render_template("auth/register.html", form=form)


@bp.get("/register/check-inbox")
def check_inbox():
    return render_template("auth/check_inbox.html", hours=CONFIRMATION_HOURS)


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    with domain_errors() as attempt:
        accounts.confirm_email(db_session(), current_app.config["SECRET_KEY"], token, request_now())
    if attempt.ok:
        return _no_store(render_template("auth/email_confirmed.html"))
    if current_user.is_authenticated and current_user.email_confirmed:
        flash(_("Your e-mail address is confirmed already."), "success")
        return redirect(url_for("auth.account"))
    form = ConfirmationRequestForm(formdata=None)
    return _no_store(
        (
            render_template(
                "auth/confirmation_link_invalid.html",
                form=form,
                hours=CONFIRMATION_HOURS,
            ),
            400,
        )
    )


@bp.post("/confirm/again")
@limiter.limit(_sign_in_limit)
@limiter.limit(_account_limit, key_func=_signed_in_account)
@login_required
def resend_confirmation():
    """A new link for the signed-in account (the button on the account page)."""
    user = current_user._get_current_object()
    if user.email_confirmed:
        flash(_("Your e-mail address is confirmed already."), "success")
        return redirect(url_for("auth.account"))
    confirmation = accounts.request_email_confirmation(current_app.config["SECRET_KEY"], user, request_now())
    if confirmation is not None:
        _queue_confirmation_mail(confirmation.user, confirmation.token)
    flash(_("We have sent a new link to %(email)s.", email=user.email), "success")
    return redirect(url_for("auth.account"))


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_named_account, methods=["POST"])
def request_confirmation():
    """A new link for whoever gives the address (not signed in); the same answer for every address."""

    def send(email: str) -> None:
        confirmation = accounts.request_email_confirmation_for(
            db_session(), current_app.config["SECRET_KEY"], email, request_now()
        )
        if confirmation is not None:
            _queue_confirmation_mail(confirmation.user, confirmation.token)

    return _link_by_mail(
        ConfirmationRequestForm(),
        "auth/request_confirmation.html",
        send,
        lambda email: _(
            "If an account uses %(email)s and its address is not confirmed yet, we have sent a new "
            "link to it. If no message arrives, check your spam folder.",
            email=email,
        ),
    )


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        # Every session of the account ends, so a copied cookie stops working too.
        accounts.sign_out(db_session(), current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(_home())


def _render_account(profile_form=None, password_form=None):
    user = current_user._get_current_object()
    profile_form = profile_form or ProfileForm(
        formdata=None,
        data={"display_name": user.display_name, "locale": user.locale or current_locale(), "notify_mode": user.notify_mode},
    )
    password_form = password_form or ChangePasswordForm(formdata=None)
    return render_template(
        "auth/account.html",
        profile_form=profile_form,
        password_form=password_form,
        role_labels=[accounts.ROLE_LABELS[role] for role in accounts.ROLE_ORDER if role in user.roles],
    )


@bp.get("/")
@login_required
def account():
    return _render_account()


@bp.post("/details")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render_account(profile_form=form)
    accounts.update_profile(
        db_session(), current_user._get_current_object(), form.display_name.data, form.locale.data
    )
    if form.notify_mode.raw_data:  # a form from before the setting existed keeps the current choice
        set_notify_mode(db_session(), current_user._get_current_object(), form.notify_mode.data, request_now())
    with force_locale(form.locale.data):
        flash(_("Your details have been saved."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/password")
@limiter.limit(_sign_in_limit)
@limiter.limit(_account_limit, key_func=_signed_in_account)
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _render_account(password_form=form)
    user = current_user._get_current_object()
    with domain_errors(form) as attempt:
        accounts.change_password(db_session(), user, form.current_password.data, form.new_password.data)
    if not attempt.ok:
        return _render_account(password_form=form)
    # The change ended every session of the account: this browser, having just proved the
    # password, gets a fresh one; the others stay ended.
    start_session(user)
    flash(
        _("Your password has been changed. Anywhere else you were signed in, you have been signed out."),
        "success",
    )
    return redirect(url_for("auth.account"))


def _queue_mail_to(user: User, write: Callable[[], tuple[str, str]]) -> None:
    """Queue the mail that ``write()`` returns as (subject, body), written in the account's language
    (the page's when it has none); the worker sends it after this request commits."""
    locale = user.locale if user.locale in LANGUAGES else current_locale()
    with force_locale(locale):
        subject, body = write()
    queue_mail(db_session(), user.email, subject, body, request_now())


def _queue_reset_mail(reset: accounts.PasswordReset) -> None:
    link = url_for("auth.reset_password", token=reset.token, _external=True)
    _queue_mail_to(
        reset.user,
        lambda: (
            _("Choose a new password"),
            _(
                "Hello %(name)s,\n\n"
                "Someone, probably you, asked to choose a new password for the participatory budgeting "
                "account %(email)s.\n\n"
                "To choose a new password, open this link within %(minutes)d minutes:\n\n%(link)s\n\n"
                "The link works only once. If you did not ask for this, ignore this message: "
                "your password stays the same.",
                name=reset.user.display_name,
                email=reset.user.email,
                minutes=RESET_TOKEN_MAX_AGE_SECONDS // 60,
                link=link,
            ),
        ),
    )


def _queue_confirmation_mail(user: User, token: str) -> None:
    link = url_for("auth.confirm_email", token=token, _external=True)
    _queue_mail_to(
        user,
        lambda: (
            _("Confirm your e-mail address"),
            _(
                "Hello %(name)s,\n\n"
                "To confirm that %(email)s is your address for participatory budgeting, open this link "
                "within %(hours)d hours:\n\n%(link)s\n\n"
                "Until you do, you can sign in, but you cannot propose projects, comment or vote. "
                "The link works only once. If you did not create this account, ignore this message.",
                name=user.display_name,
                email=user.email,
                hours=CONFIRMATION_HOURS,
                link=link,
            ),
        ),
    )


def _queue_taken_address_mail(user: User) -> None:
    """Someone tried to register with an address that has an account: tell its owner, change nothing."""
    sign_in_link = url_for("auth.sign_in", _external=True)
    reset_link = url_for("auth.request_password_reset", _external=True)
    _queue_mail_to(
        user,
        lambda: (
            _("Someone tried to create an account with your address"),
            _(
                "Hello %(name)s,\n\n"
                "Someone, perhaps you, tried to create a participatory budgeting account with %(email)s. "
                "This address already has an account, so nothing has changed.\n\n"
                "If it was you, sign in here:\n\n%(sign_in)s\n\n"
                "If you forgot your password, choose a new one here:\n\n%(reset)s\n\n"
                "If it was not you, ignore this message: your account stays as it is.",
                name=user.display_name,
                email=user.email,
                sign_in=sign_in_link,
                reset=reset_link,
            ),
        ),
    )


def _answer_no_sooner_than(seconds: float) -> None:
    """Hold the response until ``seconds`` after now, once the request's transaction is committed.

    Queuing a mail writes a row and an unknown address writes nothing; waiting for the same
    total time hides that difference, so the timing does not tell which addresses have accounts.
    """
    deadline = time.monotonic() + seconds

    @after_this_request
    def wait(response):
        time.sleep(max(deadline - time.monotonic(), 0))
        return response


def _link_by_mail(form, template: str, send: Callable[[str], None], answer: Callable[[str], str]):
    """A form where anyone asks for a link by mail (``send(email)`` queues it when there is an
    account to send it to): the same answer (``answer(email)``), after the same time, whether or
    not there is one, so that no one can find out which addresses have accounts."""
    if not form.validate_on_submit():
        return render_template(template, form=form)
    _answer_no_sooner_than(RESET_REQUEST_SECONDS)
    send(form.email.data)
    flash(answer(accounts.normalize_email(form.email.data)), "success")
    return redirect(request.path)


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_named_account, methods=["POST"])
def request_password_reset():
    def send(email: str) -> None:
        reset = accounts.request_password_reset(db_session(), current_app.config["SECRET_KEY"], email)
        if reset is not None:
            _queue_reset_mail(reset)

    return _link_by_mail(
        PasswordResetRequestForm(),
        "auth/request_password_reset.html",
        send,
        lambda email: _(
            "If an account uses %(email)s, we have sent a link to it to choose a new password. "
            "The link works for one hour. If no message arrives, check your spam folder.",
            email=email,
        ),
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def reset_password(token: str):
    secret_key = current_app.config["SECRET_KEY"]
    if accounts.account_for_reset_token(db_session(), secret_key, token) is None:
        return _no_store((render_template("auth/reset_link_invalid.html"), 400))
    form = PasswordResetForm()
    if form.validate_on_submit():
        with domain_errors(form) as attempt:
            accounts.complete_password_reset(
                db_session(), secret_key, token, form.new_password.data, request_now()
            )
        if attempt.ok:
            logout_user()
            session.clear()
            flash(_("Your password has been changed. Sign in with your new password."), "success")
            return redirect(url_for("auth.sign_in"))
    return _no_store(render_template("auth/reset_password.html", form=form, token=token))
