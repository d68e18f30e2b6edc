"""TaskRequest: the caller's body as it really arrives (protocol.md §2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.request import DataHandler, Request

import pytest
from pagesmith_contracts import (
    Check,
    DataUriError,
    TaskRequest,
    TaskSubmittedV1,
    decode_data_uri,
    decode_event,
    make_task_ref,
    safe_file_name,
)
from pydantic import ValidationError

from tests.support.fixtures import TDS_TASKS

UID = b"106630282732699122392651063533108253119710741111654071784805512805215408107756"


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "student@example.com",
        "secret": "s",
        "task": "ShareVolume",
        "round": 1,
        "nonce": "019a2530-e570-7496-8bf5-46d73aa1848c",
        "brief": "\nBuild a page.\n",
        "checks": ["index.html has a <title>"],
        "evaluation_url": "http://localhost:8787/evaluate",
        "attachments": [],
    }
    values.update(overrides)
    return values


def parse(**overrides: Any) -> TaskRequest:
    """Validate from JSON text, as the gateway does."""
    return TaskRequest.model_validate_json(json.dumps(body(**overrides)))


def data_uri(data: bytes, media_type: str = "text/plain") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def test_a_minimal_request_validates() -> None:
    req = parse()
    assert req.round == 1
    assert req.brief == "\nBuild a page.\n"  # whitespace kept
    assert req.secret.get_secret_value() == "s"
    assert "'s'" not in repr(req)


# --- checks ---------------------------------------------------------------------------------

JS_CHECK = '!!document.querySelector("script").textContent.includes("fetch(")'
BACKTICKS = "document.body.innerText.includes(`Total: ${total}`)"


def test_sentence_checks() -> None:
    assert parse(checks=["a", " b "]).normalised_checks() == (
        Check(text="a", js=None),
        Check(text=" b ", js=None),
    )


def test_js_object_checks() -> None:
    req = parse(checks=[{"js": "document.title === 'x'"}])
    assert req.normalised_checks() == (Check(text="document.title === 'x'", js=True),)


def test_mixed_check_shapes_keep_order_and_literal_text() -> None:
    checks = [
        "index.html <title> contains the entityName from data.json",
        {"js": 'document.querySelector("#total-sales") !== null'},
        JS_CHECK,
        {"js": BACKTICKS},
        "  leading and trailing spaces\n",
    ]
    assert parse(checks=checks).normalised_checks() == (
        Check(text=str(checks[0]), js=None),
        Check(text='document.querySelector("#total-sales") !== null', js=True),
        Check(text=JS_CHECK, js=None),
        Check(text=BACKTICKS, js=True),
        Check(text="  leading and trailing spaces\n", js=None),
    )


@pytest.mark.parametrize(
    "checks",
    [[""], [{"js": ""}], [{"js": "x", "extra": 1}], [{"code": "x"}], [42], [None], "a string"],
)
def test_bad_checks_are_refused(checks: Any) -> None:
    with pytest.raises(ValidationError):
        parse(checks=checks)


@pytest.mark.parametrize("checks", [None, []])
def test_checks_may_be_null_or_empty(checks: Any) -> None:
    assert parse(checks=checks).normalised_checks() == ()


# --- round ----------------------------------------------------------------------------------


@pytest.mark.parametrize("round", [1, 2])
def test_round_is_one_or_two(round: int) -> None:
    req = parse(round=round)
    assert req.round == round
    assert type(req.round) is int


@pytest.mark.parametrize("round", ["1", "2", 1.0, 2.0, True, False, 3, 0, -1, None, [1]])
def test_round_must_be_a_json_integer_one_or_two(round: Any) -> None:
    with pytest.raises(ValidationError) as info:
        parse(round=round)
    assert [e["loc"] for e in info.value.errors()] == [("round",)]


def test_round_is_required() -> None:
    values = body()
    del values["round"]
    with pytest.raises(ValidationError):
        TaskRequest.model_validate_json(json.dumps(values))


# --- required fields and their shapes -------------------------------------------------------


@pytest.mark.parametrize("field", ["email", "secret", "task", "nonce", "brief", "evaluation_url"])
def test_required_fields(field: str) -> None:
    values = body()
    del values[field]
    with pytest.raises(ValidationError):
        TaskRequest.model_validate_json(json.dumps(values))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a b@example.com"),
        ("task", ""),
        ("task", "   "),
        ("nonce", ""),
        ("brief", ""),
        ("email", 42),
    ],
)
def test_bad_values_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        parse(**{field: value})


def test_unknown_fields_are_ignored() -> None:
    assert parse(extra_field="x").task == "ShareVolume"


# --- evaluation_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8787/evaluate",
        "https://Example.COM:443/a%20b/./c?x=1&y=%2F#frag",
        "https://example.com",
        "https://example.com/a b",
    ],
)
def test_evaluation_url_is_kept_verbatim(url: str) -> None:
    # It is echoed back and called as sent; pydantic would normalise case, ports and dots.
    assert parse(evaluation_url=url).evaluation_url == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "mailto:a@example.com",
        "not a url",
        "/relative",
        "http://",
        "https://exa mple.com/",
    ],
)
def test_evaluation_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError):
        parse(evaluation_url=url)


# --- attachments ----------------------------------------------------------------------------


def test_attachments_may_be_missing_or_null() -> None:
    values = body()
    del values["attachments"]
    assert TaskRequest.model_validate_json(json.dumps(values)).decoded_attachments() == ()
    assert parse(attachments=None).decoded_attachments() == ()


def test_attachments_decode_to_bytes_with_their_media_type() -> None:
    png = bytes(range(256))
    req = parse(
        attachments=[
            {"name": "uid.txt", "url": data_uri(UID)},
            {"name": "pixel.png", "url": data_uri(png, "image/png")},
            {"name": "sales.csv", "url": "data:text/csv,region%2Csales%0Aeast%2C10%0A"},
        ]
    )
    decoded = req.decoded_attachments()
    assert [(a.name, a.media_type, a.data) for a in decoded] == [
        ("uid.txt", "text/plain", UID),
        ("pixel.png", "image/png", png),
        ("sales.csv", "text/csv", b"region,sales\neast,10\n"),
    ]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path/data.json", "data.json"),
        ("C:\\Users\\x\\notes.md", "notes.md"),
        ("a b.csv", "a-b.csv"),
        ("données.csv", "donnees.csv"),
        ("ｄａｔａ.ｊｓｏｎ", "data.json"),
        ("日本.txt", "file.txt"),
        ("..hidden", "hidden"),
        (".env", "env"),
        ("report (final).pdf", "report-final-.pdf"),
        ("x" * 200 + ".txt", "x" * 116 + ".txt"),
    ],
)
def test_attachment_names_are_reduced_to_safe_base_names(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe
    req = parse(attachments=[{"name": name, "url": data_uri(b"x")}])
    assert [a.name for a in req.decoded_attachments()] == [safe]


@pytest.mark.parametrize("name", ["..", "...", "/", "a/", "日本", "--", "", " "])
def test_names_with_nothing_usable_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        parse(attachments=[{"name": name, "url": data_uri(b"x")}])


def test_duplicate_names_are_renamed() -> None:
    names = ["data.csv", "data.csv", "DATA.CSV", "sub/data.csv", "README", "README", "data-2.csv"]
    req = parse(attachments=[{"name": n, "url": data_uri(n.encode())} for n in names])
    decoded = req.decoded_attachments()
    assert [a.name for a in decoded] == [
        "data.csv",
        "data-2.csv",
        "DATA-3.CSV",
        "data-4.csv",
        "README",
        "README-2",
        "data-2-2.csv",
    ]
    assert [a.data for a in decoded] == [n.encode() for n in names]  # bytes follow their names
    assert len({a.name.lower() for a in decoded}) == len(names)


@pytest.mark.parametrize(
    ("uri", "media_type", "data"),
    [
        ("data:text/plain;base64,aGVsbG8=", "text/plain", b"hello"),
        ("data:text/plain;base64,aGVsbG8", "text/plain", b"hello"),  # padding left off
        ("data:TEXT/Plain;BASE64,aGVsbG8=", "text/plain", b"hello"),
        ("data:text/plain;charset=utf-8;base64,aGk=", "text/plain", b"hi"),
        ("data:;base64,aGk=", "text/plain", b"hi"),
        ("data:,hello%20world", "text/plain", b"hello world"),
        ("data:text/csv,a%2Cb%0A1%2C2", "text/csv", b"a,b\n1,2"),
        ("data:application/json,%7B%22a%22%3A1%7D", "application/json", b'{"a":1}'),
        ("data:text/plain;base64,aGVs\r\n bG8g\td29y\nbGQ=", "text/plain", b"hello world"),
        ("data:text/plain;base64,aGVsbG8%3D", "text/plain", b"hello"),  # percent-encoded '='
        ("data:text/plain;base64,aGVs%0AbG8=", "text/plain", b"hello"),
        ("data:text/plain,", "text/plain", b""),
    ],
)
def test_data_uri_decoding(uri: str, media_type: str, data: bytes) -> None:
    assert decode_data_uri(uri) == (media_type, data)


@pytest.mark.parametrize(
    "uri",
    [
        "data:text/plain;base64,!!!!",
        "data:text/plain;base64,a",
        "data:text/plain;base64,aGk=aGk=",
        "data:text/plain;base64,aGVsbG8-",  # urlsafe alphabet is not base64
        "data:text/plain;base64",  # no comma
        "http://example.com/file.txt",
        "https://example.com/data:text/plain,x",
        "file:///etc/passwd",
        "",
    ],
)
def test_bad_data_uris_raise(uri: str) -> None:
    with pytest.raises(DataUriError):
        decode_data_uri(uri)


@pytest.mark.parametrize(
    "url",
    [
        "data:text/plain;base64,!!!!",
        "http://example.com/file.txt",
        "https://example.com/x.csv",
        "file:///etc/passwd",
        "",
    ],
)
def test_bad_attachment_urls_are_refused_at_validation(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse(attachments=[{"name": "a.txt", "url": url}])
    assert info.value.errors()[0]["loc"][:3] == ("attachments", 0, "url")


# --- the real requests ----------------------------------------------------------------------

REAL = sorted(TDS_TASKS.glob("*.request.json"))


def test_the_real_requests_are_there() -> None:
    assert [p.name for p in REAL] == [
        "Analyze.round1.request.json",
        "LLMPages.round1.request.json",
        "ShareVolume.round1.request.json",
    ]


@pytest.mark.parametrize("path", REAL, ids=[p.name.split(".")[0] for p in REAL])
def test_real_requests_validate_and_decode_byte_exact(path: Path) -> None:
    raw = json.loads(path.read_text())
    req = TaskRequest.model_validate_json(path.read_bytes())
    assert (req.email, req.task, req.round, req.nonce) == (
        raw["email"],
        raw["task"],
        raw["round"],
        raw["nonce"],
    )
    assert req.brief == raw["brief"]
    assert req.evaluation_url == raw["evaluation_url"]
    assert [c.text for c in req.normalised_checks()] == raw["checks"]
    decoded = req.decoded_attachments()
    assert [a.name for a in decoded] == [a["name"] for a in raw["attachments"]]
    for attachment, sent in zip(decoded, raw["attachments"], strict=True):
        # The standard library's own data: decoder is the oracle.
        expected = DataHandler().data_open(Request(sent["url"])).read()
        assert attachment.data == expected


def _attachments(task: str) -> dict[str, bytes]:
    req = TaskRequest.model_validate_json((TDS_TASKS / f"{task}.round1.request.json").read_bytes())
    return {a.name: a.data for a in req.decoded_attachments()}


@pytest.mark.parametrize("task", ["LLMPages", "ShareVolume"])
def test_uid_txt_is_the_78_digits_and_no_newline(task: str) -> None:
    uid = _attachments(task)["uid.txt"]
    assert uid == UID
    assert len(uid) == 78
    assert uid.isdigit()


def test_analyze_attachments() -> None:
    files = _attachments("Analyze")
    assert len(files["data.xlsx"]) == 20_348
    assert files["data.xlsx"].startswith(b"PK\x03\x04")  # a zip container, intact
    assert files["execute.py"].startswith(b"import json")


@pytest.mark.parametrize("path", REAL, ids=[p.name.split(".")[0] for p in REAL])
def test_real_requests_survive_the_event_round_trip(path: Path) -> None:
    from datetime import UTC, datetime

    req = TaskRequest.model_validate_json(path.read_bytes())
    task = make_task_ref(
        email=req.email,
        task=req.task,
        round=req.round,
        nonce=req.nonce,
        evaluation_url=req.evaluation_url,
        received_at=datetime.now(UTC),
    )
    event = TaskSubmittedV1(
        source="pagesmith/gateway",
        subject=task.task_id,
        task=task,
        brief=req.brief,
        checks=req.normalised_checks(),
        attachments=req.decoded_attachments(),
    )
    assert decode_event(event.model_dump_json()) == event
