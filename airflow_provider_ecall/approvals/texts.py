"""The texts of an approval by SMS: the request (subject, short body, numbered options,
reference code, link), how a reply is read, and the answer to the responder.

A request text never fails on content: it is shortened to ``max_pages`` SMS pages — the
body first, then the subject and the option labels, then the link — and whatever still does
not fit is cut to eCall's limit.

>>> print(request_text(ApprovalRequest("Deploy?", None, ("Approve", "Reject"), "K7Q2")))
Deploy?
Reply with a number (ref K7Q2):
1 Approve
2 Reject
>>> read_reply("k7q2 1", ("Approve", "Reject"), multiple=False, code="K7Q2")
('Approve',)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from airflow_provider_ecall.client.lengths import measure, truncate

#: The longest an option label is shown before it is shortened (when the text is too long).
SHORT_LABEL: Final = 24
_WORDS: Final = re.compile(r"[^\w]+", re.UNICODE)
_SPACES: Final = re.compile(r"\s+")


class ReplyUnreadable(ValueError):
    """A reply that names no option of the request (or several where one is asked); the
    message is the refusal's reason, fit for the responder."""


@dataclass(frozen=True)
class ApprovalRequest:
    """What an approval SMS says.

    :param subject: the request's subject (rendered).
    :param body: its details (rendered; Markdown is sent as written), or None.
    :param options: the options, in the request's order (numbered from 1).
    :param code: the request's short code
        (:func:`~airflow_provider_ecall.approvals.ids.short_code`).
    :param link: the Required Actions page, when the UI's address is known.
    :param multiple: whether several options may be chosen.
    """

    subject: str
    body: str | None
    options: Sequence[str]
    code: str
    link: str | None = None
    multiple: bool = False


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _compose(request: ApprovalRequest, body: str, subject: str, labels: Sequence[str]) -> str:
    verb = "one or more numbers" if request.multiple else "a number"
    lines = [subject] + ([body] if body else []) + [f"Reply with {verb} (ref {request.code}):"]
    lines += [f"{number} {label}" for number, label in enumerate(labels, 1)]
    if request.link:
        lines.append(request.link)
    return "\n".join(lines)


def _fits(text: str, max_pages: int) -> bool:
    length = measure(text)
    return length.fits and length.pages <= max_pages


def request_text(request: ApprovalRequest, *, max_pages: int = 2) -> str:
    """The SMS that asks for an answer, within ``max_pages`` pages when it can be.

    :param request: what to ask.
    :param max_pages: the most SMS pages (1-10) the text may take.
    """
    subject = _one_line(request.subject) or "Approval requested"
    body = (request.body or "").strip()
    labels = [_one_line(option) for option in request.options]
    text = _compose(request, body, subject, labels)
    while body and not _fits(text, max_pages):  # the body gives way first, word by word
        body = truncate(body, max(3, len(body) - max(8, len(body) // 4))) if len(body) > 12 else ""
        text = _compose(request, body, subject, labels)
    if not _fits(text, max_pages):
        subject = truncate(subject, 60)
        labels = [truncate(label, SHORT_LABEL) for label in labels]
        text = _compose(request, body, subject, labels)
    if not _fits(text, max_pages) and request.link:
        request = ApprovalRequest(request.subject, None, request.options, request.code)
        text = _compose(request, body, subject, labels)
    return truncate(text)


def read_reply(text: str, options: Sequence[str], *, multiple: bool, code: str) -> tuple[str, ...]:
    """The options a reply chooses: their numbers (``"1"``, ``"2 3"``) or one option's name
    (``"approve"``), the request's code anywhere in it or not at all.

    :param text: the reply as received.
    :param options: the request's options.
    :param multiple: whether several may be chosen.
    :param code: the request's short code (ignored where it appears).
    :raises ReplyUnreadable: no option named, a number out of range, or several where one
        is asked.
    """
    words = [w for w in _WORDS.split(text) if w and w.upper() != code.upper()]
    if not words:
        raise ReplyUnreadable(f"reply with a number from 1 to {len(options)}")
    if all(w.isdigit() and w.isascii() for w in words):
        numbers = list(dict.fromkeys(int(w) for w in words))
        if any(not 1 <= n <= len(options) for n in numbers):
            raise ReplyUnreadable(f"reply with a number from 1 to {len(options)}")
        chosen = tuple(options[n - 1] for n in numbers)
    else:
        said = " ".join(words).casefold()
        named = [option for option in options if _one_line(option).casefold() == said]
        if not named:
            raise ReplyUnreadable(f"reply with a number from 1 to {len(options)}")
        chosen = (named[0],)
    if len(chosen) > 1 and not multiple:
        raise ReplyUnreadable("choose one option only")
    return chosen


def confirmation(chosen: Sequence[str], what: str, user_name: str) -> str:
    """The SMS that confirms a recorded answer, e.g. ``Approve: deploy_prod, by alice``."""
    return truncate(f"{', '.join(chosen)}: {what}, by {user_name}", 300)


def refusal(reason: str, what: str | None = None) -> str:
    """The SMS that says an answer was not recorded, and why."""
    about = f" ({what})" if what else ""
    return truncate(f"Not recorded{about}: {reason}", 300)


def reminder_text(request: ApprovalRequest, number: int, *, max_pages: int = 2) -> str:
    """The reminder SMS: the request again (options, code, link), without its body, its
    subject headed ``Reminder <number>:``."""
    subject = f"Reminder {number}: {_one_line(request.subject) or 'Approval requested'}"
    again = ApprovalRequest(
        subject, None, request.options, request.code, request.link, request.multiple
    )
    return request_text(again, max_pages=max_pages)


def escalation_text(subject: str, code: str) -> str:
    """The voice call's text: what waits, its code spelt out, where to answer."""
    spelt = " ".join(code)
    said = _one_line(subject).rstrip(" .")
    ending = "" if said.endswith(("?", "!")) else "."
    return truncate(
        f"An approval is waiting for your answer: {said}{ending} "
        f"Its reference is {spelt}. Please answer the SMS or in Airflow.",
        1000,
    )
